package shim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// The attach protocol, on the unix stream socket RunDir/attach. Every message is a frame:
//
//	[1 byte type][uint32 big-endian payload length][payload]
//
// The server (the shim) sends FrameHello first, once the client is registered for output: output produced
// after Dial returns reaches the client, so a client that attaches before `RUNTIME start` sees all of it.
// It then sends FrameStdout/FrameStderr with the container's output as it comes (a terminal has only
// stdout), and, when the container has exited and its output is drained, FrameExit and closes the
// connection. The client sends FrameStdin (bytes for the container's stdin), FrameResize (rows, cols as
// uint16 BE; terminal only) and FrameStdinEOF (its stdin ended: the shim closes the container's stdin once
// no other connected client is still writing to it; ignored for a terminal, whose master is also the
// output). FrameSync asks the shim to answer with a FrameSync once it has handled every earlier frame of
// the client: Dial uses it so that the initial terminal size is applied before it returns (and so before
// `RUNTIME start`).
const (
	FrameStdin    byte = 1 // client -> shim
	FrameStdout   byte = 2 // shim -> client
	FrameStderr   byte = 3 // shim -> client
	FrameResize   byte = 4 // client -> shim: rows, cols uint16 BE
	FrameStdinEOF byte = 5 // client -> shim: empty
	FrameHello    byte = 6 // shim -> client: 1 byte of HelloTerminal|HelloStdin flags
	FrameExit     byte = 7 // shim -> client: exit code int32 BE, just before the server closes
	FrameSync     byte = 8 // client -> shim: answer with FrameSync once every earlier frame is handled; and the answer
)

// Flags in FrameHello's payload.
const (
	HelloTerminal byte = 1 << iota // the container has a pty: output is stdout only
	HelloStdin                     // the container's stdin is open for attach clients
)

// MaxFramePayload bounds a frame; larger ones are a protocol error.
const MaxFramePayload = 1 << 20

const frameHeaderLen = 5

// ErrFrameTooLarge: a peer sent a frame over MaxFramePayload.
var ErrFrameTooLarge = errors.New("attach frame too large")

// WriteFrame writes one frame with a single write, so that frames from several goroutines sharing a
// connection under a lock never interleave partially.
func WriteFrame(w io.Writer, typ byte, payload []byte) error {
	buf := make([]byte, frameHeaderLen+len(payload))
	buf[0] = typ
	binary.BigEndian.PutUint32(buf[1:frameHeaderLen], uint32(len(payload)))
	copy(buf[frameHeaderLen:], payload)
	_, err := w.Write(buf)
	return err
}

// ReadFrame reads one frame; buf is reused when it is large enough. io.EOF means a clean end between
// frames.
func ReadFrame(r io.Reader, buf []byte) (typ byte, payload []byte, err error) {
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, fmt.Errorf("attach: truncated frame header: %w", err)
		}
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxFramePayload {
		return 0, nil, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	if uint32(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, fmt.Errorf("attach: truncated frame: %w", err)
	}
	return hdr[0], buf, nil
}

// ResizePayload encodes a FrameResize payload.
func ResizePayload(s Size) []byte {
	var p [4]byte
	binary.BigEndian.PutUint16(p[0:2], s.Rows)
	binary.BigEndian.PutUint16(p[2:4], s.Cols)
	return p[:]
}

// ParseResize decodes a FrameResize payload.
func ParseResize(p []byte) (Size, error) {
	if len(p) != 4 {
		return Size{}, fmt.Errorf("attach: resize payload of %d bytes, want 4", len(p))
	}
	return Size{Rows: binary.BigEndian.Uint16(p[0:2]), Cols: binary.BigEndian.Uint16(p[2:4])}, nil
}

// maxSunPath is the room in sockaddr_un.sun_path, less the terminating NUL.
const maxSunPath = 107

// SocketPath returns a path under which the socket dir/name can be bound or connected to. A path too long
// for sockaddr_un goes through /proc/self/fd/N of an O_PATH descriptor of dir (conmon does the same);
// release closes it once bind or connect is done.
func SocketPath(dir, name string) (path string, release func(), err error) {
	path = filepath.Join(dir, name)
	if len(path) <= maxSunPath {
		return path, func() {}, nil
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	short := fmt.Sprintf("/proc/self/fd/%d/%s", fd, name)
	if len(short) > maxSunPath {
		unix.Close(fd)
		return "", nil, fmt.Errorf("socket name %q is too long", name)
	}
	return short, func() { unix.Close(fd) }, nil
}

// dialUnix connects to the stream socket dir/name. The connection is a non-blocking *os.File served by
// Go's poller (deadlines work); package net is avoided because linking it into the shim costs memory
// (with cgo, libc as well).
func dialUnix(ctx context.Context, dir, name string) (*os.File, error) {
	path, release, err := SocketPath(dir, name)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	// Blocking connect: a unix socket connects at once, or fails at once when nobody listens.
	for {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "connect", Path: filepath.Join(dir, name), Err: err}
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("setnonblock", err)
	}
	return os.NewFile(uintptr(fd), filepath.Join(dir, name)), nil
}
