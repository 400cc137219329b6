package main

import (
	"bytes"
	"os"
	"time"

	"github.com/skiffcontainers/skiff/libpod/shim"
)

// k8sTimeLayout is conmon's timestamp: local time, nanoseconds always 9 digits, a numeric UTC offset
// (+00:00 rather than Z). It parses as time.RFC3339Nano.
const k8sTimeLayout = "2006-01-02T15:04:05.000000000-07:00"

// k8sLog writes podman's k8s-file log format, one entry per line of output:
//
//	<timestamp> <stdout|stderr> <F|P> <content>\n
//
// F ends a line (content is the line, its newline included as the entry's end); P is a partial line: a
// chunk of output that did not end in a newline (conmon adds the newline to the entry). Every entry of one
// chunk of output carries the same timestamp, as conmon's.
//
// With a size limit, an entry that would take the file past it first replaces the file with an empty one
// (fsync, create path.tmp, rename over path), as conmon's reopen_k8s_file; readers following the log by
// name see the new file. Unlike conmon, whose count starts at 0 whenever it starts, the count starts at the
// size the file already has (a restarted container appends to its log), so the limit bounds the file.
type k8sLog struct {
	path string
	f    *os.File
	max  int64
	size int64
	buf  []byte
}

func openK8sLog(path string, max int64) (*k8sLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	l := &k8sLog{path: path, f: f, max: max}
	if st, err := f.Stat(); err == nil {
		l.size = st.Size()
	}
	return l, nil
}

func streamName(stream byte) string {
	if stream == shim.FrameStderr {
		return "stderr"
	}
	return "stdout"
}

// write logs one chunk of output. Errors are the log's problem, not the container's: the caller carries on.
func (l *k8sLog) write(stream string, p []byte, now time.Time) error {
	var ts [64]byte
	prefix := now.AppendFormat(ts[:0], k8sTimeLayout)
	prefix = append(prefix, ' ')
	prefix = append(prefix, stream...)
	prefix = append(prefix, ' ')
	l.buf = l.buf[:0]
	var firstErr error
	for len(p) > 0 {
		line := p
		partial := true
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line, partial = p[:i+1], false
		}
		p = p[len(line):]
		n := int64(len(prefix) + 2 + len(line))
		if partial {
			n++
		}
		if l.max > 0 && l.size > 0 && l.size+n > l.max {
			if err := l.flush(); err != nil && firstErr == nil {
				firstErr = err
			}
			if err := l.rotate(); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		l.buf = append(l.buf, prefix...)
		if partial {
			l.buf = append(l.buf, "P "...)
			l.buf = append(l.buf, line...)
			l.buf = append(l.buf, '\n')
		} else {
			l.buf = append(l.buf, "F "...)
			l.buf = append(l.buf, line...)
		}
		l.size += n
	}
	if err := l.flush(); err != nil && firstErr == nil {
		firstErr = err
	}
	if cap(l.buf) > 4*chunkSize {
		l.buf = nil // a burst of tiny lines: do not keep the big buffer for ever
	}
	return firstErr
}

func (l *k8sLog) flush() error {
	if len(l.buf) == 0 {
		return nil
	}
	_, err := l.f.Write(l.buf)
	l.buf = l.buf[:0]
	return err
}

// rotate replaces the file with an empty one, as conmon does.
func (l *k8sLog) rotate() error {
	_ = l.f.Sync()
	l.f.Close()
	tmp := l.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		// Keep logging somewhere: append to the old file.
		if f2, err2 := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err2 == nil {
			l.f = f2
		}
		return err
	}
	l.f = f
	l.size = 0
	return os.Rename(tmp, l.path)
}

// reopen opens the path again (after someone moved the file away: SIGUSR1, as conmon).
func (l *k8sLog) reopen() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	l.f.Close()
	l.f = f
	l.size = 0
	if st, err := f.Stat(); err == nil {
		l.size = st.Size()
	}
	return nil
}

func (l *k8sLog) close() error {
	_ = l.f.Sync()
	return l.f.Close()
}
