package shim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skiffcontainers/skiff/libpod/shim"
)

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// podman's k8s-file line, as conmon writes it: 9-digit nanoseconds, numeric offset.
var logLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}[+-]\d\d:\d\d) (stdout|stderr) ([FP]) (.*)$`)

type entry struct{ stream, tag, content string }

func parseLog(t *testing.T, text string) []entry {
	t.Helper()
	var out []entry
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		if !strings.HasSuffix(line, "\n") {
			t.Fatalf("log does not end in a newline: %q", line)
		}
		m := logLine.FindStringSubmatch(strings.TrimSuffix(line, "\n"))
		if m == nil {
			t.Fatalf("log line not in k8s-file format: %q", line)
		}
		if _, err := time.Parse(time.RFC3339Nano, m[1]); err != nil {
			t.Fatalf("timestamp %q: %v", m[1], err)
		}
		out = append(out, entry{m[2], m[3], m[4]})
	}
	return out
}

func TestLogK8sFile(t *testing.T) {
	c := newCtr(t, false, "sh", "-c", "echo out1; echo err1 >&2; echo out2; printf 'abc'; sleep 0.3; echo def; printf tail")
	c.spawn()
	c.start()
	info := c.wait(10 * time.Second)
	if info.ExitCode != 0 {
		t.Fatalf("exit code %d", info.ExitCode)
	}
	entries := parseLog(t, c.logText())
	var stdout, stderr []entry
	for _, e := range entries {
		if e.stream == "stdout" {
			stdout = append(stdout, e)
		} else {
			stderr = append(stderr, e)
		}
	}
	wantOut := []entry{{"stdout", "F", "out1"}, {"stdout", "F", "out2"}, {"stdout", "P", "abc"}, {"stdout", "F", "def"}, {"stdout", "P", "tail"}}
	if fmt.Sprint(stdout) != fmt.Sprint(wantOut) {
		t.Errorf("stdout entries\n got %v\nwant %v", stdout, wantOut)
	}
	if want := []entry{{"stderr", "F", "err1"}}; fmt.Sprint(stderr) != fmt.Sprint(want) {
		t.Errorf("stderr entries %v, want %v", stderr, want)
	}
}

func TestLogLongLineSplit(t *testing.T) {
	// 20000 bytes on one line: entries of at most 8192 bytes (conmon's read size), P... then F.
	c := newCtr(t, false, "sh", "-c", "head -c 20000 /dev/zero | tr '\\0' x; echo")
	c.cfg.LogDriver = ""
	c.spawn()
	c.start()
	c.wait(10 * time.Second)
	entries := parseLog(t, c.logText())
	total := 0
	for i, e := range entries {
		if len(e.content) > 8192 {
			t.Errorf("entry %d has %d bytes", i, len(e.content))
		}
		if want := map[bool]string{true: "F", false: "P"}[i == len(entries)-1]; e.tag != want {
			t.Errorf("entry %d tag %s, want %s", i, e.tag, want)
		}
		total += len(e.content)
	}
	if total != 20000 || len(entries) < 3 {
		t.Errorf("%d bytes in %d entries, want 20000 in >= 3", total, len(entries))
	}
}

func TestLogMaxSize(t *testing.T) {
	c := newCtr(t, false, "sh", "-c", "seq 1 300")
	c.cfg.LogMaxSize = 2000
	c.spawn()
	c.start()
	c.wait(10 * time.Second)
	text := c.logText()
	if len(text) > 2000 {
		t.Errorf("log has %d bytes, limit 2000", len(text))
	}
	entries := parseLog(t, text)
	if len(entries) == 0 || entries[len(entries)-1].content != "300" {
		t.Fatalf("the log does not end with the last line: %v", entries)
	}
	// Contiguous numbers: rotation drops whole entries, never part of one.
	first, _ := strconv.Atoi(entries[0].content)
	for i, e := range entries {
		if e.content != strconv.Itoa(first+i) {
			t.Fatalf("entry %d is %q, want %d", i, e.content, first+i)
		}
	}
}

func TestLogDriverNone(t *testing.T) {
	c := newCtr(t, false, "echo", "hi")
	c.cfg.LogDriver = "none"
	c.spawn()
	c.start()
	c.wait(10 * time.Second)
	if _, err := os.Stat(c.cfg.LogPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("log driver none wrote a log: %v", err)
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		kill bool
		want int
	}{
		{"zero", []string{"true"}, false, 0},
		{"three", []string{"sh", "-c", "exit 3"}, false, 3},
		{"sigkill", []string{"sleep", "100"}, true, 137},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, false, tc.args...)
			c.spawn()
			c.start()
			if tc.kill {
				if err := syscall.Kill(c.proc.ContainerPID, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
			info := c.wait(10 * time.Second)
			if info.ExitCode != tc.want {
				t.Errorf("exit code %d, want %d", info.ExitCode, tc.want)
			}
			if info.FinishedAt.IsZero() || time.Since(info.FinishedAt) > time.Minute {
				t.Errorf("finishedAt %v", info.FinishedAt)
			}
			if info.OOMKilled {
				t.Error("reported as OOM-killed")
			}
		})
	}
}

func TestOOMKilled(t *testing.T) {
	setup(t)
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err != nil && !cgroup2() {
		t.Skip("no cgroup v1 memory hierarchy and no cgroup v2")
	}
	// Command substitution keeps all 200 MB in the shell's memory: over the 6 MB limit.
	c := newCtr(t, false, "sh", "-c", `x=$(head -c 200000000 /dev/zero | tr '\0' a); echo ${#x}`)
	c.editSpec(func(spec map[string]any) {
		linux := spec["linux"].(map[string]any)
		linux["cgroupsPath"] = "/skiff-shim-test-" + c.id[:12]
		linux["resources"] = map[string]any{"memory": map[string]any{"limit": 6 << 20, "swap": 6 << 20}}
	})
	c.spawn()
	c.start()
	info := c.wait(30 * time.Second)
	if info.ExitCode != 137 || !info.OOMKilled {
		t.Errorf("exit code %d, oomKilled %v: want 137 and true", info.ExitCode, info.OOMKilled)
	}
}

func cgroup2() bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	return err == nil && strings.Contains(string(data), " /sys/fs/cgroup rw") && strings.Contains(string(data), " - cgroup2 ")
}

func TestRuntimeErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"/no/such/command"}, 127},
		{[]string{"nosuchcommand"}, 127},
		{[]string{"/etc"}, 126}, // a directory: not executable
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			t.Parallel()
			c := newCtr(t, false, tc.args...)
			p, err := shim.Spawn(shimBin, c.cfg)
			if err == nil {
				c.proc = p
				t.Fatalf("Spawn succeeded for %v", tc.args)
			}
			var rerr *shim.RuntimeError
			if !errors.As(err, &rerr) || !errors.Is(err, shim.ErrRuntime) {
				t.Fatalf("error %v (%T) is not a RuntimeError wrapping ErrRuntime", err, err)
			}
			if rerr.ExitCode() != tc.code {
				t.Errorf("exit code %d, want %d (%v)", rerr.ExitCode(), tc.code, err)
			}
			if rerr.Runtime != filepath.Base(crunPath) || rerr.Msg == "" {
				t.Errorf("runtime %q, message %q", rerr.Runtime, rerr.Msg)
			}
			t.Logf("%v", err)
		})
	}
}

func TestConfigErrors(t *testing.T) {
	c := newCtr(t, true, "true")
	c.cfg.LogDriver = "passthrough"
	if _, err := shim.Spawn(shimBin, c.cfg); err == nil || !strings.Contains(err.Error(), "terminal") {
		t.Errorf("passthrough with a terminal: %v", err)
	}
	c.cfg.LogDriver = "journald"
	if _, err := shim.Spawn(shimBin, c.cfg); err == nil {
		t.Error("journald accepted")
	}
	// A runtime that cannot be run is the engine's failure, not the command's: no RuntimeError (127).
	c.cfg.LogDriver = "none"
	c.cfg.Runtime = "/nonexistent/crun"
	_, err := shim.Spawn(shimBin, c.cfg)
	var rerr *shim.RuntimeError
	if err == nil || errors.As(err, &rerr) || !strings.Contains(err.Error(), "/nonexistent/crun") {
		t.Errorf("missing runtime: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the attach goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAttachBeforeStartSeesAllOutput(t *testing.T) {
	c := newCtr(t, false, "sh", "-c", "seq 1 5000; echo done >&2; exit 7")
	c.spawn()
	ctx, cancel := contextWithTimeout(20 * time.Second)
	defer cancel()
	// Two clients: output goes to every one.
	var out1, err1, out2 syncBuffer
	conn1, err := shim.Dial(ctx, c.runDir, shim.Streams{Stdout: &out1, Stderr: &err1})
	if err != nil {
		t.Fatal(err)
	}
	defer conn1.Close()
	conn2, err := shim.Dial(ctx, c.runDir, shim.Streams{Stdout: &out2})
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	c.start()
	if err := conn1.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := conn2.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := 1; i <= 5000; i++ {
		fmt.Fprintf(&want, "%d\n", i)
	}
	if out1.String() != want.String() || out2.String() != want.String() {
		t.Errorf("attach lost output: got %d and %d bytes, want %d", len(out1.String()), len(out2.String()), want.Len())
	}
	if err1.String() != "done\n" {
		t.Errorf("stderr %q", err1.String())
	}
	if code, ok := conn1.ExitCode(); !ok || code != 7 {
		t.Errorf("exit code from the session: %d %v", code, ok)
	}
	// The exit file is written before the clients are let go.
	if info, err := shim.ReadExit(c.runDir); err != nil || info.ExitCode != 7 {
		t.Errorf("ReadExit after the session: %v %v", info, err)
	}
	// Attaching now fails cleanly.
	if err := shim.Attach(ctx, c.runDir, shim.Streams{}); err == nil {
		t.Error("attach to an exited container succeeded")
	}
}

func TestAttachStdin(t *testing.T) {
	c := newCtr(t, false, "cat")
	c.cfg.Stdin = true
	c.spawn()
	ctx, cancel := contextWithTimeout(20 * time.Second)
	defer cancel()
	var out syncBuffer
	conn, err := shim.Dial(ctx, c.runDir, shim.Streams{Stdin: strings.NewReader("hello\nworld\n"), Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c.start()
	// stdin's EOF closes the container's stdin: cat exits.
	if err := conn.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if out.String() != "hello\nworld\n" {
		t.Errorf("echoed %q", out.String())
	}
	if info := c.wait(5 * time.Second); info.ExitCode != 0 {
		t.Errorf("exit code %d", info.ExitCode)
	}
}

func TestAttachStdinTwoClients(t *testing.T) {
	c := newCtr(t, false, "cat")
	c.cfg.Stdin = true
	c.spawn()
	c.start()
	ctx, cancel := contextWithTimeout(20 * time.Second)
	defer cancel()
	ra, wa := io.Pipe()
	rb, wb := io.Pipe()
	var outA, outB syncBuffer
	a, err := shim.Dial(ctx, c.runDir, shim.Streams{Stdin: ra, Stdout: &outA})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := shim.Dial(ctx, c.runDir, shim.Streams{Stdin: rb, Stdout: &outB})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, _ = wa.Write([]byte("from a\n"))
	waitFor(t, func() bool { return outB.String() == "from a\n" }, "a's line echoed to b")
	_, _ = wb.Write([]byte("from b\n"))
	waitFor(t, func() bool { return outA.String() == "from a\nfrom b\n" }, "b's line echoed to a")
	// a's stdin ends while b is still writing: the container's stdin stays open for b.
	wa.Close()
	time.Sleep(100 * time.Millisecond)
	_, _ = wb.Write([]byte("still open\n"))
	waitFor(t, func() bool { return strings.HasSuffix(outB.String(), "still open\n") }, "b's line after a's EOF")
	// The last writer's EOF closes it: cat ends.
	wb.Close()
	if err := a.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if info := c.wait(5 * time.Second); info.ExitCode != 0 {
		t.Errorf("exit code %d", info.ExitCode)
	}
}

func TestAttachDetach(t *testing.T) {
	c := newCtr(t, false, "cat")
	c.cfg.Stdin = true
	c.spawn()
	c.start()
	ctx, cancel := contextWithTimeout(20 * time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- shim.Attach(ctx, c.runDir, shim.Streams{Stdin: pr, Stdout: &out}) }()
	if _, err := pw.Write([]byte("one\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return out.String() == "one\n" }, "the echo of the first line")
	// ctrl-p alone is input; ctrl-p ctrl-q detaches.
	_, _ = pw.Write([]byte("\x10x\n"))
	waitFor(t, func() bool { return out.String() == "one\n\x10x\n" }, "the echo of a lone ctrl-p")
	_, _ = pw.Write([]byte("\x10\x11"))
	if err := <-done; !errors.Is(err, shim.ErrDetached) {
		t.Fatalf("Attach returned %v, want ErrDetached", err)
	}
	// Detaching leaves the container and its stdin alone: attach again and use it.
	var out2 syncBuffer
	conn, err := shim.Dial(ctx, c.runDir, shim.Streams{Stdin: strings.NewReader("two\n"), Stdout: &out2})
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if out2.String() != "two\n" {
		t.Errorf("second attach echoed %q", out2.String())
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTerminal(t *testing.T) {
	c := newCtr(t, true, "sh", "-c", "tty; stty size; read x; stty size; exit 5")
	c.cfg.Stdin = true
	c.spawn()
	ctx, cancel := contextWithTimeout(20 * time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	resize := make(chan shim.Size, 2)
	resize <- shim.Size{Rows: 24, Cols: 80}
	var out syncBuffer
	conn, err := shim.Dial(ctx, c.runDir, shim.Streams{Stdin: pr, Stdout: &out, Resize: resize, Terminal: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if !conn.Terminal() {
		t.Error("the shim does not report a terminal")
	}
	// The initial size is applied when Dial returns: before the process runs.
	c.start()
	waitFor(t, func() bool { return strings.Contains(out.String(), "24 80") }, "the first stty size")
	resize <- shim.Size{Rows: 40, Cols: 100}
	time.Sleep(50 * time.Millisecond)
	_, _ = pw.Write([]byte("go\n"))
	if err := conn.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !regexp.MustCompile(`^/dev/pts/\d+\r\n24 80\r\n`).MatchString(text) {
		t.Errorf("terminal output %q: want the tty name and 24 80 first, lines ended by \\r\\n", text)
	}
	if !strings.Contains(text, "40 100") {
		t.Errorf("terminal output %q: the resize to 40x100 did not reach stty", text)
	}
	if info := c.wait(5 * time.Second); info.ExitCode != 5 {
		t.Errorf("exit code %d", info.ExitCode)
	}
	// A terminal has stdout only.
	for _, e := range parseLog(t, c.logText()) {
		if e.stream != "stdout" {
			t.Errorf("terminal log entry on %s", e.stream)
		}
	}
}

func TestLongRunDir(t *testing.T) {
	// Socket paths over sockaddr_un's 108 bytes: attach goes through /proc/self/fd, the console socket
	// through a short temporary directory.
	c := newCtr(t, true, "sh", "-c", "tty; stty size")
	long := filepath.Join(c.bundle, strings.Repeat("d", 60), strings.Repeat("e", 60))
	if err := os.MkdirAll(long, 0o700); err != nil {
		t.Fatal(err)
	}
	c.runDir, c.cfg.RunDir = long, long
	c.spawn()
	ctx, cancel := contextWithTimeout(20 * time.Second)
	defer cancel()
	resize := make(chan shim.Size, 1)
	resize <- shim.Size{Rows: 33, Cols: 77}
	var out syncBuffer
	conn, err := shim.Dial(ctx, c.runDir, shim.Streams{Stdout: &out, Resize: resize})
	if err != nil {
		t.Fatal(err)
	}
	c.start()
	if err := conn.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "/dev/pts/") || !strings.Contains(out.String(), "33 77") {
		t.Errorf("output %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(long, shim.ConsoleSock)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("console socket left: %v", err)
	}
}

// The CLI that spawned the shim dies by SIGKILL: the shim carries on and records the exit.
const helperEnv = "SKIFF_SHIM_TEST_CLI"

// cliHelper is the test binary acting as a CLI: Spawn from the request on stdin, write the Process to the
// request's report file, hang.
func cliHelper() {
	var req cliRequest
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	p, err := shim.Spawn(req.Shim, req.Cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	data, _ := json.Marshal(p)
	if err := shim.WriteFileAtomic(req.Report, data, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
	select {}
}

type cliRequest struct {
	Shim   string
	Cfg    shim.Config
	Report string
}

// startCLI runs the CLI helper with the given stdio and returns it once it has spawned the shim.
func startCLI(t *testing.T, c *ctr, stdout, stderr io.Writer) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(c.bundle, "cli-report.json")
	cli := exec.Command(self)
	cli.Env = append(os.Environ(), helperEnv+"=1")
	req, _ := json.Marshal(cliRequest{Shim: shimBin, Cfg: c.cfg, Report: report})
	cli.Stdin = bytes.NewReader(req)
	cli.Stdout, cli.Stderr = stdout, stderr
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cli.Process.Kill()
		_ = cli.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(report)
		if err == nil {
			var p shim.Process
			if err := json.Unmarshal(data, &p); err != nil {
				t.Fatal(err)
			}
			c.proc = &p
			return cli
		}
		if time.Now().After(deadline) {
			t.Fatal("the CLI helper did not spawn the shim")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestShimSurvivesCLIKill(t *testing.T) {
	c := newCtr(t, false, "sh", "-c", "sleep 0.5; echo survived; exit 4")
	cli := startCLI(t, c, nil, os.Stderr)
	c.start()
	if err := cli.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cli.Wait()
	info := c.wait(10 * time.Second)
	if info.ExitCode != 4 {
		t.Errorf("exit code %d", info.ExitCode)
	}
	if !strings.Contains(c.logText(), "stdout F survived") {
		t.Errorf("log: %q", c.logText())
	}
}

func TestPassthrough(t *testing.T) {
	c := newCtr(t, false, "sh", "-c", "echo to-stdout; echo to-stderr >&2")
	c.cfg.LogDriver = "passthrough"
	dir := t.TempDir()
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	startCLI(t, c, stdout, stderr)
	c.start()
	if info := c.wait(10 * time.Second); info.ExitCode != 0 {
		t.Errorf("exit code %d", info.ExitCode)
	}
	out, _ := os.ReadFile(stdout.Name())
	errOut, _ := os.ReadFile(stderr.Name())
	if string(out) != "to-stdout\n" || string(errOut) != "to-stderr\n" {
		t.Errorf("the container's stdio are not the CLI's: stdout %q, stderr %q", out, errOut)
	}
	if _, err := os.Stat(c.cfg.LogPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("passthrough wrote a log: %v", err)
	}
}

func TestExitCommand(t *testing.T) {
	c := newCtr(t, false, "true")
	marker := filepath.Join(c.bundle, "cleanup-ran")
	c.cfg.ExitCommand = []string{"/bin/sh", "-c", `echo "done $SKIFF_TEST_VAR $(cat ` + filepath.Join(c.runDir, shim.ExitFile) + `)" > ` + marker}
	c.cfg.ExitCommandEnv = []string{"SKIFF_TEST_VAR=fromenv"}
	c.spawn()
	c.start()
	c.wait(10 * time.Second)
	waitFor(t, func() bool {
		data, _ := os.ReadFile(marker)
		return strings.HasSuffix(string(data), "\n")
	}, "the exit command's file")
	data, _ := os.ReadFile(marker)
	if !strings.HasPrefix(string(data), `done fromenv {"exitCode":0`) {
		t.Errorf("exit command wrote %q", data)
	}
	// It replaced the shim: same pid.
	waitFor(t, func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", c.proc.ShimPID))
		return errors.Is(err, os.ErrNotExist)
	}, "the exit command to end")
}

func TestWaitExitShimKilled(t *testing.T) {
	c := newCtr(t, false, "sleep", "100")
	c.spawn()
	c.start()
	if err := syscall.Kill(c.proc.ShimPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithTimeout(10 * time.Second)
	defer cancel()
	if _, err := shim.WaitExit(ctx, c.runDir); !errors.Is(err, shim.ErrShimDied) {
		t.Errorf("WaitExit: %v, want ErrShimDied", err)
	}
	_ = syscall.Kill(c.proc.ContainerPID, syscall.SIGKILL)
}

func TestReadExitNotExited(t *testing.T) {
	if _, err := shim.ReadExit(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadExit: %v, want os.ErrNotExist", err)
	}
	ctx, cancel := contextWithTimeout(100 * time.Millisecond)
	defer cancel()
	if _, err := shim.WaitExit(ctx, t.TempDir()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitExit: %v, want DeadlineExceeded", err)
	}
}

func TestWaitExitRunDirRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		os.RemoveAll(dir)
	}()
	ctx, cancel := contextWithTimeout(5 * time.Second)
	defer cancel()
	if _, err := shim.WaitExit(ctx, dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WaitExit: %v, want os.ErrNotExist", err)
	}
}

func TestIdleRSS(t *testing.T) {
	c := newCtr(t, false, "sh", "-c", "echo started; sleep 100")
	c.spawn()
	c.start()
	ctx, cancel := contextWithTimeout(10 * time.Second)
	defer cancel()
	// An attach client for part of the time, so that the measure includes a used attach path.
	var out syncBuffer
	conn, err := shim.Dial(ctx, c.runDir, shim.Streams{Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	waitFor(t, func() bool { return strings.Contains(c.logText(), "started") }, "the container's first line")
	time.Sleep(300 * time.Millisecond)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.proc.ShimPID))
	if err != nil {
		t.Fatal(err)
	}
	field := func(text, key string) int {
		for _, line := range strings.Split(text, "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
		return 0
	}
	rollup, _ := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", c.proc.ShimPID))
	rssKB := field(string(status), "VmRSS:")
	// The file-backed part is the binary's pages, shared by every running shim; the anonymous part is
	// what each one costs on its own.
	t.Logf("skiff-shim idle VmRSS: %d kB (%.2f MB): RssAnon %d kB, RssFile %d kB, Pss %d kB, %d threads",
		rssKB, float64(rssKB)/1024, field(string(status), "RssAnon:"), field(string(status), "RssFile:"),
		field(string(rollup), "Pss:"), field(string(status), "Threads:"))
	if os.Getenv("SKIFF_SHIM_TEST_SMAPS") != "" {
		smaps, _ := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", c.proc.ShimPID))
		t.Logf("%s\n%s", status, smaps)
	}
	if rssKB == 0 || rssKB > 6*1024 {
		t.Errorf("idle RSS %d kB, want <= 6 MB", rssKB)
	}
	_ = syscall.Kill(c.proc.ContainerPID, syscall.SIGKILL)
	c.wait(10 * time.Second)
}
