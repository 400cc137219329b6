// Command skiff-shim supervises one container, conmon-style: the skiff CLI starts it once per container
// (argv: skiff-shim RUNDIR/shim.json, a sync pipe on fd 3) and it outlives the CLI. It runs
// `RUNTIME create`, reports the container's pid on the sync pipe, copies the container's output to the
// k8s-file log and to the clients of its attach socket, reaps the container, writes RUNDIR/exit.json and
// then execs the configured exit command (`skiff container cleanup ID`), which does the storage and state
// work so that this process stays small. libpod/shim has the CLI's side and the wire formats.
//
// Its memory is paid per running container: standard library and golang.org/x/sys only
// (TestShimDependencies enforces it).
package main

import (
	"fmt"
	"os"

	"github.com/skiffcontainers/skiff/libpod/shim"
)

// version is set at link time (-ldflags "-X main.version=...").
var version = "0.1.0-dev"

func main() {
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "version") {
		fmt.Println("skiff-shim version " + version)
		return
	}
	if len(os.Args) != 2 || len(os.Args[1]) == 0 || os.Args[1][0] == '-' {
		fmt.Fprintln(os.Stderr, "usage: skiff-shim RUNDIR/shim.json   (started by skiff, with a sync pipe on fd 3)")
		os.Exit(125)
	}
	cfg, err := shim.ReadConfig(os.Args[1])
	s := &supervisor{sync: openSyncPipe()}
	if err != nil {
		s.fail(err)
		os.Exit(1)
	}
	s.cfg = cfg
	os.Exit(s.run())
}
