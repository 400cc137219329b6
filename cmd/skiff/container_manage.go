package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/skiffcontainers/skiff/libpod"
	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/spf13/cobra"
)

// containerRefs returns the containers named, or all (or the latest) with --all / --latest.
func containerRefs(rt *libpod.Runtime, args []string, all, latest bool, filter func(*libpod.Container) bool) ([]string, error) {
	if all && latest {
		return nil, fmt.Errorf("--all and --latest cannot be used together: %w", define.ErrInvalidArg)
	}
	if !all && !latest {
		if len(args) == 0 {
			return nil, fmt.Errorf("you must provide at least one container name or ID: %w", define.ErrInvalidArg)
		}
		return args, nil
	}
	if len(args) > 0 {
		return nil, fmt.Errorf("--all and --latest take no container names: %w", define.ErrInvalidArg)
	}
	ctrs, _ := rt.Containers()
	var refs []string
	var newest *libpod.Container
	for _, c := range ctrs {
		if filter != nil && !filter(c) {
			continue
		}
		if latest {
			if newest == nil || c.Config.Created.After(newest.Config.Created) {
				newest = c
			}
			continue
		}
		refs = append(refs, c.ID())
	}
	if newest != nil {
		refs = []string{newest.ID()}
	}
	return refs, nil
}

func newStopCommand(string) *cobra.Command {
	var (
		all, latest, ignore bool
		timeout             uint
	)
	cmd := &cobra.Command{
		Use:   "stop [options] CONTAINER [CONTAINER...]",
		Short: "Stop one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			refs, err := containerRefs(rt, args, all, latest, (*libpod.Container).IsRunning)
			if err != nil {
				return err
			}
			var t *uint
			if cmd.Flags().Changed("time") {
				t = &timeout
			}
			return eachContainer(rt, refs, func(c *libpod.Container) error {
				return c.Stop(cmd.Context(), libpod.StopOptions{Timeout: t})
			}, ignoreMissing(ignore))
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "a", false, "Stop all running containers")
	fl.BoolVarP(&latest, "latest", "l", false, "Act on the latest container podman is aware of")
	fl.BoolVarP(&ignore, "ignore", "i", false, "Ignore errors when a specified container is missing")
	fl.UintVarP(&timeout, "time", "t", 10, "Seconds to wait for stop before killing the container")
	return cmd
}

func newKillCommand(string) *cobra.Command {
	var (
		all, latest bool
		signal      string
	)
	cmd := &cobra.Command{
		Use:   "kill [options] CONTAINER [CONTAINER...]",
		Short: "Kill one or more running containers with a specific signal",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateSignal(signal); err != nil {
				return err
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			refs, err := containerRefs(rt, args, all, latest, (*libpod.Container).IsRunning)
			if err != nil {
				return err
			}
			return eachContainer(rt, refs, func(c *libpod.Container) error { return c.Kill(signal) })
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "a", false, "Signal all running containers")
	fl.BoolVarP(&latest, "latest", "l", false, "Act on the latest container podman is aware of")
	fl.StringVarP(&signal, "signal", "s", "KILL", "Signal to send to the container")
	return cmd
}

// validateSignal accepts a number or a name with or without SIG, as podman does.
func validateSignal(s string) error {
	if n, err := strconv.Atoi(s); err == nil {
		if n > 0 && n < 65 {
			return nil
		}
	} else if _, ok := signalNames[strings.TrimPrefix(strings.ToUpper(s), "SIG")]; ok {
		return nil
	} else if strings.HasPrefix(strings.ToUpper(s), "RTMIN") || strings.HasPrefix(strings.ToUpper(s), "SIGRTMIN") {
		return nil
	}
	return fmt.Errorf("invalid signal: %s: %w", s, define.ErrInvalidArg)
}

var signalNames = map[string]bool{
	"ABRT": true, "ALRM": true, "BUS": true, "CHLD": true, "CONT": true, "FPE": true, "HUP": true, "ILL": true,
	"INT": true, "IO": true, "IOT": true, "KILL": true, "PIPE": true, "POLL": true, "PROF": true, "PWR": true,
	"QUIT": true, "SEGV": true, "STKFLT": true, "STOP": true, "SYS": true, "TERM": true, "TRAP": true,
	"TSTP": true, "TTIN": true, "TTOU": true, "URG": true, "USR1": true, "USR2": true, "VTALRM": true,
	"WINCH": true, "XCPU": true, "XFSZ": true,
}

func newRemoveContainerCommand(use string) *cobra.Command {
	var (
		all, force, ignore, volumes, depend bool
		timeout                             uint
	)
	cmd := &cobra.Command{
		Use:   use + " [options] CONTAINER [CONTAINER...]",
		Short: "Remove one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			refs, err := containerRefs(rt, args, all, false, nil)
			if err != nil {
				return err
			}
			var t *uint
			if cmd.Flags().Changed("time") {
				t = &timeout
			}
			opts := []eachOption{ignoreMissing(ignore || force)}
			if force {
				opts = append(opts, eachOption{onCorrupt: rt.RemoveBroken})
			}
			err = eachContainer(rt, refs, func(c *libpod.Container) error {
				return c.Remove(cmd.Context(), libpod.RemoveOptions{Force: force, Timeout: t, Volumes: volumes})
			}, opts...)
			// podman's rm: 1 when a container does not exist, 2 when one is running without --force.
			switch {
			case errors.Is(err, define.ErrNoSuchCtr):
				return withCode(1, err)
			case errors.Is(err, define.ErrCtrStateInvalid):
				return withCode(2, err)
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "a", false, "Remove all containers")
	fl.BoolVarP(&force, "force", "f", false, "Force removal of a running or unusable container")
	fl.BoolVarP(&ignore, "ignore", "i", false, "Ignore errors when a specified container is missing")
	fl.BoolVarP(&volumes, "volumes", "v", false, "Remove anonymous volumes associated with the container")
	fl.BoolVar(&depend, "depend", false, "Remove container and all containers that depend on the selected container")
	fl.UintVarP(&timeout, "time", "t", 10, "Seconds to wait for stop before killing the container")
	return cmd
}

func newWaitCommand(string) *cobra.Command {
	var (
		conditions []string
		latest     bool
		interval   string
	)
	cmd := &cobra.Command{
		Use:   "wait [options] CONTAINER [CONTAINER...]",
		Short: "Block on one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, cond := range conditions {
				switch cond {
				case "stopped", "exited", "running", "created", "paused", "configured":
				default:
					return fmt.Errorf("unknown container state: %s: %w", cond, define.ErrInvalidArg)
				}
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			refs, err := containerRefs(rt, args, false, latest, nil)
			if err != nil {
				return err
			}
			var last error
			for _, ref := range refs {
				c, err := rt.LookupContainer(ref)
				if err != nil {
					last = err
					continue
				}
				if len(conditions) == 0 || contains(conditions, "stopped") || contains(conditions, "exited") {
					code, err := c.Wait(cmd.Context())
					if err != nil {
						last = err
						continue
					}
					fmt.Println(code)
					continue
				}
				if err := rt.WaitForStatus(cmd.Context(), c.ID(), conditions); err != nil {
					last = err
					continue
				}
				fmt.Println(-1)
			}
			return last
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&conditions, "condition", nil, "Condition to wait on")
	fl.BoolVarP(&latest, "latest", "l", false, "Act on the latest container podman is aware of")
	fl.StringVarP(&interval, "interval", "i", "250ms", "Time Interval to wait before polling for completion")
	return cmd
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func newRestartCommand(string) *cobra.Command {
	var (
		all, latest, onlyRunning bool
		timeout                  uint
	)
	cmd := &cobra.Command{
		Use:   "restart [options] CONTAINER [CONTAINER...]",
		Short: "Restart one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			var filter func(*libpod.Container) bool
			if onlyRunning {
				filter = (*libpod.Container).IsRunning
			}
			refs, err := containerRefs(rt, args, all, latest, filter)
			if err != nil {
				return err
			}
			var t *uint
			if cmd.Flags().Changed("time") {
				t = &timeout
			}
			return eachContainer(rt, refs, func(c *libpod.Container) error {
				if err := c.Stop(cmd.Context(), libpod.StopOptions{Timeout: t}); err != nil {
					return err
				}
				fresh, err := rt.LookupContainer(c.ID())
				if err != nil {
					return err
				}
				_, err = fresh.Start(cmd.Context(), libpod.StartOptions{})
				return err
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "a", false, "Restart all non-running containers")
	fl.BoolVarP(&latest, "latest", "l", false, "Act on the latest container podman is aware of")
	fl.BoolVar(&onlyRunning, "running", false, "Restart only running containers when --all is used")
	fl.UintVarP(&timeout, "time", "t", 10, "Seconds to wait for stop before killing the container")
	return cmd
}

func newPauseCommand(pause bool) *cobra.Command {
	var all bool
	use, short := "pause", "Pause all the processes in one or more containers"
	if !pause {
		use, short = "unpause", "Unpause the processes in one or more containers"
	}
	cmd := &cobra.Command{
		Use:   use + " [options] CONTAINER [CONTAINER...]",
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			want := libpod.StatusRunning
			if !pause {
				want = libpod.StatusPaused
			}
			refs, err := containerRefs(rt, args, all, false, func(c *libpod.Container) bool { return c.State.Status == want })
			if err != nil {
				return err
			}
			return eachContainer(rt, refs, func(c *libpod.Container) error {
				if pause {
					return c.Pause()
				}
				return c.Unpause()
			})
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Act on all containers")
	return cmd
}

func newRenameCommand(string) *cobra.Command {
	return &cobra.Command{
		Use:   "rename CONTAINER NAME",
		Short: "Rename an existing container",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			c, err := rt.LookupContainer(args[0])
			if err != nil {
				return err
			}
			return c.Rename(args[1])
		},
	}
}

func newContainerExistsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "exists CONTAINER",
		Short: "Check if a container exists in local storage",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			if _, err := rt.LookupContainer(args[0]); err != nil {
				if errors.Is(err, define.ErrNoSuchCtr) {
					return withCode(1, nil)
				}
				return err
			}
			return nil
		},
	}
}

func newCleanupCommand() *cobra.Command {
	var rm bool
	cmd := &cobra.Command{
		Use:    "cleanup [options] CONTAINER",
		Short:  "Clean up network and mountpoints of one or more containers",
		Hidden: false,
		Args:   cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			for _, ref := range args {
				c, err := rt.LookupContainer(ref)
				if err != nil {
					if errors.Is(err, define.ErrNoSuchCtr) {
						continue // removed already (run --rm did it)
					}
					return err
				}
				if err := c.Cleanup(cmd.Context()); err != nil && !errors.Is(err, define.ErrNoSuchCtr) {
					return err
				}
				if rm {
					if err := c.Remove(cmd.Context(), libpod.RemoveOptions{}); err != nil && !errors.Is(err, define.ErrNoSuchCtr) {
						return err
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&rm, "rm", false, "After cleanup, remove the container entirely")
	return cmd
}

// ignoreMissing makes eachContainer skip names that match no container (--ignore).
func ignoreMissing(ignore bool) eachOption { return eachOption{ignoreMissing: ignore} }

type eachOption struct {
	ignoreMissing bool
	// onCorrupt handles a name whose state document is corrupt; returning nil means it was dealt with.
	onCorrupt func(ref string) error
}
