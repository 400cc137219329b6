package shim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Streams are the attach client's ends.
type Streams struct {
	Stdin          io.Reader // nil: attach without stdin
	Stdout, Stderr io.Writer // nil: discard
	// DetachKeys typed on Stdin end the session with ErrDetached and are not forwarded. nil means podman's
	// default, ctrl-p,ctrl-q; an empty non-nil slice disables detaching (podman's --detach-keys "").
	DetachKeys []byte
	Resize     <-chan Size // terminal sizes to apply to the container's pty (send the initial size too)
	Terminal   bool        // informational: the shim knows whether the container has a pty
}

// Size is a terminal size.
type Size struct{ Rows, Cols uint16 }

// ErrDetached: the user typed the detach keys.
var ErrDetached = errors.New("detached from container")

// DefaultDetachKeys is ctrl-p,ctrl-q.
var DefaultDetachKeys = []byte{0x10, 0x11}

// helloTimeout bounds the wait for the shim's greeting when ctx has no deadline.
const helloTimeout = 10 * time.Second

// Conn is a live attach session.
type Conn struct {
	c     *os.File // the socket: an *os.File, not a net.Conn, so that the shim binary links no net
	s     Streams
	flags byte

	wmu sync.Mutex // serializes frame writes

	synced   chan struct{} // closed at the shim's FrameSync answer
	done     chan struct{}
	doneOnce sync.Once
	err      error
	exitCode int
	exited   bool
}

// Attach connects to the container's shim and copies until the container's output ends (nil), the detach
// keys are typed on stdin (ErrDetached) or ctx ends (ctx.Err()).
func Attach(ctx context.Context, runDir string, s Streams) error {
	c, err := Dial(ctx, runDir, s)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Wait(ctx)
}

// Dial connects to RunDir/attach and returns once the shim has registered the client: every byte of output
// the container writes from then on reaches it, so attaching between Spawn and `RUNTIME start` loses
// nothing. Copying runs in the background until Wait or Close.
func Dial(ctx context.Context, runDir string, s Streams) (*Conn, error) {
	uc, err := dialUnix(ctx, runDir, AttachSocket)
	if err != nil {
		if _, xerr := ReadExit(runDir); xerr == nil {
			return nil, fmt.Errorf("attach: the container has exited: %w", err)
		}
		return nil, fmt.Errorf("attach to the container's shim: %w", err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(helloTimeout)
	}
	_ = uc.SetReadDeadline(deadline)
	typ, payload, err := ReadFrame(uc, nil)
	if err == nil && (typ != FrameHello || len(payload) < 1) {
		err = fmt.Errorf("unexpected frame %d", typ)
	}
	if err != nil {
		uc.Close()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("attach: the shim closed the connection: the container has exited")
		}
		return nil, fmt.Errorf("attach: waiting for the shim's greeting: %w", err)
	}
	_ = uc.SetReadDeadline(time.Time{})
	if s.DetachKeys == nil {
		s.DetachKeys = DefaultDetachKeys
	}
	c := &Conn{c: uc, s: s, flags: payload[0], synced: make(chan struct{}), done: make(chan struct{})}
	go c.readOutput()
	// A size already waiting is the initial one: have it applied before returning, so that a process
	// started after Dial sees it.
	if s.Resize != nil {
		select {
		case sz, ok := <-s.Resize:
			if ok {
				if err := c.initialResize(ctx, sz); err != nil {
					c.finish(err)
					return nil, err
				}
			}
		default:
		}
		go c.pumpResize()
	}
	if s.Stdin != nil {
		go c.pumpStdin()
	}
	return c, nil
}

func (c *Conn) initialResize(ctx context.Context, sz Size) error {
	if err := c.send(FrameResize, ResizePayload(sz)); err != nil {
		return fmt.Errorf("attach: sending the terminal size: %w", err)
	}
	if err := c.send(FrameSync, nil); err != nil {
		return fmt.Errorf("attach: sending the terminal size: %w", err)
	}
	t := time.NewTimer(helloTimeout)
	defer t.Stop()
	select {
	case <-c.synced:
		return nil
	case <-c.done:
		if c.err != nil {
			return c.err
		}
		return errors.New("attach: the shim closed the connection: the container has exited")
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errors.New("attach: the shim did not apply the terminal size")
	}
}

// Terminal reports whether the container has a pty (its output is then all on Stdout).
func (c *Conn) Terminal() bool { return c.flags&HelloTerminal != 0 }

// ExitCode is the container's exit code when the session ended because the container exited.
func (c *Conn) ExitCode() (code int, ok bool) {
	select {
	case <-c.done:
		return c.exitCode, c.exited
	default:
		return 0, false
	}
}

// Wait blocks until the session ends: nil when the container's output ended, ErrDetached, a copy error,
// or ctx.Err() (the session is closed then).
func (c *Conn) Wait(ctx context.Context) error {
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		c.finish(ctx.Err())
		return ctx.Err()
	}
}

// Close ends the session. The container is unaffected (its stdin stays open, as after a detach).
func (c *Conn) Close() error {
	c.finish(nil)
	return nil
}

func (c *Conn) finish(err error) {
	c.doneOnce.Do(func() {
		c.err = err
		c.c.Close()
		close(c.done)
	})
}

func (c *Conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *Conn) send(typ byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return WriteFrame(c.c, typ, payload)
}

func (c *Conn) readOutput() {
	buf := make([]byte, 32*1024)
	for {
		typ, payload, err := ReadFrame(c.c, buf)
		if err != nil {
			if errors.Is(err, io.EOF) || c.closed() {
				c.finish(nil)
			} else {
				c.finish(fmt.Errorf("attach: %w", err))
			}
			return
		}
		if cap(payload) > cap(buf) {
			buf = payload
		}
		var w io.Writer
		switch typ {
		case FrameStdout:
			w = c.s.Stdout
		case FrameStderr:
			w = c.s.Stderr
		case FrameSync:
			select {
			case <-c.synced:
			default:
				close(c.synced)
			}
			continue
		case FrameExit:
			if len(payload) == 4 {
				c.exitCode = int(int32(binary.BigEndian.Uint32(payload)))
				c.exited = true
			}
			continue
		default:
			continue
		}
		if w == nil {
			continue
		}
		if _, err := w.Write(payload); err != nil {
			c.finish(fmt.Errorf("attach: writing container output: %w", err))
			return
		}
	}
}

func (c *Conn) pumpStdin() {
	buf := make([]byte, 32*1024)
	d := detacher{keys: c.s.DetachKeys}
	for {
		n, err := c.s.Stdin.Read(buf)
		if c.closed() {
			return
		}
		if n > 0 {
			out, detach := d.feed(buf[:n])
			if len(out) > 0 {
				if werr := c.send(FrameStdin, out); werr != nil {
					return // the output side notices the broken connection
				}
			}
			if detach {
				c.finish(ErrDetached)
				return
			}
		}
		if err != nil {
			// EOF (or a broken stdin): whatever was held as a possible detach prefix is input after all.
			if held := d.flush(); len(held) > 0 {
				_ = c.send(FrameStdin, held)
			}
			_ = c.send(FrameStdinEOF, nil)
			return
		}
	}
}

func (c *Conn) pumpResize() {
	for {
		select {
		case <-c.done:
			return
		case sz, ok := <-c.s.Resize:
			if !ok {
				return
			}
			if err := c.send(FrameResize, ResizePayload(sz)); err != nil {
				return
			}
		}
	}
}

// detacher recognizes the detach sequence in a stream, holding back a prefix of it until it either
// completes or turns out to be ordinary input.
type detacher struct {
	keys    []byte
	matched int
}

// feed returns the bytes to forward and whether the sequence was completed (bytes after it are dropped).
func (d *detacher) feed(in []byte) (out []byte, detach bool) {
	if len(d.keys) == 0 {
		return in, false
	}
	out = make([]byte, 0, len(in)+d.matched)
	for _, b := range in {
		if b == d.keys[d.matched] {
			d.matched++
			if d.matched == len(d.keys) {
				d.matched = 0
				return out, true
			}
			continue
		}
		if d.matched > 0 {
			out = append(out, d.keys[:d.matched]...)
			d.matched = 0
			if b == d.keys[0] {
				d.matched = 1
				continue
			}
		}
		out = append(out, b)
	}
	return out, false
}

func (d *detacher) flush() []byte {
	held := d.keys[:d.matched]
	d.matched = 0
	return held
}

// ParseDetachKeys parses podman's --detach-keys syntax: a comma-separated list of single characters and
// ctrl-<c> where <c> is a letter or one of @ [ \ ] ^ _. The empty string disables detaching (an empty,
// non-nil slice).
func ParseDetachKeys(spec string) ([]byte, error) {
	if spec == "" {
		return []byte{}, nil
	}
	var keys []byte
	for _, k := range strings.Split(spec, ",") {
		switch {
		case len(k) == 1:
			keys = append(keys, k[0])
		case len(k) == 6 && strings.HasPrefix(strings.ToLower(k), "ctrl-"):
			ch := k[5]
			switch {
			case ch >= 'a' && ch <= 'z':
				keys = append(keys, ch-'a'+1)
			case ch >= 'A' && ch <= 'Z':
				keys = append(keys, ch-'A'+1)
			case ch == '@':
				keys = append(keys, 0)
			case ch >= '[' && ch <= '_':
				keys = append(keys, ch-'['+27)
			default:
				return nil, fmt.Errorf("invalid detach keys %q: unknown key %q", spec, k)
			}
		default:
			return nil, fmt.Errorf("invalid detach keys %q: unknown key %q", spec, k)
		}
	}
	return keys, nil
}
