package shim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// CreateTimeout bounds the wait for the shim's report (podman's ContainerCreateTimeout is 240s).
var CreateTimeout = 240 * time.Second

// Spawn writes RunDir/shim.json and starts skiff-shim in a new session, with a sync pipe as its fd 3 and
// its stdio on /dev/null (the CLI's own stdio with the passthrough log driver), then waits until the shim
// reports that `RUNTIME create` succeeded. On return the container is "created" in the runtime; the CLI
// runs `RUNTIME start` itself. A runtime failure is a *RuntimeError (wrapping ErrRuntime) with the
// runtime's message and the podman exit code for it.
//
// The shim stays a child of the calling process until that exits; a goroutine reaps it, so that it never
// lingers as a zombie that looks alive.
func Spawn(shimPath string, cfg Config) (*Process, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// The shim runs in /, so that it does not pin the caller's working directory's mount.
	for _, p := range []*string{&cfg.Bundle, &cfg.RunDir, &cfg.LogPath} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return nil, err
		}
		*p = abs
	}
	if st, err := os.Stat(cfg.RunDir); err != nil {
		return nil, fmt.Errorf("shim run directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("shim run directory %s is not a directory", cfg.RunDir)
	}
	// Leftovers of a previous run would be mistaken for this one's.
	for _, name := range []string{ExitFile, PIDFile, AttachSocket, ConsoleSock, ShimPIDFile} {
		_ = os.Remove(filepath.Join(cfg.RunDir, name))
	}
	data, err := json.Marshal(&cfg)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(cfg.RunDir, ConfigFile)
	if err := WriteFileAtomic(cfgPath, data, 0o600); err != nil {
		return nil, fmt.Errorf("writing shim config: %w", err)
	}

	syncR, syncW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer syncR.Close()
	cmd := exec.Command(shimPath, cfgPath)
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{syncW} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if cfg.EffectiveLogDriver() == LogDriverPassthrough {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		syncW.Close()
		return nil, fmt.Errorf("starting skiff-shim: %w", err)
	}
	syncW.Close()

	type result struct {
		msg SyncMessage
		err error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(syncR).ReadBytes('\n')
		if err != nil && len(line) == 0 {
			ch <- result{err: err}
			return
		}
		var m SyncMessage
		if err := json.Unmarshal(line, &m); err != nil {
			ch <- result{err: fmt.Errorf("bad report %q: %w", strings.TrimSpace(string(line)), err)}
			return
		}
		ch <- result{msg: m}
	}()

	var res result
	select {
	case res = <-ch:
	case <-time.After(CreateTimeout):
		_ = cmd.Process.Kill()
		go cmd.Wait()
		return nil, fmt.Errorf("skiff-shim for container %s: no report after %s: killed it", shortID(cfg.ID), CreateTimeout)
	}
	if res.err != nil {
		// The shim died before reporting: its exit status says more than the pipe's EOF.
		_ = cmd.Process.Kill()
		werr := cmd.Wait()
		if werr == nil {
			werr = res.err
		}
		return nil, fmt.Errorf("skiff-shim for container %s exited without reporting: %w", shortID(cfg.ID), werr)
	}
	go cmd.Wait()
	m := res.msg
	switch {
	case m.Error != "" && m.Runtime != "":
		code, text := ClassifyRuntimeError(m.Error)
		if m.Code != 0 {
			code = m.Code
		}
		return nil, &RuntimeError{Runtime: m.Runtime, Msg: text, Code: code}
	case m.Error != "":
		return nil, errors.New("skiff-shim: " + m.Error)
	case m.PID <= 0:
		return nil, fmt.Errorf("skiff-shim reported no container pid")
	}
	return &Process{ShimPID: cmd.Process.Pid, ContainerPID: m.PID}, nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
