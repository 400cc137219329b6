// Package rootless puts an unprivileged skiff into the user and mount namespaces that a pause process
// holds. The C preamble (preamble.c) joins an existing pause process before the Go runtime starts; this
// file creates the pause process on the first call and re-executes skiff once so that the preamble joins.
package rootless

/*
#cgo CFLAGS: -Wall -O2
#include "preamble.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// ErrSetup marks a host setup problem that the user must fix (missing package, bad subuid range).
var ErrSetup = errors.New("rootless setup")

// The preamble's setenv(3) calls change libc's environment, but the Go runtime copied the environment
// before they ran: mirror what the preamble decided into Go's copy before any library reads it.
func init() {
	if C.skiff_orig_uid() == 0 {
		return
	}
	if dir := C.GoString(C.skiff_runtime_dir()); dir != "" {
		os.Setenv("XDG_RUNTIME_DIR", dir)
	}
	if C.skiff_joined() != 0 {
		os.Setenv("_CONTAINERS_ROOTLESS_UID", strconv.Itoa(UID()))
		os.Setenv("_CONTAINERS_ROOTLESS_GID", strconv.Itoa(GID()))
		os.Setenv("_CONTAINERS_USERNS_CONFIGURED", "done")
	}
	os.Unsetenv("_SKIFF_JOIN")
}

// IsRootless reports whether skiff was started by an unprivileged user, whether or not it has joined the
// user namespace since (inside it, the effective uid is 0).
func IsRootless() bool { return C.skiff_orig_uid() != 0 }

// UID is the uid skiff was started with, outside any user namespace.
func UID() int { return int(C.skiff_orig_uid()) }

// GID is the gid skiff was started with, outside any user namespace.
func GID() int { return int(C.skiff_orig_gid()) }

// InUserNS reports whether this process runs inside the rootless user namespace.
func InUserNS() bool { return C.skiff_joined() != 0 }

// Inherited reports whether a parent skiff had already put this process in the user namespace: it runs
// under `skiff unshare` or from a container's shim.
func Inherited() bool { return C.skiff_inherited() != 0 }

// RuntimeDir is the per-user runtime directory: $XDG_RUNTIME_DIR when it is ours, else /tmp/skiff-run-UID.
// For root it is /run.
func RuntimeDir() (string, error) {
	if !IsRootless() {
		return "/run", nil
	}
	if msg := C.GoString(C.skiff_preamble_error()); msg != "" && C.skiff_pause_alive() == 0 {
		return "", fmt.Errorf("%s: %w", msg, ErrSetup)
	}
	dir := C.GoString(C.skiff_runtime_dir())
	if dir == "" {
		return "", fmt.Errorf("no runtime directory: %w", ErrSetup)
	}
	return dir, nil
}

func pauseDir() (string, error) {
	rd, err := RuntimeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(rd, "skiff"), nil
}

// Ensure makes sure a rootless skiff runs inside the user namespace. When no pause process holds one yet it
// creates it and re-executes skiff, so on success it does not return in that case.
func Ensure() error {
	if !IsRootless() {
		return nil
	}
	if InUserNS() {
		warnSingleMapping()
		return nil
	}
	if msg := C.GoString(C.skiff_preamble_error()); msg != "" {
		return fmt.Errorf("%s: %w", msg, ErrSetup)
	}
	if os.Getenv("_SKIFF_REEXECED") != "" {
		return fmt.Errorf("the pause process that holds the user namespace exited right after it started: %w", ErrSetup)
	}
	dir, err := pauseDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// Two first calls racing must not make two namespaces: the loser finds the winner's pid file.
	lock, err := os.OpenFile(filepath.Join(dir, "pause.lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	if _, err := livePausePid(dir); err != nil {
		if err := createPause(dir); err != nil {
			return err
		}
	}
	return reexec()
}

func reexec() error {
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	env := append(os.Environ(), "_SKIFF_JOIN=1", "_SKIFF_REEXECED=1")
	return syscall.Exec(exe, os.Args, env)
}

// livePausePid returns the pid of the pause process, or an error when the pid file is missing or stale.
func livePausePid(dir string) (int, error) {
	data, err := os.ReadFile(filepath.Join(dir, "pause.pid"))
	if err != nil {
		return 0, err
	}
	var pid int
	var start uint64
	if _, err := fmt.Sscanf(string(data), "%d %d", &pid, &start); err != nil || pid <= 0 {
		return 0, fmt.Errorf("malformed pause pid file")
	}
	if procStartTime(pid) != start {
		return 0, fmt.Errorf("stale pause pid file")
	}
	return pid, nil
}

func procStartTime(pid int) uint64 { return uint64(C.skiff_proc_start_time(C.int(pid))) }

func createPause(dir string) error {
	name := strconv.Itoa(UID())
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	uidRange, uidErr := SubIDRange("/etc/subuid", name, UID())
	gidRange, gidErr := SubIDRange("/etc/subgid", name, UID())
	single := uidErr != nil || gidErr != nil
	if !single {
		if _, err := exec.LookPath("newuidmap"); err != nil {
			return fmt.Errorf("newuidmap not found in $PATH: install the uidmap package (apt-get install uidmap): %w", ErrSetup)
		}
		if _, err := exec.LookPath("newgidmap"); err != nil {
			return fmt.Errorf("newgidmap not found in $PATH: install the uidmap package (apt-get install uidmap): %w", ErrSetup)
		}
	}

	cmd := pauseCommand()
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS, Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the pause process: %w", err)
	}
	pid := cmd.Process.Pid
	fail := func(err error) error {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		return err
	}
	if single {
		if err := writeSingleMapping(pid); err != nil {
			return fail(err)
		}
	} else {
		if err := runIDMap("newuidmap", pid, UID(), uidRange); err != nil {
			return fail(err)
		}
		if err := runIDMap("newgidmap", pid, GID(), gidRange); err != nil {
			return fail(err)
		}
	}
	start := procStartTime(pid)
	if err := writeFileAtomic(filepath.Join(dir, "pause.pid"), fmt.Sprintf("%d %d\n", pid, start)); err != nil {
		return fail(err)
	}
	return cmd.Process.Release()
}

// pauseCommand prefers catatonit -P; skiff's own preamble pauses otherwise, before any Go code runs.
func pauseCommand() *exec.Cmd {
	if path, err := exec.LookPath("catatonit"); err == nil {
		return exec.Command(path, "-P")
	}
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	return exec.Command(exe, "__pause")
}

func runIDMap(tool string, pid, id int, r IDRange) error {
	args := []string{strconv.Itoa(pid), "0", strconv.Itoa(id), "1", "1", strconv.Itoa(r.Start), strconv.Itoa(r.Count)}
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %s: %w", tool, strings.Join(args, " "), strings.TrimSpace(string(out)), ErrSetup)
	}
	return nil
}

func writeSingleMapping(pid int) error {
	p := fmt.Sprintf("/proc/%d/", pid)
	if err := os.WriteFile(p+"setgroups", []byte("deny"), 0); err != nil {
		return fmt.Errorf("denying setgroups: %w", err)
	}
	if err := os.WriteFile(p+"uid_map", []byte(fmt.Sprintf("0 %d 1", UID())), 0); err != nil {
		return fmt.Errorf("writing uid_map: %w", err)
	}
	if err := os.WriteFile(p+"gid_map", []byte(fmt.Sprintf("0 %d 1", GID())), 0); err != nil {
		return fmt.Errorf("writing gid_map: %w", err)
	}
	return nil
}

// warnSingleMapping tells, on every call, that only one uid is mapped: images with files owned by other
// users cannot be stored, and the fix is one line in /etc/subuid and /etc/subgid.
func warnSingleMapping() {
	data, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 1 {
		return
	}
	f := strings.Fields(lines[0])
	if len(f) != 3 || f[2] != "1" {
		return
	}
	name := strconv.Itoa(UID())
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	logrus.Warnf("Using rootless single mapping into the namespace: images whose files belong to other users will fail. "+
		"Add the line %q to /etc/subuid and /etc/subgid, then run \"skiff system migrate\"", SuggestRange("/etc/subuid", name))
}

// StopPause kills the pause process so that the next call makes a new namespace with the current
// /etc/subuid and /etc/subgid. It is not an error when none runs.
func StopPause() error {
	if !IsRootless() {
		return nil
	}
	dir, err := pauseDir()
	if err != nil {
		return err
	}
	if pid, err := livePausePid(dir); err == nil {
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("stopping pause process %d: %w", pid, err)
		}
	}
	if err := os.Remove(filepath.Join(dir, "pause.pid")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func writeFileAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(content); err != nil {
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
	return os.Rename(tmp.Name(), path)
}
