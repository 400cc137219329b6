package shim

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestDetacher(t *testing.T) {
	keys := []byte{0x10, 0x11} // ctrl-p ctrl-q
	for _, c := range []struct {
		name   string
		chunks []string
		out    string
		detach bool
	}{
		{"plain", []string{"hello"}, "hello", false},
		{"detach", []string{"ab\x10\x11cd"}, "ab", true},
		{"split across reads", []string{"ab\x10", "\x11"}, "ab", true},
		{"prefix then other", []string{"a\x10b"}, "a\x10b", false},
		{"prefix at the end of a read then other", []string{"a\x10", "b"}, "a\x10b", false},
		{"double prefix", []string{"\x10\x10\x11"}, "\x10", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := detacher{keys: keys}
			var out []byte
			detached := false
			for _, ch := range c.chunks {
				o, det := d.feed([]byte(ch))
				out = append(out, o...)
				if det {
					detached = true
					break
				}
			}
			if string(out) != c.out || detached != c.detach {
				t.Errorf("got %q detach=%v, want %q detach=%v", out, detached, c.out, c.detach)
			}
		})
	}
	d := detacher{keys: keys}
	if out, _ := d.feed([]byte("x\x10")); string(out) != "x" {
		t.Errorf("held prefix forwarded: %q", out)
	}
	if held := d.flush(); string(held) != "\x10" {
		t.Errorf("flush: %q", held)
	}
	none := detacher{}
	if out, det := none.feed([]byte("\x10\x11")); det || string(out) != "\x10\x11" {
		t.Error("detaching with no keys")
	}
}

func TestParseDetachKeys(t *testing.T) {
	for spec, want := range map[string][]byte{
		"ctrl-p,ctrl-q": {0x10, 0x11},
		"ctrl-a,x":      {0x01, 'x'},
		"ctrl-@,ctrl-[": {0x00, 0x1b},
		"ctrl-_":        {0x1f},
		"":              {},
	} {
		got, err := ParseDetachKeys(spec)
		if err != nil || !bytes.Equal(got, want) || got == nil {
			t.Errorf("ParseDetachKeys(%q) = %v, %v; want %v", spec, got, err, want)
		}
	}
	for _, bad := range []string{"ctrl-", "ctrl-1", "ab", "ctrl-p,"} {
		if _, err := ParseDetachKeys(bad); err == nil {
			t.Errorf("ParseDetachKeys(%q) accepted", bad)
		}
	}
}

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	_ = WriteFrame(&buf, FrameStdout, []byte("hello"))
	_ = WriteFrame(&buf, FrameResize, ResizePayload(Size{Rows: 50, Cols: 132}))
	_ = WriteFrame(&buf, FrameStdinEOF, nil)
	typ, p, err := ReadFrame(&buf, nil)
	if err != nil || typ != FrameStdout || string(p) != "hello" {
		t.Fatalf("frame 1: %d %q %v", typ, p, err)
	}
	typ, p, err = ReadFrame(&buf, nil)
	sz, perr := ParseResize(p)
	if err != nil || typ != FrameResize || perr != nil || sz != (Size{50, 132}) {
		t.Fatalf("frame 2: %d %v %v %v", typ, sz, err, perr)
	}
	typ, p, err = ReadFrame(&buf, nil)
	if err != nil || typ != FrameStdinEOF || len(p) != 0 {
		t.Fatalf("frame 3: %d %q %v", typ, p, err)
	}
	if _, _, err := ReadFrame(&buf, nil); err != io.EOF {
		t.Errorf("end: %v, want io.EOF", err)
	}
	if _, _, err := ReadFrame(bytes.NewReader([]byte{2, 0, 0}), nil); err == nil || err == io.EOF {
		t.Errorf("truncated header: %v", err)
	}
	if _, _, err := ReadFrame(bytes.NewReader([]byte{2, 0, 0, 0, 9, 'a'}), nil); err == nil {
		t.Error("truncated payload accepted")
	}
	if _, _, err := ReadFrame(bytes.NewReader([]byte{2, 0xff, 0, 0, 0}), nil); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("huge frame: %v", err)
	}
}

func TestClassifyRuntimeError(t *testing.T) {
	for msg, want := range map[string]int{
		"executable file `x` not found in $PATH: No such file or directory":                                127,
		"open executable: Permission denied":                                                               126,
		"open executable: Operation not permitted":                                                         126,
		"runc create failed: unable to start container process: exec: \"/x\": permission denied":           126,
		"runc create failed: unable to start container process: exec: \"x\": executable file not found in": 127,
		"mount `proc` to `/proc`: Device or resource busy":                                                 125,
	} {
		code, text := ClassifyRuntimeError("warning: something\n" + msg + "\n")
		if code != want {
			t.Errorf("%q: code %d, want %d", msg, code, want)
		}
		if want != 125 && text != msg {
			t.Errorf("%q: text %q", msg, text)
		}
		if want == 125 && !strings.Contains(text, "warning") {
			t.Errorf("%q: generic errors keep the whole message, got %q", msg, text)
		}
	}
	e := &RuntimeError{Runtime: "crun", Msg: "boom", Code: 0}
	if e.ExitCode() != 125 || !errors.Is(e, ErrRuntime) || e.Error() != "crun: boom: OCI runtime error" {
		t.Errorf("RuntimeError: %d %v %q", e.ExitCode(), errors.Is(e, ErrRuntime), e.Error())
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{ID: "x", Runtime: "/usr/bin/crun", Bundle: "/b", RunDir: "/r"}
	if err := ok.Validate(); err != nil || ok.EffectiveLogDriver() != LogDriverNone {
		t.Errorf("minimal config: %v %s", err, ok.EffectiveLogDriver())
	}
	withPath := ok
	withPath.LogPath = "/l"
	if withPath.EffectiveLogDriver() != LogDriverK8sFile {
		t.Error("a log path without a driver is k8s-file")
	}
	for name, mut := range map[string]func(*Config){
		"no id":           func(c *Config) { c.ID = "" },
		"relative":        func(c *Config) { c.Runtime = "crun" },
		"k8s no path":     func(c *Config) { c.LogDriver = "k8s-file" },
		"journald":        func(c *Config) { c.LogDriver = "journald" },
		"passthrough tty": func(c *Config) { c.LogDriver = "passthrough"; c.Terminal = true },
	} {
		c := ok
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
