package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestContainerTTY: run -it through a real pty: the container has a terminal
// of the same size, ctrl-p ctrl-q detaches and leaves it running, attach
// reconnects, and the shell's exit code comes back through attach.
func TestContainerTTY(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		name := Unique("tty")
		e.Forget(t, name)
		p := e.StartPty(t, "run", "-it", "--name", name, "--network", "none", BusyboxRef, "sh")
		p.Expect(0, "# ") // the prompt: the CLI has put the terminal in raw mode
		p.Send("tty; stty size; echo $((6*7))x\n")
		at := p.Expect(0, "42x")
		out := p.Output()
		if !regexp.MustCompile(`/dev/pts/\d+\r?\n`).MatchString(out) {
			t.Fatalf("tty in run -it does not print /dev/pts/N:\n%q", out)
		}
		// openPty made the terminal 40 rows by 120 columns.
		if !strings.Contains(out, "40 120") {
			t.Fatalf("stty size in run -it: want the terminal's 40 120:\n%q", out)
		}

		// ctrl-p ctrl-q, typed one after the other: the CLI returns 0, the
		// container keeps running.
		p.Send("\x10")
		time.Sleep(300 * time.Millisecond)
		p.Send("\x11")
		if code := p.Wait(); code != 0 {
			t.Fatalf("run -it detached with ctrl-p ctrl-q exited %d, want 0:\n%q", code, p.Output()[at:])
		}
		if got := e.CtrState(t, name); got != "running" {
			t.Fatalf("after the detach the container is %q, want running", got)
		}
		if got := e.Inspect(t, name, "{{.Config.Tty}} {{.Config.OpenStdin}}"); got != "true true" {
			t.Fatalf(".Config.Tty .Config.OpenStdin = %q, want true true", got)
		}

		// attach --detach-keys: other keys detach.
		d := e.StartPty(t, "attach", "--detach-keys", "ctrl-a,x", name)
		time.Sleep(500 * time.Millisecond)
		d.Send("\x01")
		time.Sleep(300 * time.Millisecond)
		d.Send("x")
		if code := d.Wait(); code != 0 {
			t.Fatalf("attach --detach-keys ctrl-a,x: exited %d, want 0:\n%q", code, d.Output())
		}
		if got := e.CtrState(t, name); got != "running" {
			t.Fatalf("after the detach the container is %q, want running", got)
		}

		// attach: the same shell; exit 3 ends the container with 3 and
		// attach with 0 (podman's attach does not pass the exit code on;
		// start --attach does).
		a := e.StartPty(t, "attach", name)
		time.Sleep(500 * time.Millisecond) // attach prints nothing when it is ready
		a.Send("echo again-$((1+2))\n")
		a.Expect(0, "again-3")
		a.Send("exit 3\n")
		if code := a.Wait(); code != 0 {
			t.Fatalf("attach: the shell exited 3, attach exited %d, want 0 like podman:\n%q", code, a.Output())
		}
		e.WaitState(t, name, "exited")
		if got := e.Inspect(t, name, "{{.State.ExitCode}}"); got != "3" {
			t.Fatalf("exit code after exit 3 in the attached shell: %s", got)
		}

		// exec -it gets a terminal of its own.
		sl := e.Sleeper(t, "ttyexec")
		x := e.StartPty(t, "exec", "-it", sl, "sh", "-c", "tty; echo done-$((2*2))")
		x.Expect(0, "done-4")
		if code := x.Wait(); code != 0 {
			t.Fatalf("exec -it exited %d", code)
		}
		if !regexp.MustCompile(`/dev/pts/\d+`).MatchString(x.Output()) {
			t.Fatalf("tty in exec -it: %q", x.Output())
		}

		// Without -t there is no terminal in the container, even on a pty.
		n := e.StartPty(t, "run", "--rm", "-i", "--network", "none", BusyboxRef, "sh", "-c", "tty; echo end")
		n.Expect(0, "end")
		if code := n.Wait(); code != 1 && code != 0 {
			t.Fatalf("run -i tty exited %d", code)
		}
		if !strings.Contains(n.Output(), "not a tty") {
			t.Fatalf("run -i (no -t) on a pty: tty should say %q:\n%q", "not a tty", n.Output())
		}

		// -t without a terminal on the CLI's side still gives the container
		// one; its output comes back with the terminal's CRLF.
		r := e.RunCtr(t, "-t", BusyboxRef, "sh", "-c", "tty; exit 2")
		WantExit(t, r, 2)
		if !regexp.MustCompile(`^/dev/pts/\d+\r\n$`).MatchString(r.Stdout) {
			t.Fatalf("run -t (no pty on the CLI side): stdout %q, want /dev/pts/N\\r\\n", r.Stdout)
		}
	})
}

// TestContainerTTYDetachOneRead: ctrl-p ctrl-q arriving in one read (pasted,
// or sent by a program) detach too.
func TestContainerTTYDetachOneRead(t *testing.T) {
	SkipIfPodman(t, "podman 4.3.1 passes ctrl-p ctrl-q to the container when both bytes arrive in one read")
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		name := Unique("ttyone")
		e.Forget(t, name)
		p := e.StartPty(t, "run", "-it", "--name", name, "--network", "none", BusyboxRef, "sh")
		p.Expect(0, "# ")
		p.Send("\x10\x11")
		if code := p.Wait(); code != 0 {
			t.Fatalf("run -it with ctrl-p ctrl-q in one write exited %d, want 0 (detached):\n%q", code, p.Output())
		}
		if got := e.CtrState(t, name); got != "running" {
			t.Fatalf("after the detach the container is %q, want running", got)
		}
		p = e.StartPty(t, "attach", "--detach-keys", "ctrl-a,x", name)
		time.Sleep(500 * time.Millisecond)
		p.Send("\x01x")
		if code := p.Wait(); code != 0 {
			t.Fatalf("attach --detach-keys ctrl-a,x, both keys in one write: exited %d, want 0:\n%q", code, p.Output())
		}
	})
}
