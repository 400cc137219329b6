package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiffcontainers/skiff/libpod/shim"
)

// consoleListener is the runtime's --console-socket: the runtime connects and sends the pty master over
// SCM_RIGHTS.
type consoleListener struct {
	ln     *os.File
	path   string
	tmpDir string // set when RunDir's path was too long for a socket
	result chan consoleResult
}

type consoleResult struct {
	f   *os.File
	err error
}

func listenConsole(runDir string) (*consoleListener, error) {
	c := &consoleListener{path: filepath.Join(runDir, shim.ConsoleSock), result: make(chan consoleResult, 1)}
	// The runtime needs a real path (a /proc/self/fd alias would be its own fd table's): fall back to a
	// short private directory.
	if len(c.path) > 107 {
		dir, err := os.MkdirTemp("", "skiff-console-")
		if err != nil {
			return nil, err
		}
		c.tmpDir = dir
		c.path = filepath.Join(dir, shim.ConsoleSock)
	}
	_ = os.Remove(c.path)
	ln, err := listenUnix(c.path)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("console socket: %w", err)
	}
	c.ln = ln
	go c.accept()
	return c, nil
}

func (c *consoleListener) accept() {
	conn, err := accept(c.ln)
	if err != nil {
		c.result <- consoleResult{err: err}
		return
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(consoleTimeout))
	fd, err := recvFD(conn)
	if err != nil {
		c.result <- consoleResult{err: err}
		return
	}
	// Non-blocking, so that os.NewFile hands it to the poller: reads then honour deadlines.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		c.result <- consoleResult{err: err}
		return
	}
	c.result <- consoleResult{f: os.NewFile(uintptr(fd), "pty-master")}
}

// receive waits for the pty master.
func (c *consoleListener) receive(timeout time.Duration) (*os.File, error) {
	select {
	case r := <-c.result:
		return r.f, r.err
	case <-time.After(timeout):
		return nil, errors.New("timed out")
	}
}

func (c *consoleListener) Close() {
	if c.ln != nil {
		c.ln.Close()
		_ = os.Remove(c.path)
	}
	if c.tmpDir != "" {
		os.RemoveAll(c.tmpDir)
	}
}
