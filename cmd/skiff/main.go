// Command skiff is a daemonless, rootless container engine whose command line is podman's.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/skiffcontainers/skiff/libpod"
	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/spf13/cobra"
	"go.podman.io/storage/pkg/reexec"

	_ "github.com/skiffcontainers/skiff/rootless" // the preamble must run in every skiff process
)

// globalOptions are podman's global flags that skiff honours.
type globalOptions struct {
	libpod.RuntimeOptions
	LogLevel string
}

var global globalOptions

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "skiff [options]",
		Short:         "Manage pods, containers and images",
		Long:          "skiff: a daemonless, rootless container engine with podman's command line",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
		Args:          noArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return setupLogging(global.LogLevel)
		},
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: true},
	}
	root.SetVersionTemplate("skiff version {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&global.Storage.Root, "root", "", "Path to the graph root directory where images and containers are stored")
	pf.StringVar(&global.Storage.RunRoot, "runroot", "", "Path to the 'run directory' where all state information is stored")
	pf.StringVar(&global.Storage.Driver, "storage-driver", "", "Select which storage driver is used to manage storage of images and containers")
	pf.StringArrayVar(&global.Storage.DriverOpts, "storage-opt", nil, "Used to pass an option to the storage driver")
	pf.StringVar(&global.OCIRuntime, "runtime", "", "Path to the OCI-compatible binary used to run containers")
	pf.StringVar(&global.CgroupManager, "cgroup-manager", "", "Cgroup manager to use (\"cgroupfs\"|\"systemd\")")
	pf.StringVar(&global.TmpDir, "tmpdir", "", "Path to the tmp directory for libpod state content")
	pf.StringVar(&global.EventsBackend, "events-backend", "", "Events backend to use (\"file\"|\"journald\"|\"none\")")
	pf.StringVar(&global.LogLevel, "log-level", "warn", "Log messages above specified level (trace, debug, info, warn, error, fatal, panic)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nSee '%s --help'", err, c.CommandPath())
	})
	addCommands(root)
	return root
}

func setupLogging(level string) error {
	lvl, err := logrus.ParseLevel(level)
	if err != nil {
		return fmt.Errorf("log level %q: %w", level, define.ErrInvalidArg)
	}
	logrus.SetLevel(lvl)
	return nil
}

// noArgs refuses positional arguments with podman's wording.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unrecognized command `%s %s`\nTry '%s --help' for more information", cmd.CommandPath(), args[0], cmd.CommandPath())
	}
	return nil
}

// exitError carries an exit code other than 125 (rmi's 1 and 2, exists' 1, a container's own).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// withCode makes err exit with code instead of 125; a nil err exits silently with code.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

func main() {
	// containers/storage runs some work (untar into a chroot) in a re-executed copy of this binary.
	if reexec.Init() {
		return
	}
	if path := os.Getenv("SKIFF_CPUPROFILE"); path != "" {
		stop := startProfile(path)
		defer stop()
	}
	root := newRootCommand()
	ctx := context.Background()
	err := root.ExecuteContext(ctx)
	code := report(err)
	if code != 0 {
		os.Exit(code)
	}
}

// report prints err as podman does, on one line, and returns the exit code.
func report(err error) int {
	if err == nil {
		return 0
	}
	code := define.ExitEngine
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	msg := err.Error()
	// The flag error's "See --help" hint stays on its own line, as in podman; everything else is one line.
	hint := ""
	if i := strings.Index(msg, "\nSee '"); i >= 0 {
		msg, hint = msg[:i], msg[i:]
	}
	msg = oneLine(msg)
	fmt.Fprintf(os.Stderr, "Error: %s%s\n", msg, hint)
	return code
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n\t* ", "; ")
	s = strings.ReplaceAll(s, "\n\t", " ")
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.TrimSpace(s)
}
