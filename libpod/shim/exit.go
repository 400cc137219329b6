package shim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ReadExit reads the exit file; the error wraps os.ErrNotExist while the container has not exited.
func ReadExit(runDir string) (*ExitInfo, error) {
	path := filepath.Join(runDir, ExitFile)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container has not exited (no %s): %w", path, os.ErrNotExist)
		}
		return nil, err
	}
	var info ExitInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return &info, nil
}

// WriteExit writes the exit file atomically.
func WriteExit(runDir string, info *ExitInfo) error {
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(runDir, ExitFile), data, 0o600)
}

// pollInterval is WaitExit's pace when inotify is unavailable; with inotify it is the backstop that also
// notices a shim that died without an exit file.
const (
	pollInterval     = 20 * time.Millisecond
	backstopInterval = 250 * time.Millisecond
)

// WaitExit blocks until the exit file exists and returns it. It watches RunDir with inotify (polling every
// 20ms where inotify fails) and also ends, with ErrShimDied, when the shim named in shim.pid is gone
// without an exit file, and with an error wrapping os.ErrNotExist when RunDir is removed.
func WaitExit(ctx context.Context, runDir string) (*ExitInfo, error) {
	in, err := watchDir(runDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		in = nil // poll
	}
	if in != nil {
		defer in.Close()
	}
	events := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	if in != nil {
		go func() {
			buf := make([]byte, 4096)
			for {
				n, err := in.Read(buf)
				if err == nil && dirGone(buf[:n]) {
					err = fmt.Errorf("run directory %s was removed: %w", runDir, os.ErrNotExist)
				}
				if err != nil {
					select {
					case events <- err:
					case <-stop:
					}
					return
				}
				select {
				case events <- nil:
				default: // a wake-up is pending already
				}
			}
		}()
	}
	interval := backstopInterval
	if in == nil {
		interval = pollInterval
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		info, err := ReadExit(runDir)
		if err == nil {
			return info, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-events:
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil, err
				}
				// inotify broke: fall back to polling.
				ticker.Reset(pollInterval)
				events = nil
			}
		case <-ticker.C:
			if shimGone(runDir) {
				if info, err := ReadExit(runDir); err == nil {
					return info, nil
				}
				return nil, ErrShimDied
			}
		}
	}
}

// watchDir sets an inotify watch on dir for files appearing in it and the dir going away.
func watchDir(dir string) (*os.File, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	mask := uint32(unix.IN_MOVED_TO | unix.IN_CREATE | unix.IN_CLOSE_WRITE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR)
	if _, err := unix.InotifyAddWatch(fd, dir, mask); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "inotify_add_watch", Path: dir, Err: err}
	}
	// Non-blocking: os.NewFile registers it with the poller, so Close interrupts the reader.
	return os.NewFile(uintptr(fd), "inotify"), nil
}

func dirGone(events []byte) bool {
	for off := 0; off+unix.SizeofInotifyEvent <= len(events); {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&events[off]))
		if ev.Mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_IGNORED) != 0 {
			return true
		}
		off += unix.SizeofInotifyEvent + int(ev.Len)
	}
	return false
}

// shimGone: shim.pid names a process that no longer exists (or is a zombie).
func shimGone(runDir string) bool {
	data, err := os.ReadFile(filepath.Join(runDir, ShimPIDFile))
	if err != nil {
		return false // not spawned yet, or spawned by something else: no opinion
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return errors.Is(err, syscall.ESRCH)
	}
	// kill(0) succeeds on zombies: a shim whose parent has not reaped it yet is dead too.
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] == 'Z' || stat[i+2] == 'X'
	}
	return false
}
