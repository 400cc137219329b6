package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestContainerExec: exec into a running container: output, exit codes, -e,
// -w, -u, -i, -d, and a stopped container.
func TestContainerExec(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		name := e.Sleeper(t, "exec", "-e", "FROMRUN=1")
		r := e.Run(t, "exec", name, "sh", "-c", "echo hi; echo err >&2")
		WantOut(t, r, "hi")
		if Stderr(r) != "err\n" {
			t.Fatalf("exec stderr %q, want %q", Stderr(r), "err\n")
		}
		WantExit(t, e.Run(t, "exec", name, "sh", "-c", "exit 5"), 5)
		AssertOneLineError(t, e.Run(t, "exec", name, "/nonexistent"), 127, "/nonexistent")
		AssertOneLineError(t, e.Run(t, "exec", name, "/etc/passwd"), 126, "ermission denied")

		// The exec'd process sees the container's environment plus -e.
		WantOut(t, e.Run(t, "exec", "-e", "FOO=bar", name, "sh", "-c", `echo "$FOO $FROMRUN"`), "bar 1")
		WantOut(t, e.Run(t, "exec", "-w", "/etc", name, "pwd"), "/etc")
		WantOut(t, e.Run(t, "exec", name, "pwd"), orDefault(Busybox.Config.Config.WorkingDir, "/"))
		WantOut(t, e.Run(t, "exec", "-u", "65534", name, "id", "-u"), "65534")
		WantOut(t, e.Run(t, "exec", name, "id", "-u"), "0")
		// It runs in the container's pid namespace, beside pid 1.
		WantOut(t, e.Run(t, "exec", name, "sh", "-c", `tr '\0' ' ' </proc/1/cmdline`), "sleep 1000")

		// -i: stdin reaches the process; without -i it is empty.
		r = e.RunStdin(t, strings.NewReader("piped\nin\n"), "exec", "-i", name, "cat")
		if r.Code != 0 || r.Stdout != "piped\nin\n" {
			t.Fatalf("exec -i cat: want %q:\n%s", "piped\nin\n", r)
		}
		WantOut(t, e.RunStdin(t, strings.NewReader("x\n"), "exec", name, "cat"), "")

		// -d: prints the exec session's ID and returns; the command runs.
		r = e.RunOK(t, "exec", "-d", name, "sh", "-c", "sleep 0.3; echo done > /tmp/dflag")
		if id := strings.TrimSpace(r.Stdout); len(id) != 64 {
			t.Fatalf("exec -d printed %q, want a 64-hex session ID", r.Stdout)
		}
		var out string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if out = strings.TrimSpace(e.Run(t, "exec", name, "cat", "/tmp/dflag").Stdout); out == "done" {
				break
			}
		}
		if out != "done" {
			t.Fatalf("exec -d: the command never wrote /tmp/dflag")
		}

		// Usage errors and a stopped container.
		AssertOneLineError(t, e.Run(t, "exec"), 125, "exec requires the name or ID of a container or the --latest flag")
		e.RunOK(t, "stop", "-t", "0", name)
		AssertOneLineError(t, e.Run(t, "exec", name, "true"), 255, "can only create exec sessions on running containers: container state improper")
	})
}
