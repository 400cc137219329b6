// Package oci drives an OCI runtime binary (crun, runc, runsc) for the verbs that follow `create`, which the
// shim runs: start, kill, delete, pause, resume, state and exec.
package oci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNotFound: the runtime does not know the container (already deleted, or never created).
var ErrNotFound = errors.New("container not known to the OCI runtime")

// Runtime is one OCI runtime binary with its state directory.
type Runtime struct {
	Name string   // crun, runc, ...
	Path string   // absolute path
	Root string   // --root: the runtime's state directory
	Args []string // extra global args
}

// Find resolves a runtime by path or by name: containers.conf's runtime table first, then $PATH.
func Find(name string, table map[string][]string, root string) (*Runtime, error) {
	if name == "" {
		name = "crun"
	}
	if strings.Contains(name, "/") {
		if _, err := os.Stat(name); err != nil {
			return nil, fmt.Errorf("OCI runtime %q: %w", name, err)
		}
		return &Runtime{Name: filepath.Base(name), Path: name, Root: root}, nil
	}
	for _, p := range table[name] {
		if _, err := os.Stat(p); err == nil {
			return &Runtime{Name: name, Path: p, Root: root}, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return &Runtime{Name: name, Path: p, Root: root}, nil
	}
	return nil, fmt.Errorf("OCI runtime %q not found in containers.conf or $PATH (install crun: apt-get install crun)", name)
}

// GlobalArgs are the arguments that go before every verb.
func (r *Runtime) GlobalArgs() []string {
	args := append([]string{}, r.Args...)
	if r.Root != "" {
		args = append(args, "--root", r.Root)
	}
	return args
}

func (r *Runtime) run(verb string, args ...string) ([]byte, error) {
	full := append(r.GlobalArgs(), verb)
	full = append(full, args...)
	cmd := exec.Command(r.Path, full...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if notFound(msg) {
			return out, fmt.Errorf("%s %s: %s: %w", r.Name, verb, msg, ErrNotFound)
		}
		if msg == "" {
			msg = err.Error()
		}
		return out, fmt.Errorf("%s %s: %s", r.Name, verb, msg)
	}
	return out, nil
}

func notFound(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "does not exist") || strings.Contains(m, "not found") || strings.Contains(m, "no such file")
}

// Start runs the created container's process.
func (r *Runtime) Start(id string) error {
	_, err := r.run("start", id)
	return err
}

// Kill sends a signal to the container's init process, or to all its processes.
func (r *Runtime) Kill(id, signal string, all bool) error {
	args := []string{}
	if all {
		args = append(args, "--all")
	}
	_, err := r.run("kill", append(args, id, signal)...)
	return err
}

// Delete removes the runtime's record (and cgroup) of a stopped container; force kills it first.
func (r *Runtime) Delete(id string, force bool) error {
	args := []string{}
	if force {
		args = append(args, "--force")
	}
	_, err := r.run("delete", append(args, id)...)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Pause freezes the container.
func (r *Runtime) Pause(id string) error {
	_, err := r.run("pause", id)
	return err
}

// Resume thaws the container.
func (r *Runtime) Resume(id string) error {
	_, err := r.run("resume", id)
	return err
}

// State is the runtime's view of a container.
type State struct {
	ID     string `json:"id"`
	Pid    int    `json:"pid"`
	Status string `json:"status"` // creating, created, running, paused, stopped
}

// State asks the runtime about a container.
func (r *Runtime) State(id string) (*State, error) {
	out, err := r.run("state", id)
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(out, &s); err != nil {
		return nil, fmt.Errorf("%s state %s: %w", r.Name, id, err)
	}
	return &s, nil
}

// Version is the runtime's first line of --version.
func (r *Runtime) Version() string {
	out, err := exec.Command(r.Path, "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
