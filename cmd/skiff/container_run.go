package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/skiffcontainers/skiff/libpod"
	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/libpod/shim"
	"github.com/skiffcontainers/skiff/libpod/state"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newCreateCommand(string) *cobra.Command {
	var f createFlags
	cmd := &cobra.Command{
		Use:   "create [options] IMAGE [COMMAND [ARG...]]",
		Short: "Create but do not start a container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := f.options(cmd, args)
			if err != nil {
				return err
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			c, err := rt.CreateContainer(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Println(c.ID())
			return nil
		},
	}
	cmd.Flags().SetInterspersed(false)
	f.register(cmd.Flags())
	return cmd
}

type runFlags struct {
	createFlags
	detach     bool
	detachKeys string
	sigProxy   bool
	attach     []string
}

func newRunCommand(string) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [options] IMAGE [COMMAND [ARG...]]",
		Short: "Run a command in a new container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := f.options(cmd, args)
			if err != nil {
				return err
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			c, err := rt.CreateContainer(cmd.Context(), o)
			if err != nil {
				return err
			}
			if f.detach {
				if _, err := c.Start(cmd.Context(), libpod.StartOptions{}); err != nil {
					return startError(cmd.Context(), c, err)
				}
				fmt.Println(c.ID())
				return nil
			}
			return runAttached(cmd.Context(), c, attachSettings{
				stdin: f.interactive, tty: f.tty, detachKeys: f.detachKeys, sigProxy: f.sigProxy, streams: f.attach,
			})
		},
	}
	cmd.Flags().SetInterspersed(false)
	f.register(cmd.Flags())
	fl := cmd.Flags()
	fl.BoolVarP(&f.detach, "detach", "d", false, "Run container in background and print container ID")
	fl.StringVar(&f.detachKeys, "detach-keys", "ctrl-p,ctrl-q", "Override the key sequence for detaching a container. Format is a single character [a-Z] or a comma separated sequence of `ctrl-<value>`, where `<value>` is one of: `a-cf`, `@`, `^`, `[`, `\\`, `]`, `^` or `_`")
	fl.BoolVar(&f.sigProxy, "sig-proxy", true, "Proxy received signals to the process")
	fl.StringArrayVarP(&f.attach, "attach", "a", nil, "Attach to STDIN, STDOUT or STDERR")
	return cmd
}

type attachSettings struct {
	stdin, tty bool
	detachKeys string
	sigProxy   bool
	streams    []string // --attach: stdin, stdout, stderr; empty means all that apply
}

// runAttached starts a created container with the terminal attached, waits for it, cleans it up (and removes
// it with --rm) and exits with its exit code.
func runAttached(ctx context.Context, c *libpod.Container, a attachSettings) error {
	keys, err := shim.ParseDetachKeys(a.detachKeys)
	if err != nil {
		return fmt.Errorf("%w: %w", err, define.ErrInvalidArg)
	}
	streams := shim.Streams{Stdout: os.Stdout, Stderr: os.Stderr, Terminal: a.tty, DetachKeys: keys}
	if a.stdin {
		streams.Stdin = os.Stdin
	}
	if len(a.streams) > 0 {
		want := map[string]bool{}
		for _, s := range a.streams {
			want[strings.ToLower(s)] = true
		}
		if !want["stdout"] {
			streams.Stdout = nil
		}
		if !want["stderr"] {
			streams.Stderr = nil
		}
		if !want["stdin"] {
			streams.Stdin = nil
		}
	}
	restore := func() {}
	if a.tty && a.stdin && term.IsTerminal(int(os.Stdin.Fd())) {
		if old, err := term.MakeRaw(int(os.Stdin.Fd())); err == nil {
			restore = func() { _ = term.Restore(int(os.Stdin.Fd()), old) }
		}
	}
	defer restore()
	if a.tty && term.IsTerminal(int(os.Stdout.Fd())) {
		streams.Resize = watchResize(ctx, int(os.Stdout.Fd()))
	}
	att, err := c.Start(ctx, libpod.StartOptions{Attach: &streams, CleanupByCaller: true})
	if err != nil {
		restore()
		return startError(ctx, c, err)
	}
	if a.sigProxy && !a.tty {
		stop := proxySignals(c)
		defer stop()
	}
	err = att.Wait(ctx)
	restore()
	if errors.Is(err, shim.ErrDetached) {
		return nil
	}
	code, werr := c.Wait(ctx)
	if werr != nil {
		return werr
	}
	// Clean up now rather than leave it to the shim's cleanup call: with --rm the container must be gone when
	// run returns.
	if err := c.Cleanup(ctx); err != nil && !errors.Is(err, define.ErrNoSuchCtr) {
		return err
	}
	if code != 0 {
		return withCode(code, nil)
	}
	return nil
}

// startError gives a failed start podman's exit code (126 cannot invoke, 127 not found) and removes a --rm
// container that never ran.
func startError(ctx context.Context, c *libpod.Container, err error) error {
	if c.Config.Remove {
		_ = c.Remove(ctx, libpod.RemoveOptions{Force: true})
	}
	var rerr *shim.RuntimeError
	if errors.As(err, &rerr) {
		return withCode(rerr.ExitCode(), err)
	}
	if errors.Is(err, define.ErrCannotStart) {
		return withCode(define.ExitCannotInvoke, err)
	}
	return err
}

// watchResize sends the terminal's size now and at every SIGWINCH.
func watchResize(ctx context.Context, fd int) <-chan shim.Size {
	ch := make(chan shim.Size, 1)
	send := func() {
		if w, h, err := term.GetSize(fd); err == nil {
			select {
			case ch <- shim.Size{Rows: uint16(h), Cols: uint16(w)}:
			default:
			}
		}
	}
	send()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGWINCH)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				send()
			}
		}
	}()
	return ch
}

// proxySignals forwards the signals skiff receives to the container, as podman's --sig-proxy does.
func proxySignals(c *libpod.Container) func() {
	sig := make(chan os.Signal, 8)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sig:
				if n, ok := s.(syscall.Signal); ok {
					_ = c.Kill(fmt.Sprint(int(n)))
				}
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(sig); close(done) }
}

func newStartCommand(string) *cobra.Command {
	var (
		attach, interactive bool
		detachKeys          string
		sigProxy            bool
	)
	cmd := &cobra.Command{
		Use:   "start [options] CONTAINER [CONTAINER...]",
		Short: "Start one or more containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if attach && len(args) > 1 {
				return fmt.Errorf("you cannot start and attach multiple containers at once: %w", define.ErrInvalidArg)
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			if attach {
				c, err := rt.LookupContainer(args[0])
				if err != nil {
					return err
				}
				return runAttached(cmd.Context(), c, attachSettings{stdin: interactive, tty: c.Config.Spec.Terminal, detachKeys: detachKeys, sigProxy: sigProxy})
			}
			return eachContainer(rt, args, func(c *libpod.Container) error {
				if _, err := c.Start(cmd.Context(), libpod.StartOptions{}); err != nil {
					return startError(cmd.Context(), c, err)
				}
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&attach, "attach", "a", false, "Attach container's STDOUT and STDERR")
	fl.BoolVarP(&interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	fl.StringVar(&detachKeys, "detach-keys", "ctrl-p,ctrl-q", "Select the key sequence for detaching a container")
	fl.BoolVar(&sigProxy, "sig-proxy", true, "Proxy received signals to the process")
	return cmd
}

// eachContainer runs fn on every named container and prints each name as podman does; it reports every
// failure and exits with the last one.
func eachContainer(rt *libpod.Runtime, refs []string, fn func(*libpod.Container) error, opts ...eachOption) error {
	var ignore bool
	var onCorrupt func(string) error
	for _, o := range opts {
		ignore = ignore || o.ignoreMissing
		if o.onCorrupt != nil {
			onCorrupt = o.onCorrupt
		}
	}
	var last error
	for _, ref := range refs {
		c, err := rt.LookupContainer(ref)
		if err == nil {
			err = fn(c)
		} else if onCorrupt != nil && errors.Is(err, state.ErrCorrupt) {
			if cerr := onCorrupt(ref); cerr == nil {
				err = nil
			}
		}
		if err != nil && ignore && errors.Is(err, define.ErrNoSuchCtr) {
			continue
		}
		if err != nil {
			if last != nil {
				fmt.Fprintln(os.Stderr, "Error: "+oneLine(last.Error()))
			}
			last = err
			continue
		}
		fmt.Println(ref)
	}
	return last
}
