package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// confirm asks a yes/no question on stdin, as podman's prune commands do without --force.
func confirm(question string) bool {
	fmt.Print(question)
	answer, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && answer == "" {
		return false
	}
	a := strings.ToLower(strings.TrimSpace(answer))
	return a == "y" || a == "yes"
}
