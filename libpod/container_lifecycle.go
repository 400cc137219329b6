package libpod

import (
	"context"
	"errors"
	"fmt"
	securejoin "github.com/cyphar/filepath-securejoin"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/libpod/oci"
	"github.com/skiffcontainers/skiff/libpod/shim"
	"github.com/skiffcontainers/skiff/libpod/state"
	"github.com/skiffcontainers/skiff/pkg/spec"
	"go.podman.io/storage"
)

// StartOptions shape a start.
type StartOptions struct {
	// Attach, when set, is connected before the container's process starts, so that no output is lost;
	// Start then returns once it is connected and the process runs, and Attached streams until the end.
	Attach *shim.Streams
	// CleanupByCaller: the caller waits for the container and calls Cleanup itself (a foreground run), so
	// the shim need not start a `container cleanup` that would only repeat the work. Should the caller die
	// first, the shim cleans up as usual.
	CleanupByCaller bool
}

// Attached is a live attach session started by Start.
type Attached struct {
	conn *shim.Conn
}

// Wait streams until the container's output ends or the user detaches (shim.ErrDetached).
func (a *Attached) Wait(ctx context.Context) error {
	if a == nil || a.conn == nil {
		return nil
	}
	return a.conn.Wait(ctx)
}

// Start starts a created or exited container. A running container is left as it is.
func (c *Container) Start(ctx context.Context, o StartOptions) (*Attached, error) {
	l, err := c.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	switch c.State.Status {
	case StatusRunning:
		if o.Attach != nil {
			conn, err := shim.Dial(ctx, c.RunDir(), *o.Attach)
			return &Attached{conn: conn}, err
		}
		return nil, nil
	case StatusPaused:
		return nil, fmt.Errorf("container %s is paused: unpause it instead: %w", c.Name(), define.ErrCtrStateInvalid)
	}
	if c.State.Status == StatusExited && !c.State.CleanedUp {
		if err := c.cleanupLocked(ctx); err != nil {
			return nil, err
		}
	}
	if c.State.Status != StatusInitialized {
		if err := c.init(ctx); err != nil {
			return nil, err
		}
	}
	if o.CleanupByCaller {
		if err := shim.ClaimCleanup(c.RunDir()); err != nil {
			logrus.Debugf("claiming the cleanup of %s: %v", c.Config.ID, err)
		}
	}
	var att *Attached
	if o.Attach != nil {
		conn, err := shim.Dial(ctx, c.RunDir(), *o.Attach)
		if err != nil {
			c.abortStart(err)
			return nil, err
		}
		att = &Attached{conn: conn}
	}
	rt, err := c.rt.ociRuntime(c.Config.OCIRuntime)
	if err == nil {
		err = rt.Start(c.Config.ID)
	}
	if err != nil {
		if att != nil {
			att.conn.Close()
		}
		c.abortStart(err)
		return nil, err
	}
	c.State.Status = StatusRunning
	c.State.StartedAt = time.Now()
	if err := c.save(); err != nil {
		return att, err
	}
	return att, nil
}

// init mounts the rootfs, writes the bundle and has the shim create the runtime container.
func (c *Container) init(ctx context.Context) error {
	runDir := c.RunDir()
	_ = os.RemoveAll(runDir) // leftovers of a previous run: the exit file must not be mistaken for this one's
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return err
	}
	mountpoint, err := c.rt.Store.Mount(c.Config.ID, "")
	if err != nil {
		return fmt.Errorf("mounting container storage: %w", err)
	}
	c.State.Mountpoint = mountpoint
	fail := func(err error) error {
		_, _ = c.rt.Store.Unmount(c.Config.ID, false)
		c.State.Mountpoint = ""
		return err
	}
	opts := c.Config.Spec
	opts.Rootfs = mountpoint
	if opts.Hostname == "" {
		opts.Hostname = c.hostname()
	}
	etcMounts, err := c.writeEtcFiles(opts.Hostname)
	if err != nil {
		return fail(err)
	}
	opts.Mounts = append(etcMounts, opts.Mounts...)
	// podman 4.3 masks /sys/dev/block (containers/common later dropped it); podman is the reference.
	if !opts.Privileged {
		opts.Mask = append(append([]string{}, opts.Mask...), "/sys/dev/block")
	}
	opts.Namespaces.Net = networkNamespace(c.Config.NetworkMode)
	opts.Rootless = c.Config.Rootless
	if !c.Config.Rootless {
		opts.CgroupsPath = "/libpod_parent/libpod-" + c.Config.ID
	}
	if opts.Annotations == nil {
		opts.Annotations = map[string]string{}
	}
	for k, v := range c.Config.Annotations {
		opts.Annotations[k] = v
	}
	if opts.DefaultEnv == nil {
		// containers.conf's env, with TERM=xterm as podman 4.3 always sets it.
		opts.DefaultEnv = append([]string{"TERM=xterm"}, c.rt.Config.Containers.Env.Get()...)
	}
	if err := c.checkWorkDir(mountpoint); err != nil {
		return fail(err)
	}
	g, err := spec.Generate(&opts)
	if err != nil {
		// Create checked the options; what fails now depends on the image's files (an unknown user, say):
		// podman reports these as the command not being invocable.
		return fail(fmt.Errorf("%w: %w", err, define.ErrCannotStart))
	}
	if err := writeJSONFile(filepath.Join(runDir, "config.json"), g); err != nil {
		return fail(err)
	}
	rt, err := c.rt.ociRuntime(c.Config.OCIRuntime)
	if err != nil {
		return fail(err)
	}
	shimPath, err := findShim()
	if err != nil {
		return fail(err)
	}
	cfg := shim.Config{
		ID:          c.Config.ID,
		Runtime:     rt.Path,
		RuntimeArgs: rt.GlobalArgs(),
		Bundle:      runDir,
		RunDir:      runDir,
		LogDriver:   c.Config.LogDriver,
		LogPath:     c.Config.LogPath,
		LogMaxSize:  c.Config.LogMaxSize,
		Terminal:    c.Config.Spec.Terminal,
		Stdin:       c.Config.Spec.Stdin,
		ExitCommand: c.rt.cleanupCommand(c.Config.ID),
	}
	proc, err := shim.Spawn(shimPath, cfg)
	if err != nil {
		_ = rt.Delete(c.Config.ID, true)
		return fail(err)
	}
	c.State.Pid = proc.ContainerPID
	c.State.ShimPid = proc.ShimPID
	if c.Config.ShimPidFile != "" {
		if err := os.WriteFile(c.Config.ShimPidFile, []byte(strconv.Itoa(proc.ShimPID)), 0o644); err != nil {
			logrus.Warnf("writing --conmon-pidfile %s: %v", c.Config.ShimPidFile, err)
		}
	}
	c.State.Error = ""
	c.State.ExitCode = 0
	c.State.OOMKilled = false
	c.State.CleanedUp = false
	c.State.FinishedAt = time.Time{}
	c.State.Status = StatusInitialized
	return c.save()
}

// abortStart undoes init after a failed start and records why.
func (c *Container) abortStart(cause error) {
	if rt, err := c.rt.ociRuntime(c.Config.OCIRuntime); err == nil {
		_ = rt.Delete(c.Config.ID, true)
	}
	_, _ = c.rt.Store.Unmount(c.Config.ID, false)
	c.State.Mountpoint = ""
	c.State.Pid = 0
	c.State.Status = StatusCreated
	c.State.Error = cause.Error()
	_ = c.save()
}

// checkWorkDir makes the image's working directory when it is missing, as podman does, but refuses a
// missing one the user asked for with -w.
func (c *Container) checkWorkDir(rootfs string) error {
	s := c.Config.Spec
	dir := s.WorkDir
	fromUser := dir != ""
	if !fromUser {
		dir = s.ImageConfig.WorkingDir
	}
	if dir == "" || dir == "/" {
		return nil
	}
	resolved, err := securejoin.SecureJoin(rootfs, dir)
	if err != nil {
		return err
	}
	if st, err := os.Stat(resolved); err == nil {
		if !st.IsDir() {
			return fmt.Errorf("workdir %q is not a directory on container %s: %w", dir, c.Config.ID, define.ErrCannotStart)
		}
		return nil
	}
	if fromUser {
		return fmt.Errorf("workdir %q does not exist on container %s: %w", dir, c.Config.ID, define.ErrCannotStart)
	}
	return os.MkdirAll(resolved, 0o755)
}

func (c *Container) hostname() string {
	if c.Config.NetworkMode == "host" {
		if h, err := os.Hostname(); err == nil {
			return h
		}
	}
	return c.Config.ID[:12]
}

func networkNamespace(mode string) string {
	switch {
	case mode == "host":
		return "host"
	case strings.HasPrefix(mode, "ns:"):
		return mode
	}
	return "private"
}

// StopOptions shape a stop.
type StopOptions struct {
	Timeout *uint // seconds before SIGKILL; nil: the container's --stop-timeout
}

// Stop sends the stop signal, then SIGKILL after the timeout, and waits until the container is cleaned up.
// Stopping a container that is not running is not an error.
func (c *Container) Stop(ctx context.Context, o StopOptions) error {
	if c.State.Status != StatusRunning && c.State.Status != StatusPaused {
		return c.Cleanup(ctx)
	}
	timeout := c.Config.StopTimeout
	if o.Timeout != nil {
		timeout = *o.Timeout
	}
	rt, err := c.rt.ociRuntime(c.Config.OCIRuntime)
	if err != nil {
		return err
	}
	if c.State.Status == StatusPaused {
		_ = rt.Resume(c.Config.ID)
	}
	if timeout > 0 {
		if err := rt.Kill(c.Config.ID, c.Config.StopSignal, false); err != nil && !errors.Is(err, oci.ErrNotFound) {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, time.Duration(timeout)*time.Second)
		_, err := shim.WaitExit(wctx, c.RunDir())
		cancel()
		if err == nil {
			return c.Cleanup(ctx)
		}
	}
	// --all needs the container's cgroup to find its processes; without one (rootless on cgroup v1) killing
	// the init is enough: the kernel kills the rest of its PID namespace.
	all := !c.Config.Rootless || cgroupV2()
	if err := rt.Kill(c.Config.ID, "SIGKILL", all); err != nil && !errors.Is(err, oci.ErrNotFound) {
		return err
	}
	if err := c.waitShimExit(ctx, 10*time.Second); err != nil {
		return err
	}
	return c.Cleanup(ctx)
}

// waitShimExit waits for the exit file; a dead shim ends the wait too.
func (c *Container) waitShimExit(ctx context.Context, limit time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		if _, err := shim.ReadExit(c.RunDir()); err == nil {
			return nil
		}
		if c.State.ShimPid > 0 && !processAlive(c.State.ShimPid) {
			return nil
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("container %s did not exit after SIGKILL: %w", c.Name(), wctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Kill sends a signal to the container's process.
func (c *Container) Kill(signal string) error {
	if c.State.Status != StatusRunning && c.State.Status != StatusPaused {
		return fmt.Errorf("can only kill running containers. %s is in state %s: %w", c.Config.ID, c.State.Status, define.ErrCtrStateInvalid)
	}
	rt, err := c.rt.ociRuntime(c.Config.OCIRuntime)
	if err != nil {
		return err
	}
	return rt.Kill(c.Config.ID, signal, false)
}

// Cleanup is what follows an exit: the runtime forgets the container, storage unmounts it, the state
// records the exit code, and a --rm container is removed. The shim runs it through `skiff container cleanup`;
// stop and rm run it too; whoever comes second finds nothing to do.
func (c *Container) Cleanup(ctx context.Context) error {
	l, err := c.lock()
	if err != nil {
		return err
	}
	err = c.cleanupLocked(ctx)
	l.Unlock()
	if err != nil {
		return err
	}
	if c.Config.Remove && c.State.Status == StatusExited {
		err := c.Remove(ctx, RemoveOptions{})
		if errors.Is(err, define.ErrNoSuchCtr) {
			return nil
		}
		return err
	}
	return nil
}

func (c *Container) cleanupLocked(ctx context.Context) error {
	if c.State.CleanedUp || c.State.Status == StatusCreated && c.State.Mountpoint == "" {
		return nil
	}
	if c.State.Status == StatusRunning || c.State.Status == StatusPaused {
		return fmt.Errorf("container %s is running: %w", c.Name(), define.ErrCtrStateInvalid)
	}
	if rt, err := c.rt.ociRuntime(c.Config.OCIRuntime); err == nil {
		if err := rt.Delete(c.Config.ID, true); err != nil {
			return err
		}
	}
	if _, err := c.rt.Store.Unmount(c.Config.ID, false); err != nil && !errors.Is(err, storage.ErrContainerUnknown) && !errors.Is(err, storage.ErrLayerNotMounted) {
		return fmt.Errorf("unmounting container storage: %w", err)
	}
	c.State.Mountpoint = ""
	c.State.Pid = 0
	c.State.ShimPid = 0
	if c.State.Status == StatusInitialized {
		c.State.Status = StatusCreated
	} else {
		c.State.CleanedUp = true
	}
	return c.save()
}

// RemoveOptions shape rm.
type RemoveOptions struct {
	Force   bool
	Timeout *uint
	Volumes bool
}

// Remove deletes the container: its runtime record, its storage and its state.
func (c *Container) Remove(ctx context.Context, o RemoveOptions) error {
	if c.State.Status == StatusRunning || c.State.Status == StatusPaused {
		if !o.Force {
			return fmt.Errorf("cannot remove container %s as it is %s - running or paused containers cannot be removed without force: %w", c.Config.ID, c.State.Status, define.ErrCtrStateInvalid)
		}
		zero := uint(0)
		t := o.Timeout
		if t == nil {
			t = &zero
		}
		if err := c.Stop(ctx, StopOptions{Timeout: t}); err != nil && !errors.Is(err, define.ErrNoSuchCtr) {
			return err
		}
	}
	l, err := c.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	if c.State.Status == StatusRunning || c.State.Status == StatusPaused {
		return fmt.Errorf("container %s started again while being removed: %w", c.Name(), define.ErrCtrStateInvalid)
	}
	if rt, err := c.rt.ociRuntime(c.Config.OCIRuntime); err == nil {
		_ = rt.Delete(c.Config.ID, true)
	}
	if err := c.rt.Store.DeleteContainer(c.Config.ID); err != nil && !errors.Is(err, storage.ErrContainerUnknown) && !errors.Is(err, storage.ErrNotAContainer) {
		// A mount left by a crash: unmount by force and try once more.
		if _, uerr := c.rt.Store.Unmount(c.Config.ID, true); uerr == nil {
			err = c.rt.Store.DeleteContainer(c.Config.ID)
		}
		if err != nil && !errors.Is(err, storage.ErrContainerUnknown) {
			return fmt.Errorf("removing container storage: %w", err)
		}
	}
	if err := c.rt.state.Delete(kindContainer, c.Config.ID, c.Config.Name); err != nil {
		return err
	}
	_ = os.RemoveAll(c.RunDir())
	return nil
}

// Wait blocks until the container exits and returns its exit code.
func (c *Container) Wait(ctx context.Context) (int, error) {
	for {
		switch c.State.Status {
		case StatusExited, StatusStopped:
			return c.State.ExitCode, nil
		case StatusRunning, StatusPaused:
			info, err := shim.WaitExit(ctx, c.RunDir())
			if err != nil {
				// The shim may have died without an exit file; reload tells.
				fresh, lerr := c.rt.loadContainer(c.Config.ID)
				if lerr == nil && fresh.State.Status == StatusExited {
					return fresh.State.ExitCode, nil
				}
				return -1, err
			}
			return info.ExitCode, nil
		}
		// created: wait until someone starts it
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		fresh, err := c.rt.loadContainer(c.Config.ID)
		if err != nil {
			return -1, err
		}
		*c = *fresh
	}
}

// Pause freezes a running container.
func (c *Container) Pause() error {
	return c.setPaused(true)
}

// Unpause thaws a paused container.
func (c *Container) Unpause() error {
	return c.setPaused(false)
}

func (c *Container) setPaused(pause bool) error {
	l, err := c.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	want := StatusRunning
	if pause {
		want = StatusPaused
	}
	from := StatusPaused
	if pause {
		from = StatusRunning
	}
	if c.Config.Rootless && !cgroupV2() {
		if !pause {
			return fmt.Errorf("unpause is not supported for cgroupv1 rootless containers: %w", define.ErrRootless)
		}
		return fmt.Errorf("can not pause containers on rootless containers with cgroup V1 (the freezer needs a cgroup the user owns: use cgroup v2 with delegation): %w", define.ErrRootless)
	}
	if c.State.Status != from {
		if pause && c.State.Status == StatusPaused {
			return fmt.Errorf("%q is already paused: %w", c.Config.ID, define.ErrCtrStateInvalid)
		}
		return fmt.Errorf("%q is not %s, can't %s: %w", c.Config.ID, from, map[bool]string{true: "pause", false: "unpause"}[pause], define.ErrCtrStateInvalid)
	}
	rt, err := c.rt.ociRuntime(c.Config.OCIRuntime)
	if err != nil {
		return err
	}
	if pause {
		err = rt.Pause(c.Config.ID)
	} else {
		err = rt.Resume(c.Config.ID)
	}
	if err != nil {
		return err
	}
	c.State.Status = want
	return c.save()
}

// Rename gives the container a new unique name.
func (c *Container) Rename(newName string) error {
	l, err := c.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	if err := c.rt.state.Rename(kindContainer, c.Config.ID, c.Config.Name, newName); err != nil {
		if errors.Is(err, state.ErrNameInUse) {
			return fmt.Errorf("name %s already in use: %w", newName, define.ErrCtrExists)
		}
		return fmt.Errorf("%w: %w", err, define.ErrInvalidArg)
	}
	_ = c.rt.Store.SetNames(c.Config.ID, []string{newName})
	c.Config.Name = newName
	return c.save()
}
