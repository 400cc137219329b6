package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiffcontainers/skiff/libpod/shim"
)

// consoleListener is the runtime's --console-socket: the runtime connects and sends the pty master over
// SCM_RIGHTS.
type consoleListener struct {
	ln     *net.UnixListener
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
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: c.path, Net: "unix"})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("console socket: %w", err)
	}
	c.ln = ln
	go c.accept()
	return c, nil
}

func (c *consoleListener) accept() {
	conn, err := c.ln.AcceptUnix()
	if err != nil {
		c.result <- consoleResult{err: err}
		return
	}
	defer conn.Close()
	f, err := recvFD(conn)
	c.result <- consoleResult{f: f, err: err}
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
		c.ln.Close() // unlinks the socket
	}
	if c.tmpDir != "" {
		os.RemoveAll(c.tmpDir)
	}
}

func recvFD(conn *net.UnixConn) (*os.File, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	_ = conn.SetReadDeadline(time.Now().Add(consoleTimeout))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, m := range msgs {
		if got, err := unix.ParseUnixRights(&m); err == nil {
			fds = append(fds, got...)
		}
	}
	if len(fds) == 0 {
		return nil, errors.New("no file descriptor in the runtime's message")
	}
	for _, fd := range fds[1:] {
		unix.Close(fd)
	}
	fd := fds[0]
	unix.CloseOnExec(fd)
	// Non-blocking, so that os.NewFile hands it to the poller: reads then honour deadlines.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "pty-master"), nil
}
