// Command skiff-shim will own a container's stdio, log, attach socket and exit code, outliving the CLI
// (the containers issue). Until then it only answers --version, so that packaging and `skiff info` can
// find it.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "--version" || os.Args[1] == "version") {
		fmt.Println("skiff-shim version 0.1.0-dev")
		return
	}
	fmt.Fprintln(os.Stderr, "skiff-shim: containers are not implemented yet")
	os.Exit(125)
}
