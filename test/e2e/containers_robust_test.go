package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestContainerKilledCLI: kill -9 of the CLI (its whole process group) at
// several moments of `run -d` leaves a state that ps can list and rm -f can
// remove.
func TestContainerKilledCLI(t *testing.T) {
	ForEachIsolatedCtrMode(t, func(t *testing.T, e *Env) {
		for _, delay := range []time.Duration{50 * time.Millisecond, 250 * time.Millisecond, 600 * time.Millisecond} {
			name := Unique("killedcli")
			e.Forget(t, name)
			ctx, cancel := context.WithTimeout(context.Background(), e.Timeout)
			cmd := e.Command(ctx, "run", "-d", "--name", name, "--network", "none", BusyboxRef, "sleep", "1000")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay)
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
			cancel()
			t.Logf("killed run -d after %v", delay)

			// Whatever got done, the store is consistent: ps works, and the
			// container (if it exists) is in a known state.
			r := e.RunOK(t, "ps", "-a", "--format", "{{.Names}} {{.State}}")
			for _, l := range r.Lines() {
				if strings.HasPrefix(l, name+" ") {
					st := e.CtrState(t, name)
					switch st {
					case "created", "configured", "initialized", "running", "stopped", "exited":
					default:
						t.Fatalf("after kill -9 of run -d at %v: state %q", delay, st)
					}
				}
			}
			// rm -f removes it, whatever state it is in (or it was never made).
			r = e.Run(t, "rm", "-f", "-t", "0", name)
			if r.Code != 0 {
				t.Fatalf("rm -f after kill -9 of run -d at %v:\n%s", delay, r)
			}
			WantExit(t, e.Run(t, "container", "exists", name), 1)
			// The name is free again, and the engine works.
			e.RunOK(t, "run", "-d", "--name", name, "--network", "none", BusyboxRef, "sleep", "1000")
			e.RunOK(t, "rm", "-f", "-t", "0", name)
		}
		if got := e.RunOK(t, "ps", "-a", "-q").Stdout; got != "" {
			t.Fatalf("ps -a -q at the end: %q, want nothing", got)
		}
	})
}

// TestContainerKilledShim: kill -9 of the process that watches a container
// (inspect .State.ConmonPid) makes the container exited, with the reason in
// .State.Error; it can be started again and removed.
func TestContainerKilledShim(t *testing.T) {
	SkipIfPodman(t, "podman 4.3.1 reports the container as running forever once its conmon is killed, even after its process is gone")
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		name := e.Sleeper(t, "killedshim")
		shim, _ := strconv.Atoi(e.Inspect(t, name, "{{.State.ConmonPid}}"))
		pid := e.CtrPid(t, name)
		if shim <= 0 || pid <= 0 || shim == pid {
			t.Fatalf(".State.ConmonPid %d, .State.Pid %d", shim, pid)
		}
		if err := syscall.Kill(shim, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 %d (the shim): %v", shim, err)
		}
		var status string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if status = e.CtrState(t, name); status == "exited" || status == "stopped" {
				break
			}
		}
		if status != "exited" {
			t.Fatalf("20s after kill -9 of the shim the container is %q, want exited", status)
		}
		if msg := e.Inspect(t, name, "{{.State.Error}}"); msg == "" {
			t.Fatal(".State.Error is empty after the shim was killed: want the reason")
		}
		if alive(pid) {
			t.Fatalf("the container is reported exited but its process %d is still alive", pid)
		}
		WantOut(t, e.Run(t, "start", name), name)
		e.WaitState(t, name, "running")
		if got := e.Inspect(t, name, "{{.State.Error}}"); got != "" {
			t.Fatalf("after a new start .State.Error is still %q", got)
		}
		e.RunOK(t, "rm", "-f", "-t", "0", name)
	})
}

// alive tells whether pid is a live (not zombie) process.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// TestContainerConcurrentRuns: 20 run --rm at once all succeed and leave no
// container and no mount behind.
func TestContainerConcurrentRuns(t *testing.T) {
	ForEachIsolatedCtrMode(t, func(t *testing.T, e *Env) {
		const n = 20
		results := make([]Result, n)
		ctx, cancel := context.WithTimeout(context.Background(), e.Timeout)
		defer cancel()
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.runCtx(ctx, nil, RunArgs(BusyboxRef, "sh", "-c", "echo run-"+strconv.Itoa(i)))
			}()
		}
		wg.Wait()
		for i, r := range results {
			if r.Code != 0 || r.Stdout != "run-"+strconv.Itoa(i)+"\n" {
				t.Errorf("concurrent run %d: want exit 0 and %q:\n%s", i, "run-"+strconv.Itoa(i)+"\n", r)
			}
		}
		if got := e.RunOK(t, "ps", "-a", "-q").Stdout; got != "" {
			t.Fatalf("ps -a -q after %d run --rm: %q, want nothing", n, got)
		}
		if m := containerMounts(t, e); len(m) != 0 {
			t.Fatalf("mounts left under the store after %d run --rm: %q", n, m)
		}
	})
}

// containerMounts lists mount points of container root filesystems under e's
// store, in the mount namespace e's engine uses (rootless: through unshare).
func containerMounts(t *testing.T, e *Env) []string {
	t.Helper()
	var info string
	if e.Rootless() {
		info = e.RunOK(t, "unshare", "cat", "/proc/self/mountinfo").Stdout
	} else {
		data, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Fatal(err)
		}
		info = string(data)
	}
	var out []string
	for _, l := range strings.Split(info, "\n") {
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		mp := f[4]
		// The store itself may be a bind mount (the overlay driver's home);
		// container roots are below it.
		if strings.HasPrefix(mp, e.GraphRoot+"/") && (strings.HasSuffix(mp, "/merged") || strings.Contains(mp, "/mounts/")) {
			out = append(out, mp)
		}
		if strings.HasPrefix(mp, e.RunRoot+"/") && strings.HasSuffix(mp, "/merged") {
			out = append(out, mp)
		}
	}
	return out
}

// TestContainerBrokenStateFile: a truncated state file is reported with its
// path, and every other container keeps working.
func TestContainerBrokenStateFile(t *testing.T) {
	SkipIfPodman(t, "skiff's own state store (<graphroot>/skiff/containers/<id>.json)")
	ForEachIsolatedCtrMode(t, func(t *testing.T, e *Env) {
		good := e.Sleeper(t, "good")
		broken := e.NewCtr(t, "broken", nil, "true")
		id := e.Inspect(t, broken, "{{.Id}}")
		path := filepath.Join(e.GraphRoot, "skiff", "containers", id+".json")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("the state file of %s: %v", broken, err)
		}
		if err := os.WriteFile(path, data[:len(data)/2], 0o600); err != nil {
			t.Fatal(err)
		}

		r := e.Run(t, "container", "inspect", broken)
		AssertOneLineError(t, r, 125, path)
		r = e.Run(t, "start", id)
		AssertOneLineError(t, r, 125, path)

		// ps lists the others and reports the broken one.
		r = e.Run(t, "ps", "-a", "--format", "{{.Names}}")
		if r.Code != 0 {
			t.Fatalf("ps -a with one broken state file must still work:\n%s", r)
		}
		WantContains(t, r.Lines(), good, "ps -a with a broken state file")
		if !strings.Contains(r.Stderr, id) && !strings.Contains(r.Stderr, path) {
			t.Fatalf("ps -a does not report the broken container (its ID or %s) on stderr:\n%s", path, r)
		}
		WantOut(t, e.Run(t, "exec", good, "echo", "fine"), "fine")
		other := e.Detached(t, "other", nil, "true")
		WantOut(t, e.Run(t, "wait", other), "0")

		// It can be removed by ID, after which nothing is reported.
		e.RunOK(t, "rm", "-f", id)
		r = e.RunOK(t, "ps", "-a", "--format", "{{.Names}}")
		if strings.Contains(r.Stderr, id) {
			t.Fatalf("ps -a still reports the removed container:\n%s", r)
		}
		WantExit(t, e.Run(t, "container", "exists", id), 1)
	})
}
