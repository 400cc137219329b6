package main

import (
	"fmt"
	"os"

	"github.com/skiffcontainers/skiff/libpod"
	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/pkg/env"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newExecCommand(string) *cobra.Command {
	var (
		o                  libpod.ExecOptions
		envs, envFiles     []string
		latest, detachKeys = false, ""
	)
	cmd := &cobra.Command{
		Use:   "exec [options] CONTAINER COMMAND [ARG...]",
		Short: "Run a process in a running container",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !latest {
				return fmt.Errorf("exec requires the name or ID of a container or the --latest flag: %w", define.ErrInvalidArg)
			}
			ref := ""
			if len(args) > 0 {
				ref = args[0]
			}
			if len(args) > 0 {
				o.Cmd = args[1:]
			}
			if latest {
				ref, o.Cmd = "", args
			}
			var err error
			if o.Env, err = env.FromFlags(envs, envFiles); err != nil {
				return fmt.Errorf("%w: %w", err, define.ErrInvalidArg)
			}
			if len(o.Cmd) == 0 {
				return fmt.Errorf("must provide a non-empty command to start an exec session: %w", define.ErrInvalidArg)
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			refs, err := containerRefs(rt, nonEmpty(ref), false, latest, nil)
			if err != nil {
				return err
			}
			c, err := rt.LookupContainer(refs[0])
			if err != nil {
				return err
			}
			o.Stdin, o.Stdout, o.Stderr = os.Stdin, os.Stdout, os.Stderr
			if o.Tty && o.Interactive && term.IsTerminal(int(os.Stdin.Fd())) {
				if old, err := term.MakeRaw(int(os.Stdin.Fd())); err == nil {
					defer term.Restore(int(os.Stdin.Fd()), old)
				}
			}
			code, err := c.Exec(cmd.Context(), o)
			if err != nil {
				return withCode(code, err)
			}
			if o.Detach {
				fmt.Println(libpod.NewExecSessionID())
				return nil
			}
			if code != 0 {
				return withCode(code, nil)
			}
			return nil
		},
	}
	cmd.Flags().SetInterspersed(false)
	fl := cmd.Flags()
	fl.BoolVarP(&o.Detach, "detach", "d", false, "Run the exec session in detached mode (backgrounded)")
	fl.StringVar(&detachKeys, "detach-keys", "", "Select the key sequence for detaching a container")
	fl.StringArrayVarP(&envs, "env", "e", nil, "Set environment variables")
	fl.StringArrayVar(&envFiles, "env-file", nil, "Read in a file of environment variables")
	fl.BoolVarP(&o.Interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	fl.BoolVarP(&latest, "latest", "l", false, "Act on the latest container podman is aware of")
	fl.BoolVar(&o.Privileged, "privileged", false, "Give the process extended Linux capabilities inside the container")
	fl.BoolVarP(&o.Tty, "tty", "t", false, "Allocate a pseudo-TTY. The default is false")
	fl.StringVarP(&o.User, "user", "u", "", "Sets the username or UID used and optionally the groupname or GID for the specified command")
	fl.StringVarP(&o.WorkDir, "workdir", "w", "", "Working directory inside the container")
	return cmd
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
