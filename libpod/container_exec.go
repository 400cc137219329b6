package libpod

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/pkg/env"
	"github.com/skiffcontainers/skiff/pkg/spec"
)

// ExecOptions shape an exec.
type ExecOptions struct {
	Cmd         []string
	Env         []string
	WorkDir     string
	User        string
	Tty         bool
	Interactive bool
	Detach      bool
	Privileged  bool
	Stdin       io.Reader
	Stdout      io.Writer
	Stderr      io.Writer
}

// Exec runs a process in the running container with the OCI runtime's exec and returns its exit code:
// 126 when it cannot be invoked, 127 when it is not found, as podman.
func (c *Container) Exec(ctx context.Context, o ExecOptions) (int, error) {
	if c.State.Status != StatusRunning {
		return define.ExitEngine, fmt.Errorf("can only create exec sessions on running containers: container state improper: %w", define.ErrCtrStateInvalid)
	}
	if len(o.Cmd) == 0 {
		return define.ExitEngine, fmt.Errorf("must provide a non-empty command to start an exec session: %w", define.ErrInvalidArg)
	}
	base, err := c.ociSpec()
	if err != nil || base.Process == nil {
		return define.ExitEngine, fmt.Errorf("reading the container's OCI spec: %w", err)
	}
	p := *base.Process
	p.Args = o.Cmd
	p.Terminal = o.Tty
	p.Env = env.Merge(base.Process.Env, o.Env)
	if o.Tty && !hasEnv(o.Env, "TERM") {
		p.Env = env.Merge(p.Env, []string{"TERM=xterm"})
	}
	if o.WorkDir != "" {
		p.Cwd = o.WorkDir
	}
	if o.User != "" {
		uid, gid, groups, home, err := spec.ResolveUser(c.State.Mountpoint, o.User)
		if err != nil {
			return define.ExitEngine, err
		}
		p.User = specs.User{UID: uid, GID: gid, AdditionalGids: groups}
		if home != "" && !hasEnv(o.Env, "HOME") {
			p.Env = env.Merge(p.Env, []string{"HOME=" + home})
		}
	}
	if o.Privileged && base.Process.Capabilities != nil {
		caps := *base.Process.Capabilities
		all := spec.BoundingCapabilities()
		caps.Bounding, caps.Effective, caps.Permitted = all, all, all
		p.Capabilities = &caps
	}
	procFile, err := os.CreateTemp(c.RunDir(), "exec-*.json")
	if err != nil {
		return define.ExitEngine, err
	}
	defer os.Remove(procFile.Name())
	if err := writeJSONFile(procFile.Name(), &p); err != nil {
		return define.ExitEngine, err
	}
	procFile.Close()
	rt, err := c.rt.ociRuntime(c.Config.OCIRuntime)
	if err != nil {
		return define.ExitEngine, err
	}
	args := append(rt.GlobalArgs(), "exec", "--process", procFile.Name())
	if o.Tty {
		args = append(args, "--tty")
	}
	if o.Detach {
		args = append(args, "--detach", "--pid-file", filepath.Join(c.RunDir(), "exec-"+strconv.Itoa(os.Getpid())+".pid"))
	}
	args = append(args, c.Config.ID)
	cmd := exec.CommandContext(ctx, rt.Path, args...)
	if o.Interactive {
		cmd.Stdin = o.Stdin
	}
	cmd.Stdout = o.Stdout
	var stderr strings.Builder
	if o.Stderr != nil {
		cmd.Stderr = io.MultiWriter(o.Stderr, &stderr)
	} else {
		cmd.Stderr = &stderr
	}
	err = cmd.Run()
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		msg := stderr.String()
		switch {
		case strings.Contains(msg, "executable file") && strings.Contains(msg, "not found"),
			strings.Contains(msg, "No such file or directory") && strings.Contains(msg, "exec"):
			return define.ExitCommandNotFnd, nil
		case strings.Contains(msg, "Permission denied") && strings.Contains(msg, "exec"):
			return define.ExitCannotInvoke, nil
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		return code, nil
	}
	return define.ExitEngine, err
}

func hasEnv(list []string, key string) bool {
	for _, kv := range list {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}
