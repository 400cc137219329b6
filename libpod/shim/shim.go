// Package shim is the CLI's side of skiff-shim, the small per-container process that owns a container's
// stdio, log, attach socket and exit code and outlives the CLI that started it: Spawn starts it and waits
// until the runtime has created the container, Dial/Attach stream the container's stdio through its attach
// socket, ReadExit/WaitExit read the exit file it leaves.
//
// cmd/skiff-shim imports this package for the wire types, so it must stay on the standard library and
// golang.org/x/sys (the shim's memory is paid per running container; TestShimDependencies checks it).
package shim

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Files in Config.RunDir.
const (
	ConfigFile   = "shim.json" // input: Config as JSON
	ShimPIDFile  = "shim.pid"  // the shim's pid
	PIDFile      = "pidfile"   // the runtime's --pid-file: the container's init
	AttachSocket = "attach"    // unix stream socket: see protocol.go
	ExitFile     = "exit.json" // output: ExitInfo, written atomically once the container has exited
	// CleanupOwnerFile names a process ("PID STARTTIME") that will clean up after the container itself (a
	// foreground run): while it lives the shim does not run ExitCommand, which would only repeat the work.
	CleanupOwnerFile = "cleanup.owner"
	ConsoleSock      = "console.sock" // transient: the runtime's --console-socket
)

// Log drivers the shim knows.
const (
	LogDriverK8sFile     = "k8s-file"
	LogDriverNone        = "none"
	LogDriverPassthrough = "passthrough"
)

// Config is written by the CLI as JSON to <RunDir>/shim.json and read by skiff-shim
// (argv: skiff-shim <RunDir>/shim.json).
type Config struct {
	ID          string   // container ID (64 hex)
	Runtime     string   // absolute path to crun/runc
	RuntimeArgs []string // global runtime args placed before the verb, e.g. ["--root", "/run/skiff/crun"]
	Bundle      string   // directory with config.json
	RunDir      string   // per-container run dir (exists, private): the shim writes here
	LogDriver   string   // "k8s-file" | "none" | "passthrough"; "" is k8s-file when LogPath is set, else none
	LogPath     string   // k8s-file path (podman's format)
	// LogMaxSize bounds the k8s-file log in bytes; 0 = unlimited. An entry that would take the file past it
	// starts a new, empty file at the same path first (conmon's rotation: fsync, open path.tmp truncated,
	// rename over path); the old content is dropped, not kept as a numbered file.
	LogMaxSize     int64
	Terminal       bool     // -t: create via --console-socket; the shim holds the pty master
	Stdin          bool     // -i: keep the container's stdin open for attach clients
	ExitCommand    []string // argv exec'd (replacing the shim) after the exit file is written; may be empty
	ExitCommandEnv []string // extra env for ExitCommand
}

// ExitInfo is the content of exit.json.
type ExitInfo struct {
	ExitCode   int       `json:"exitCode"`
	OOMKilled  bool      `json:"oomKilled"`
	FinishedAt time.Time `json:"finishedAt"`
	Error      string    `json:"error,omitempty"`
}

// Process is a spawned shim and the container it created.
type Process struct {
	ShimPID, ContainerPID int
}

// ErrRuntime is wrapped by every error in which the OCI runtime refused to create the container.
var ErrRuntime = errors.New("OCI runtime error")

// ErrShimDied is returned by WaitExit when the shim is gone and left no exit file (it was killed): the
// container's exit status is unknown.
var ErrShimDied = errors.New("skiff-shim died before recording the container's exit")

// RuntimeError is the runtime's own message from a failed `create`.
type RuntimeError struct {
	Runtime string // the runtime's name (crun, runc)
	Msg     string // what it printed, trimmed
	Code    int    // 125, 126 or 127: see ExitCode
}

func (e *RuntimeError) Error() string {
	kind := "OCI runtime error"
	switch e.Code {
	case 126:
		kind = "OCI permission denied"
	case 127:
		kind = "OCI runtime attempted to invoke a command that was not found"
	}
	return fmt.Sprintf("%s: %s: %s", e.Runtime, e.Msg, kind)
}

func (e *RuntimeError) Unwrap() error { return ErrRuntime }

// ExitCode is what `skiff run` exits with, as podman: 126 when the container's command cannot be invoked,
// 127 when it was not found, 125 for any other runtime failure.
func (e *RuntimeError) ExitCode() int {
	if e.Code == 0 {
		return 125
	}
	return e.Code
}

// ClassifyRuntimeError picks the exit code for a runtime's error output and the text to show, the way podman
// does (libpod/oci_conmon_common.go getOCIRuntimeError): the first line that says permission denied or
// operation not permitted is 126 (checked first, so that crun's "open executable: Permission denied" is
// 126), the first that says executable file not found, no such file or directory or open executable is
// 127, anything else is 125 with the whole message. Plain string matching rather than podman's regexps
// keeps regexp out of the shim binary.
func ClassifyRuntimeError(msg string) (code int, text string) {
	msg = strings.TrimSpace(msg)
	if l := lineContaining(msg, "permission denied", "operation not permitted"); l != "" {
		return 126, l
	}
	if l := lineContaining(msg, "executable file not found in", "no such file or directory", "open executable"); l != "" {
		return 127, l
	}
	return 125, msg
}

func lineContaining(msg string, phrases ...string) string {
	for _, line := range strings.Split(msg, "\n") {
		lower := strings.ToLower(line)
		for _, p := range phrases {
			if strings.Contains(lower, p) {
				return strings.TrimSpace(line)
			}
		}
	}
	return ""
}

// SyncMessage is the one JSON line the shim writes on its fd 3 once the runtime's create has finished.
type SyncMessage struct {
	PID     int    `json:"pid,omitempty"`
	Error   string `json:"error,omitempty"`
	Code    int    `json:"code,omitempty"`
	Runtime string `json:"runtime,omitempty"` // set when Error is the runtime's output rather than the shim's own
}

// ReadConfig reads a shim.json.
func ReadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return &c, c.Validate()
}

// EffectiveLogDriver resolves the empty driver.
func (c *Config) EffectiveLogDriver() string {
	if c.LogDriver == "" {
		if c.LogPath != "" {
			return LogDriverK8sFile
		}
		return LogDriverNone
	}
	return c.LogDriver
}

// Validate checks what the shim cannot work without.
func (c *Config) Validate() error {
	if c.ID == "" {
		return errors.New("shim config: empty container ID")
	}
	if !filepath.IsAbs(c.Runtime) {
		return fmt.Errorf("shim config: runtime %q is not an absolute path", c.Runtime)
	}
	if c.Bundle == "" || c.RunDir == "" {
		return errors.New("shim config: bundle and run directory are required")
	}
	switch c.EffectiveLogDriver() {
	case LogDriverK8sFile:
		if c.LogPath == "" {
			return errors.New("shim config: the k8s-file log driver needs a log path")
		}
	case LogDriverNone:
	case LogDriverPassthrough:
		if c.Terminal {
			return errors.New("the passthrough log driver cannot be used with a terminal (-t)")
		}
	default:
		return fmt.Errorf("log driver %q is not supported by skiff-shim (k8s-file, none, passthrough)", c.LogDriver)
	}
	return nil
}

// WriteFileAtomic writes a file so that readers see the old content or the new, never a part: temp file,
// fsync, rename, fsync of the directory.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// ClaimCleanup records this process as the one that cleans up after the container in runDir.
func ClaimCleanup(runDir string) error {
	start := ProcStartTime(os.Getpid())
	if start == 0 {
		return fmt.Errorf("reading this process's start time")
	}
	return WriteFileAtomic(filepath.Join(runDir, CleanupOwnerFile), []byte(fmt.Sprintf("%d %d", os.Getpid(), start)), 0o600)
}

// CleanupClaimed reports whether the process named in runDir's cleanup owner file still runs (the same
// process: its start time matches, so a reused pid does not count).
func CleanupClaimed(runDir string) bool {
	data, err := os.ReadFile(filepath.Join(runDir, CleanupOwnerFile))
	if err != nil {
		return false
	}
	var pid int
	var start uint64
	if _, err := fmt.Sscanf(string(data), "%d %d", &pid, &start); err != nil || pid <= 0 {
		return false
	}
	return ProcStartTime(pid) == start
}

// ProcStartTime is field 22 of /proc/PID/stat (0 when the process does not exist or is a zombie).
func ProcStartTime(pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return 0
	}
	n, _ := strconv.ParseUint(f[19], 10, 64)
	return n
}
