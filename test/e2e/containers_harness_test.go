package e2e

// Helpers shared by the containers_*_test.go files: running containers in
// an Env, waiting for states, reading inspect and ps output, driving a pty.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// podmanRootfulRlimitQuirk says why rootful podman cannot run containers on
// this host with its default configuration.
const podmanRootfulRlimitQuirk = "rootful podman sets RLIMIT_NOFILE/RLIMIT_NPROC above this host's hard limits " +
	"(no CAP_SYS_RESOURCE, hard nofile 20000) and crun's setrlimit fails; skiff clamps them"

var ctrConfOnce struct {
	sync.Once
	path string
	err  error
}

// CtrEnv returns e ready to run containers. Against podman as root, it adds
// a containers.conf (the distribution's, plus default_ulimits this host
// allows) so that rootful podman can start containers here at all: see
// podmanRootfulRlimitQuirk. skiff runs with the plain configuration: it must
// clamp the limits itself (TestContainerRootRlimitsClamped).
func CtrEnv(t *testing.T, e *Env) *Env {
	t.Helper()
	if !IsPodman() || e.Rootless() {
		return e
	}
	ctrConfOnce.Do(func() {
		base, err := os.ReadFile("/usr/share/containers/containers.conf")
		if err != nil {
			ctrConfOnce.err = err
			return
		}
		var out []string
		for _, l := range strings.Split(string(base), "\n") {
			out = append(out, l)
			if strings.TrimSpace(l) == "[containers]" {
				out = append(out, `default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]`)
			}
		}
		ctrConfOnce.path = filepath.Join(SuiteDir, "podman-root-containers.conf")
		ctrConfOnce.err = os.WriteFile(ctrConfOnce.path, []byte(strings.Join(out, "\n")), 0o644)
	})
	if ctrConfOnce.err != nil {
		t.Fatalf("writing the rootful podman containers.conf: %v", ctrConfOnce.err)
	}
	ne := *e
	ne.ExtraEnv = append(append([]string(nil), e.ExtraEnv...), "CONTAINERS_CONF="+ctrConfOnce.path)
	return &ne
}

// ForEachCtrMode is ForEachMode with CtrEnv and the busybox image pulled.
func ForEachCtrMode(t *testing.T, fn func(t *testing.T, e *Env)) {
	t.Helper()
	ForEachMode(t, func(t *testing.T, e *Env) {
		e = CtrEnv(t, e)
		e.PullBusybox(t)
		fn(t, e)
	})
}

// ForEachIsolatedCtrMode is ForEachCtrMode on a fresh private store.
func ForEachIsolatedCtrMode(t *testing.T, fn func(t *testing.T, e *Env)) {
	t.Helper()
	ForEachMode(t, func(t *testing.T, e *Env) {
		e = CtrEnv(t, e.Isolated(t))
		e.PullBusybox(t)
		fn(t, e)
	})
}

// RunArgs is "run --rm --network none" followed by args: networking is not
// part of these tests.
func RunArgs(args ...string) []string {
	return append([]string{"run", "--rm", "--network", "none"}, args...)
}

// RunCtr runs a throwaway container (run --rm --network none ARGS) and
// returns the result.
func (e *Env) RunCtr(t *testing.T, args ...string) Result {
	t.Helper()
	return e.Run(t, RunArgs(args...)...)
}

// RunCtrOut runs a throwaway container that must exit 0 and returns its
// stdout without surrounding blanks.
func (e *Env) RunCtrOut(t *testing.T, args ...string) string {
	t.Helper()
	return strings.TrimSpace(e.RunOK(t, RunArgs(args...)...).Stdout)
}

// Forget removes the container name when the test ends, whatever happened.
func (e *Env) Forget(t *testing.T, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), e.Timeout)
		defer cancel()
		e.runCtx(ctx, nil, []string{"rm", "-f", "-t", "0", name})
	})
}

// NewCtr creates (but does not start) a container named by Unique(prefix)
// with extra create flags before the image, and cmd after it. It is removed
// at the end of the test.
func (e *Env) NewCtr(t *testing.T, prefix string, flags []string, cmd ...string) string {
	t.Helper()
	name := Unique(prefix)
	e.Forget(t, name)
	args := append([]string{"create", "--name", name, "--network", "none"}, flags...)
	args = append(args, BusyboxRef)
	e.RunOK(t, append(args, cmd...)...)
	return name
}

// Sleeper starts a detached container that sleeps (pid 1: it ignores
// SIGTERM, so stop it with -t 0) and returns its name. It is removed at the
// end of the test.
func (e *Env) Sleeper(t *testing.T, prefix string, flags ...string) string {
	t.Helper()
	return e.Detached(t, prefix, flags, "sleep", "1000")
}

// Detached runs cmd in a detached container (run -d --network none FLAGS
// IMAGE CMD) named Unique(prefix), removed at the end of the test.
func (e *Env) Detached(t *testing.T, prefix string, flags []string, cmd ...string) string {
	t.Helper()
	name := Unique(prefix)
	e.Forget(t, name)
	args := append([]string{"run", "-d", "--name", name, "--network", "none"}, flags...)
	args = append(args, BusyboxRef)
	r := e.RunOK(t, append(args, cmd...)...)
	if id := strings.TrimSpace(r.Stdout); len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
		t.Fatalf("run -d printed %q, want the 64-hex container ID", r.Stdout)
	}
	return name
}

// Inspect returns .format of container ctr (inspect --format).
func (e *Env) Inspect(t *testing.T, ctr, format string) string {
	t.Helper()
	return e.Out(t, "container", "inspect", "--format", format, ctr)
}

// InspectCtr returns the parsed inspect JSON of one container.
func (e *Env) InspectCtr(t *testing.T, ctr string) map[string]any {
	t.Helper()
	r := e.RunOK(t, "container", "inspect", ctr)
	var arr []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &arr); err != nil {
		t.Fatalf("container inspect output is not a JSON array: %v\n%s", err, r)
	}
	if len(arr) != 1 {
		t.Fatalf("container inspect %s: want 1 object, got %d", ctr, len(arr))
	}
	return arr[0]
}

// CtrState is inspect's .State.Status of ctr.
func (e *Env) CtrState(t *testing.T, ctr string) string {
	t.Helper()
	return e.Inspect(t, ctr, "{{.State.Status}}")
}

// WaitState polls until ctr's .State.Status is want, for up to 20 s.
func (e *Env) WaitState(t *testing.T, ctr, want string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = e.CtrState(t, ctr); got == want {
			return
		}
	}
	t.Fatalf("container %s: state %q, want %q after 20s", ctr, got, want)
}

// PsNames lists the names of `ps ARGS --format {{.Names}}`.
func (e *Env) PsNames(t *testing.T, args ...string) []string {
	t.Helper()
	return e.RunOK(t, append(append([]string{"ps"}, args...), "--format", "{{.Names}}")...).Lines()
}

// Stderr returns r's stderr without logrus lines (podman prints some
// warnings about this host's setup).
func Stderr(r Result) string {
	var out []string
	for _, l := range strings.SplitAfter(r.Stderr, "\n") {
		if !isLogLine(l) && l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// WantExit fails unless r exited with code.
func WantExit(t *testing.T, r Result, code int) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("want exit code %d, got %d:\n%s", code, r.Code, r)
	}
}

// WantOut fails unless r exited 0 and printed exactly want on stdout (after
// trimming surrounding blanks).
func WantOut(t *testing.T, r Result, want string) {
	t.Helper()
	WantExit(t, r, 0)
	if got := strings.TrimSpace(r.Stdout); got != want {
		t.Fatalf("stdout = %q, want %q:\n%s", got, want, r)
	}
}

// ---------------------------------------------------------------------------
// A real pseudo-terminal, for run -it and attach.

// Pty is a command running on the slave side of a new pty, as its
// controlling terminal, in its own session.
type Pty struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	mu     sync.Mutex
	buf    strings.Builder
	done   chan struct{} // closed when the command has exited
	err    error
}

// openPty opens a new pty pair; the slave belongs to uid so that a rootless
// engine can reopen it.
func openPty(uid int) (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("unlockpt: %w", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("ptsname: %w", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	s, err := os.OpenFile(name, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	if err := os.Chown(name, uid, -1); err != nil {
		m.Close()
		s.Close()
		return nil, nil, err
	}
	ws := &unix.Winsize{Row: 40, Col: 120}
	unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, ws)
	return m, s, nil
}

// StartPty runs the binary with args in e on a new pty.
func (e *Env) StartPty(t *testing.T, args ...string) *Pty {
	t.Helper()
	master, slave, err := openPty(e.UID)
	if err != nil {
		t.Fatalf("opening a pty: %v", err)
	}
	defer slave.Close()
	ctx, cancel := context.WithTimeout(context.Background(), e.Timeout)
	cmd := e.Command(ctx, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	t.Logf("[%s] $ (pty) %s %s", e.Mode, filepath.Base(Binary), strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		cancel()
		master.Close()
		t.Fatalf("starting %v on a pty: %v", args, err)
	}
	p := &Pty{t: t, master: master, cmd: cmd, done: make(chan struct{})}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			p.mu.Lock()
			p.buf.Write(b[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		p.err = cmd.Wait()
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		master.Close()
	})
	return p
}

// Output is everything the pty printed so far.
func (p *Pty) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

// Send types s on the terminal.
func (p *Pty) Send(s string) {
	p.t.Helper()
	if _, err := p.master.Write([]byte(s)); err != nil {
		p.t.Fatalf("writing to the pty: %v", err)
	}
}

// Expect waits up to 20 s until the output after offset from contains want
// and returns the offset just past it.
func (p *Pty) Expect(from int, want string) int {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out := p.Output()
		if from > len(out) {
			from = len(out)
		}
		if i := strings.Index(out[from:], want); i >= 0 {
			return from + i + len(want)
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the terminal did not show %q within 20s; it shows:\n%q", want, out)
		}
		select {
		case <-p.done:
			// One last look: the reader may still hold the tail.
			time.Sleep(200 * time.Millisecond)
			out := p.Output()
			if i := strings.Index(out[min(from, len(out)):], want); i >= 0 {
				return min(from, len(out)) + i + len(want)
			}
			p.t.Fatalf("the command exited (%v) before the terminal showed %q; it shows:\n%q", p.err, want, out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Wait waits up to 20 s for the command to exit and returns its exit code.
func (p *Pty) Wait() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.t.Fatalf("the command on the pty did not exit within 20s; the terminal shows:\n%q", p.Output())
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok && ee.Exited() {
		return ee.ExitCode()
	}
	p.t.Fatalf("the command on the pty ended with %v; the terminal shows:\n%q", p.err, p.Output())
	return -1
}
