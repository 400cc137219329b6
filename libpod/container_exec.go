package libpod

import (
	"context"
	"encoding/json"
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
	"github.com/skiffcontainers/skiff/libpod/shim"
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
		// podman exits 255 here, not 125.
		return 255, fmt.Errorf("can only create exec sessions on running containers: container state improper: %w", define.ErrCtrStateInvalid)
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
	// crun writes its own errors to --log, so the process's stderr carries only the process's output.
	logFile := procFile.Name() + ".log"
	defer os.Remove(logFile)
	args := append(rt.GlobalArgs(), "--log", logFile, "--log-format", "json", "exec", "--process", procFile.Name())
	if o.Tty {
		args = append(args, "--tty")
	}
	if o.Detach {
		args = append(args, "--detach", "--pid-file", filepath.Join(c.RunDir(), "exec-"+strconv.Itoa(os.Getpid())+".pid"))
	}
	args = append(args, c.Config.ID)
	cmd := exec.CommandContext(ctx, rt.Path, args...)
	if o.Detach {
		// The detached process must not hold the CLI's output open, or the CLI would wait for it.
		o.Stdin, o.Stdout, o.Stderr, o.Interactive = nil, nil, nil, false
	}
	if o.Interactive {
		cmd.Stdin = o.Stdin
	}
	cmd.Stdout = o.Stdout
	var held *holdRuntimeError
	if o.Stderr != nil {
		held = &holdRuntimeError{w: o.Stderr}
		cmd.Stderr = held
	}
	err = cmd.Run()
	runtimeErr := ""
	if err != nil {
		runtimeErr = runtimeLogError(logFile)
	}
	if held != nil {
		held.finish(runtimeErr != "")
	}
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if runtimeErr != "" {
			rc, text := shim.ClassifyRuntimeError(runtimeErr)
			return rc, fmt.Errorf("%s: %s", rt.Name, text)
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

// runtimeLogError is the last error the runtime wrote to its JSON --log file, or "".
func runtimeLogError(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	msg := ""
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var entry struct {
			Msg   string `json:"msg"`
			Level string `json:"level"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Level == "error" {
			msg = entry.Msg
		}
	}
	return msg
}

// holdRuntimeError passes the process's stderr through, except that a first line that looks like the
// runtime's own exec failure (crun's child writes it to the process's stderr too) is held until it is known
// whether the runtime failed; then the one-line "Error:" says it once.
type holdRuntimeError struct {
	w       io.Writer
	held    []byte
	started bool
}

func (h *holdRuntimeError) Write(p []byte) (int, error) {
	if !h.started {
		h.started = true
		if looksLikeRuntimeError(p) {
			h.held = append([]byte{}, p...)
			return len(p), nil
		}
	}
	if h.held != nil {
		if _, err := h.w.Write(h.held); err != nil {
			return 0, err
		}
		h.held = nil
	}
	return h.w.Write(p)
}

func (h *holdRuntimeError) finish(runtimeFailed bool) {
	if h.held != nil && !runtimeFailed {
		_, _ = h.w.Write(h.held)
	}
	h.held = nil
}

func looksLikeRuntimeError(p []byte) bool {
	s := string(p)
	return strings.Count(s, "\n") <= 1 && (strings.Contains(s, "executable file") || strings.Contains(s, "open executable") ||
		strings.Contains(s, "Permission denied") || strings.Contains(s, "No such file or directory"))
}
