package libpod

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/libpod/shim"
)

// LogLine is one line of a container's k8s-file log, partial lines already joined.
type LogLine struct {
	Time   time.Time
	Stream string // stdout or stderr
	Text   string // without the trailing newline
	// Partial is true for the last line of a log that ends without a newline.
	Partial bool
}

// LogOptions select log lines.
type LogOptions struct {
	Follow    bool
	Since     time.Time
	Until     time.Time
	Tail      int // -1: all
	PollEvery time.Duration
}

// ParseLogLine reads one k8s-file line: "TIME STREAM F|P TEXT".
func ParseLogLine(line string) (t time.Time, stream string, partial bool, text string, err error) {
	parts := strings.SplitN(line, " ", 4)
	if len(parts) < 3 {
		return t, "", false, "", fmt.Errorf("malformed log line %q", line)
	}
	t, err = time.Parse(time.RFC3339Nano, parts[0])
	if err != nil {
		return t, "", false, "", fmt.Errorf("malformed log time in %q: %w", line, err)
	}
	stream, tag := parts[1], parts[2]
	if len(parts) == 4 {
		text = parts[3]
	}
	return t, stream, tag == "P", text, nil
}

// Logs sends the container's log lines to out until the log ends (or, with Follow, the container has exited
// and its log is drained, or ctx ends).
func (c *Container) Logs(ctx context.Context, o LogOptions, out func(LogLine) error) error {
	if c.Config.LogDriver != "k8s-file" {
		return fmt.Errorf("container %s uses the %q log driver: only k8s-file logs can be read back: %w", c.Name(), c.Config.LogDriver, define.ErrInvalidArg)
	}
	f, err := os.Open(c.Config.LogPath)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if !o.Follow {
			return nil // never started: no log yet
		}
	}
	var lines []LogLine
	var pending *LogLine
	var offset int64
	emit := func(l LogLine) error {
		if !o.Since.IsZero() && l.Time.Before(o.Since) {
			return nil
		}
		if !o.Until.IsZero() && l.Time.After(o.Until) {
			return nil
		}
		return out(l)
	}
	readAll := func(collect bool) error {
		if f == nil {
			return nil
		}
		if st, err := f.Stat(); err == nil && st.Size() < offset {
			offset = 0 // truncated by rotation: start over
			pending = nil
		}
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			return err
		}
		r := bufio.NewReaderSize(f, 64*1024)
		for {
			raw, err := r.ReadString('\n')
			if err != nil {
				break // an unterminated last line is re-read on the next round
			}
			offset += int64(len(raw))
			t, stream, partial, text, perr := ParseLogLine(strings.TrimSuffix(raw, "\n"))
			if perr != nil {
				continue
			}
			if pending != nil && pending.Stream == stream {
				pending.Text += text
			} else {
				if pending != nil {
					if err := flush(collect, &lines, *pending, emit); err != nil {
						return err
					}
				}
				pending = &LogLine{Time: t, Stream: stream, Text: text}
			}
			if !partial {
				l := *pending
				pending = nil
				if err := flush(collect, &lines, l, emit); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := readAll(true); err != nil {
		return err
	}
	if !o.Follow && pending != nil {
		p := *pending
		p.Partial = true
		lines = append(lines, p)
		pending = nil
	}
	if o.Tail >= 0 && len(lines) > o.Tail {
		lines = lines[len(lines)-o.Tail:]
	}
	for _, l := range lines {
		if err := emit(l); err != nil {
			return err
		}
	}
	if !o.Follow {
		if f != nil {
			f.Close()
		}
		return nil
	}
	every := o.PollEvery
	if every == 0 {
		every = 100 * time.Millisecond
	}
	for {
		exited := c.exitedNow()
		if f == nil {
			f, _ = os.Open(c.Config.LogPath)
		}
		if err := readAll(false); err != nil {
			return err
		}
		if exited {
			if pending != nil {
				p := *pending
				p.Partial = true
				_ = emit(p)
			}
			if f != nil {
				f.Close()
			}
			return nil
		}
		select {
		case <-ctx.Done():
			if f != nil {
				f.Close()
			}
			return nil
		case <-time.After(every):
		}
	}
}

func flush(collect bool, lines *[]LogLine, l LogLine, emit func(LogLine) error) error {
	if collect {
		*lines = append(*lines, l)
		return nil
	}
	return emit(l)
}

// exitedNow tells whether the container is not running, reading the shim's exit file first so that a
// container that just exited counts as exited before its cleanup ran.
func (c *Container) exitedNow() bool {
	if _, err := shim.ReadExit(c.RunDir()); err == nil {
		return true
	}
	fresh, err := c.rt.loadContainer(c.Config.ID)
	if err != nil {
		return true
	}
	switch fresh.State.Status {
	case StatusRunning, StatusPaused:
		return false
	case StatusCreated:
		return false
	}
	return true
}
