package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// confirm asks a yes/no question on stdin, as podman's prune commands do without --force. No answer at all
// (stdin closed) is an error, so that a script that forgot --force fails instead of silently doing nothing.
func confirm(question string) (bool, error) {
	fmt.Print(question)
	answer, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && answer == "" {
		fmt.Println()
		return false, fmt.Errorf("no answer on standard input (use --force to skip the question): %w", err)
	}
	a := strings.ToLower(strings.TrimSpace(answer))
	return a == "y" || a == "yes", nil
}
