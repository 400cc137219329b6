package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiffcontainers/skiff/libpod/shim"
)

// clientWriteTimeout: a client that takes longer than this to accept a frame is dropped, so that a stopped
// CLI cannot stall the container's output for ever.
const clientWriteTimeout = 10 * time.Second

// hub fans the container's output out to the log and the attach clients and funnels the clients' input
// into the container's stdin. See libpod/shim/protocol.go for the protocol.
type hub struct {
	mu      sync.Mutex // output order, the client set and the log
	clients map[*client]struct{}
	closed  bool
	log     *k8sLog
	flags   byte

	inMu        sync.Mutex // the container's stdin
	stdin       *os.File   // pipe write end or pty master; nil when none or closed
	pty         *os.File
	writers     int  // clients that have written to stdin and not ended it
	closeWanted bool // a client ended stdin while another was still writing
}

type client struct {
	conn      *os.File
	wrote     bool // has sent stdin
	stdinDone bool // has sent stdin-EOF
}

func newHub(log *k8sLog, flags byte, stdin, pty *os.File) *hub {
	return &hub{clients: map[*client]struct{}{}, log: log, flags: flags, stdin: stdin, pty: pty}
}

// output logs a chunk of output and sends it to every client.
func (h *hub) output(stream byte, p []byte) {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.log != nil {
		if err := h.log.write(streamName(stream), p, now); err != nil {
			fmt.Fprintln(os.Stderr, "skiff-shim: writing the log:", err)
		}
	}
	if len(h.clients) == 0 {
		return
	}
	frame := make([]byte, 5+len(p))
	frame[0] = stream
	binary.BigEndian.PutUint32(frame[1:5], uint32(len(p)))
	copy(frame[5:], p)
	for c := range h.clients {
		_ = c.conn.SetWriteDeadline(time.Now().Add(clientWriteTimeout))
		if _, err := c.conn.Write(frame); err != nil {
			delete(h.clients, c)
			c.conn.Close() // its reader notices and does the stdin bookkeeping
		}
	}
}

func (h *hub) reopenLog() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.log != nil {
		if err := h.log.reopen(); err != nil {
			fmt.Fprintln(os.Stderr, "skiff-shim: reopening the log:", err)
		}
	}
}

func (h *hub) closeLog() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.log != nil {
		h.log.close()
		h.log = nil
	}
}

// serve accepts attach clients until the listener is closed.
func (h *hub) serve(ln *os.File) {
	for {
		conn, err := accept(ln)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and the like: do not spin
			continue
		}
		c := &client{conn: conn}
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			conn.Close()
			continue
		}
		// Registered and greeted under the lock: no output can fall between the two, and the client's Dial
		// returns only after this, so it sees everything from then on.
		_ = conn.SetWriteDeadline(time.Now().Add(clientWriteTimeout))
		if err := shim.WriteFrame(conn, shim.FrameHello, []byte{h.flags}); err != nil {
			h.mu.Unlock()
			conn.Close()
			continue
		}
		h.clients[c] = struct{}{}
		h.mu.Unlock()
		go h.readClient(c)
	}
}

// shutdown says goodbye to every client, once the output is drained.
func (h *hub) shutdown(exitCode int) {
	var p [4]byte
	binary.BigEndian.PutUint32(p[:], uint32(int32(exitCode)))
	h.mu.Lock()
	h.closed = true
	for c := range h.clients {
		_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
		_ = shim.WriteFrame(c.conn, shim.FrameExit, p[:])
		c.conn.Close()
		delete(h.clients, c)
	}
	h.mu.Unlock()
	h.inMu.Lock()
	h.closeStdinLocked()
	h.inMu.Unlock()
}

func (h *hub) readClient(c *client) {
	defer func() {
		h.mu.Lock()
		delete(h.clients, c)
		h.mu.Unlock()
		c.conn.Close()
		h.inMu.Lock()
		if c.wrote && !c.stdinDone {
			h.writers--
			if h.closeWanted && h.writers == 0 {
				h.closeStdinLocked()
			}
		}
		h.inMu.Unlock()
	}()
	buf := make([]byte, 32*1024)
	for {
		typ, payload, err := shim.ReadFrame(c.conn, buf)
		if err != nil {
			return
		}
		switch typ {
		case shim.FrameStdin:
			h.writeStdin(c, payload)
		case shim.FrameStdinEOF:
			h.endStdin(c)
		case shim.FrameResize:
			if sz, err := shim.ParseResize(payload); err == nil {
				h.resize(sz)
			}
		case shim.FrameSync:
			// Frames are handled in order: everything this client sent before is done.
			h.mu.Lock()
			_ = c.conn.SetWriteDeadline(time.Now().Add(clientWriteTimeout))
			_ = shim.WriteFrame(c.conn, shim.FrameSync, nil)
			h.mu.Unlock()
		}
	}
}

func (h *hub) writeStdin(c *client, p []byte) {
	h.inMu.Lock()
	defer h.inMu.Unlock()
	if h.stdin == nil || c.stdinDone {
		return
	}
	if !c.wrote {
		c.wrote = true
		h.writers++
	}
	// Blocks while the container does not read; ends with EPIPE/EIO once it is gone.
	_, _ = h.stdin.Write(p)
}

// endStdin: the client's stdin ended. The container's stdin is closed once no other client is still
// writing to it. A pty master cannot be closed for input only: its EOF is ignored.
func (h *hub) endStdin(c *client) {
	h.inMu.Lock()
	defer h.inMu.Unlock()
	if c.stdinDone {
		return
	}
	if c.wrote {
		h.writers--
	}
	c.stdinDone = true
	if h.stdin == nil || h.stdin == h.pty {
		return
	}
	if h.writers > 0 {
		h.closeWanted = true
		return
	}
	h.closeStdinLocked()
}

func (h *hub) closeStdinLocked() {
	if h.stdin != nil && h.stdin != h.pty {
		h.stdin.Close()
	}
	h.stdin = nil
}

func (h *hub) resize(sz shim.Size) {
	if h.pty == nil {
		return
	}
	rc, err := h.pty.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: sz.Rows, Col: sz.Cols})
	})
}
