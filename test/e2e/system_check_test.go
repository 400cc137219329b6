package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSystemCheck: what a crash leaves behind (a container whose shim died, a truncated state file) is
// reported by `system check` (exit 125), fixed by `system check --repair`, and then nothing is left.
func TestSystemCheck(t *testing.T) {
	SkipIfPodman(t, "podman 4.3.1 has no `system check` (added in podman 5)")
	ForEachIsolatedCtrMode(t, func(t *testing.T, e *Env) {
		WantOut(t, e.Run(t, "system", "check"), "No problems found")

		orphan := e.Sleeper(t, "orphan")
		shim, _ := strconv.Atoi(e.Inspect(t, orphan, "{{.State.ConmonPid}}"))
		pid := e.CtrPid(t, orphan)
		if err := syscall.Kill(shim, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 of the shim %d: %v", shim, err)
		}
		for deadline := time.Now().Add(10 * time.Second); alive(shim) && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}

		broken := e.Sleeper(t, "broken")
		brokenID := e.Inspect(t, broken, "{{.Id}}")
		e.RunOK(t, "stop", "-t", "0", broken)
		doc := filepath.Join(e.GraphRoot, "skiff", "containers", brokenID+".json")
		if err := os.Truncate(doc, 7); err != nil {
			t.Fatalf("truncating %s: %v", doc, err)
		}

		r := e.Run(t, "system", "check")
		WantExit(t, r, 125)
		if !strings.Contains(r.Stdout, "corrupt-state "+brokenID) || !strings.Contains(r.Stdout, doc) {
			t.Fatalf("system check does not report the truncated %s:\n%s", doc, r)
		}
		if !strings.Contains(r.Stdout, "dead-shim ") {
			t.Fatalf("system check does not report the container whose shim died:\n%s", r)
		}

		r = e.RunOK(t, "system", "check", "--repair")
		if strings.Count(r.Stdout, "(repaired)") < 2 || strings.Contains(r.Stdout, "(found)") {
			t.Fatalf("system check --repair left something:\n%s", r)
		}
		WantOut(t, e.Run(t, "system", "check"), "No problems found")
		if alive(pid) {
			t.Fatalf("the orphaned container's process %d still runs after the repair", pid)
		}
		if _, err := os.Stat(doc); !os.IsNotExist(err) {
			t.Fatalf("the corrupt state file is still there: %v", err)
		}
		if got := e.CtrState(t, orphan); got != "exited" {
			t.Fatalf("the orphaned container is %q after the repair, want exited", got)
		}
		if r := e.Run(t, "container", "exists", broken); r.Code != 1 {
			t.Fatalf("the broken container still exists after the repair:\n%s", r)
		}
	})
}
