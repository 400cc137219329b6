package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Podman's ps statuses: "Up 2 seconds ago", "Exited (0) 1 second ago".
var (
	reUp     = regexp.MustCompile(`^Up (Less than a second|1 second|[0-9]+ seconds) ago$`)
	reExited = func(code int) *regexp.Regexp {
		return regexp.MustCompile(`^Exited \(` + strconv.Itoa(code) + `\) (Less than a second|1 second|[0-9]+ seconds) ago$`)
	}
)

// PsStatus is the ps STATUS of one container ({{.Status}}).
func (e *Env) PsStatus(t *testing.T, ctr string) string {
	t.Helper()
	lines := e.RunOK(t, "ps", "-a", "--filter", "name=^"+ctr+"$", "--format", "{{.Status}}").Lines()
	if len(lines) != 1 {
		t.Fatalf("ps -a --filter name=^%s$: want one container, got %q", ctr, lines)
	}
	return lines[0]
}

// CtrPid is inspect's .State.Pid.
func (e *Env) CtrPid(t *testing.T, ctr string) int {
	t.Helper()
	pid, err := strconv.Atoi(e.Inspect(t, ctr, "{{.State.Pid}}"))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestContainerLifecycle: create, start, stop, start, restart, rm, with the
// state and the ps status at every step.
func TestContainerLifecycle(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		name := Unique("life")
		e.Forget(t, name)
		r := e.RunOK(t, "create", "--name", name, "--network", "none", BusyboxRef, "sleep", "1000")
		id := strings.TrimSpace(r.Stdout)
		if len(id) != 64 {
			t.Fatalf("create printed %q, want the 64-hex ID", r.Stdout)
		}
		if got := e.PsStatus(t, name); got != "Created" {
			t.Fatalf("ps status after create: %q, want Created", got)
		}
		if got := e.Inspect(t, name, "{{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.State.ExitCode}}"); got != "created false 0 0" {
			t.Fatalf("after create: status running pid exitcode = %q, want %q", got, "created false 0 0")
		}
		WantNotContains(t, e.PsNames(t), name, "ps (running only) after create")

		WantOut(t, e.Run(t, "start", name), name)
		if got := e.PsStatus(t, name); !reUp.MatchString(got) {
			t.Fatalf("ps status after start: %q, want like %q", got, "Up 1 second ago")
		}
		if got := e.Inspect(t, name, "{{.State.Status}} {{.State.Running}}"); got != "running true" {
			t.Fatalf("after start: %q", got)
		}
		WantContains(t, e.PsNames(t), name, "ps after start")
		pid1 := e.CtrPid(t, name)
		if pid1 <= 0 {
			t.Fatalf(".State.Pid = %d while running", pid1)
		}

		// sleep is pid 1 and ignores SIGTERM: stop waits -t 2 seconds, then kills.
		start := time.Now()
		WantOut(t, e.Run(t, "stop", "-t", "2", name), name)
		if d := time.Since(start); d < 1800*time.Millisecond || d > 20*time.Second {
			t.Errorf("stop -t 2 of a container that ignores SIGTERM took %v, want about 2s", d)
		}
		if got := e.Inspect(t, name, "{{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.State.ExitCode}}"); got != "exited false 0 137" {
			t.Fatalf("after stop: status running pid exitcode = %q, want %q", got, "exited false 0 137")
		}
		if got := e.PsStatus(t, name); !reExited(137).MatchString(got) {
			t.Fatalf("ps status after stop: %q, want like %q", got, "Exited (137) 1 second ago")
		}
		WantNotContains(t, e.PsNames(t), name, "ps after stop")
		// Stopping a stopped container is fine.
		WantOut(t, e.Run(t, "stop", "-t", "0", name), name)

		// Start again, by full ID: the engine prints what it was given.
		WantOut(t, e.Run(t, "start", id), id)
		e.WaitState(t, name, "running")
		pid2 := e.CtrPid(t, name)
		if pid2 <= 0 || pid2 == pid1 {
			t.Fatalf("second start: pid %d (first %d)", pid2, pid1)
		}
		WantOut(t, e.Run(t, "restart", "-t", "0", id[:12]), id[:12])
		e.WaitState(t, name, "running")
		if pid3 := e.CtrPid(t, name); pid3 <= 0 || pid3 == pid2 {
			t.Fatalf("restart: pid %d (before %d)", pid3, pid2)
		}

		// rm of a running container needs -f: exit 2 (container state improper).
		r = e.Run(t, "rm", name)
		AssertOneLineError(t, r, 2, "cannot remove container "+id+" as it is running - running or paused containers cannot be removed without force: container state improper")
		WantOut(t, e.Run(t, "rm", "-f", "-t", "0", name), name)
		WantExit(t, e.Run(t, "container", "exists", name), 1)
		WantExit(t, e.Run(t, "container", "exists", id), 1)
		WantNotContains(t, e.PsNames(t, "-a"), name, "ps -a after rm -f")
	})
}

// TestContainerKillWait: kill -s delivers the signal, wait prints exit codes,
// start --attach returns the exit code.
func TestContainerKillWait(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		trap := e.Detached(t, "trap", nil, "sh", "-c",
			`trap "echo got USR1" USR1; trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 0.1; done`)
		waitLog(t, e, trap, "ready")
		WantOut(t, e.Run(t, "kill", "-s", "USR1", trap), trap)
		waitLog(t, e, trap, "got USR1")
		if got := e.CtrState(t, trap); got != "running" {
			t.Fatalf("after a trapped USR1 the container is %q, want running", got)
		}
		WantOut(t, e.Run(t, "kill", "--signal", "TERM", trap), trap)
		WantOut(t, e.Run(t, "wait", trap), "3")
		if got := e.Inspect(t, trap, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 3" {
			t.Fatalf("after TERM: %q, want %q", got, "exited 3")
		}
		// wait on an exited container prints its code again; several containers, one line each.
		sleeper := e.Sleeper(t, "killed")
		WantOut(t, e.Run(t, "kill", sleeper), sleeper) // default SIGKILL
		WantOut(t, e.Run(t, "wait", trap, sleeper), "3\n137")

		r := e.Run(t, "kill", sleeper)
		AssertOneLineError(t, r, 125, "can only kill running containers. "+e.Inspect(t, sleeper, "{{.Id}}")+" is in state exited: container state improper")
		r = e.Run(t, "kill", "-s", "BOGUS", trap)
		AssertOneLineError(t, r, 125, "invalid signal: BOGUS")

		// wait blocks until the container exits.
		slow := e.Detached(t, "slow", nil, "sh", "-c", "sleep 1.5; exit 6")
		start := time.Now()
		WantOut(t, e.Run(t, "wait", slow), "6")
		if d := time.Since(start); d < 500*time.Millisecond {
			t.Errorf("wait returned after %v, before the container exited", d)
		}
		// --condition running: waits for the start and prints -1, like podman.
		cond := e.NewCtr(t, "cond", nil, "sleep", "1000")
		done := make(chan Result, 1)
		waitCtx, cancel := context.WithTimeout(context.Background(), e.Timeout)
		defer cancel()
		go func() { done <- e.runCtx(waitCtx, nil, []string{"wait", "--condition", "running", cond}) }()
		time.Sleep(500 * time.Millisecond)
		select {
		case r := <-done:
			t.Fatalf("wait --condition running returned before the start:\n%s", r)
		default:
		}
		e.RunOK(t, "start", cond)
		select {
		case r := <-done:
			WantOut(t, r, "-1")
		case <-time.After(30 * time.Second):
			t.Fatal("wait --condition running did not return within 30s of the start")
		}
		r = e.Run(t, "wait", "--condition", "bogus", cond)
		AssertOneLineError(t, r, 125, "unknown container state: bogus")

		// start --attach: the container's output and exit code.
		att := e.NewCtr(t, "attach", nil, "sh", "-c", "echo hi; echo oops >&2; exit 6")
		r = e.Run(t, "start", "--attach", att)
		WantExit(t, r, 6)
		if r.Stdout != "hi\n" || Stderr(r) != "oops\n" {
			t.Fatalf("start --attach: stdout %q stderr %q, want %q and %q", r.Stdout, Stderr(r), "hi\n", "oops\n")
		}
	})
}

// waitLog polls logs until they contain line, for up to 20 s.
func waitLog(t *testing.T, e *Env, ctr, line string) {
	t.Helper()
	var out string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out = e.RunOK(t, "logs", ctr).Stdout
		if Contains(nonEmptyLines(out), line) {
			return
		}
	}
	t.Fatalf("logs of %s never showed %q; they show:\n%s", ctr, line, out)
}

// TestContainerPauseRenameInit: pause/unpause (root; rootless on cgroup v1 is
// refused), rename, container exists, init.
func TestContainerPauseRenameInit(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		name := e.Sleeper(t, "pause")
		id := e.Inspect(t, name, "{{.Id}}")
		if e.Rootless() && cgroupV1() {
			r := e.Run(t, "pause", name)
			// podman: "can not pause containers on rootless containers with
			// cgroup V1: this container does not have a cgroup".
			AssertOneLineError(t, r, 125, "can not pause containers on rootless containers with cgroup V1")
			r = e.Run(t, "unpause", name)
			// podman: "unpause is not supported for cgroupv1 rootless containers".
			AssertOneLineError(t, r, 125, "rootless")
			if got := e.CtrState(t, name); got != "running" {
				t.Fatalf("after a refused pause the container is %q, want running", got)
			}
		} else {
			WantOut(t, e.Run(t, "pause", name), name)
			if got := e.Inspect(t, name, "{{.State.Status}} {{.State.Paused}} {{.State.Running}}"); got != "paused true false" {
				t.Fatalf("paused: status paused running = %q, want podman's %q", got, "paused true false")
			}
			if got := e.PsStatus(t, name); got != "Paused" {
				t.Fatalf("ps status of a paused container: %q, want Paused", got)
			}
			AssertOneLineError(t, e.Run(t, "pause", name), 125, `"`+id+`" is already paused: container state improper`)
			AssertOneLineError(t, e.Run(t, "rm", name), 2, "cannot remove container "+id+" as it is paused - running or paused containers cannot be removed without force: container state improper")
			WantOut(t, e.Run(t, "unpause", name), name)
			if got := e.Inspect(t, name, "{{.State.Status}} {{.State.Paused}}"); got != "running false" {
				t.Fatalf("unpaused: %q", got)
			}
			AssertOneLineError(t, e.Run(t, "unpause", name), 125, `"`+id+`" is not paused, can't unpause: container state improper`)
		}

		// rename: the new name works, the old one is gone; a taken name or a
		// bad one is refused.
		newName := Unique("renamed")
		e.Forget(t, newName)
		e.RunOK(t, "rename", name, newName)
		WantExit(t, e.Run(t, "container", "exists", newName), 0)
		r := e.Run(t, "container", "exists", name)
		if r.Code != 1 || r.Stdout != "" || Stderr(r) != "" {
			t.Fatalf("container exists of a missing name: want exit 1 and no output:\n%s", r)
		}
		if got := e.Inspect(t, newName, "{{.Name}} {{.State.Status}}"); got != newName+" running" {
			t.Fatalf("after rename: .Name .State.Status = %q", got)
		}
		other := e.NewCtr(t, "other", nil, "true")
		AssertOneLineError(t, e.Run(t, "rename", newName, other), 125, "name "+other+" already in use")
		AssertOneLineError(t, e.Run(t, "rename", newName, "bad name!"), 125, "names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")
		AssertOneLineError(t, e.Run(t, "container", "exists"), 125, "accepts 1 arg(s), received 0")

		// init: created -> initialized (ps: Initialized) -> start -> running.
		ini := e.NewCtr(t, "init", nil, "sleep", "1000")
		WantOut(t, e.Run(t, "init", ini), ini)
		if got := e.CtrState(t, ini); got != "initialized" {
			t.Fatalf("after init: %q, want initialized", got)
		}
		if got := e.PsStatus(t, ini); got != "Initialized" {
			t.Fatalf("ps status after init: %q, want Initialized", got)
		}
		WantOut(t, e.Run(t, "start", ini), ini)
		e.WaitState(t, ini, "running")
	})
}

// cgroupV1 tells whether the host has the v1 (or hybrid) cgroup layout.
func cgroupV1() bool {
	var st syscall.Statfs_t
	return syscall.Statfs("/sys/fs/cgroup", &st) == nil && st.Type != 0x63677270 // CGROUP2_SUPER_MAGIC
}

// TestContainerMissing: every verb on an unknown container: 125 (rm: 1)
// and podman's message.
func TestContainerMissing(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		const msg = `no container with name or ID "nope" found: no such container`
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"start", "nope"}, msg}, {[]string{"stop", "nope"}, msg}, {[]string{"restart", "nope"}, msg},
			{[]string{"kill", "nope"}, msg}, {[]string{"wait", "nope"}, msg}, {[]string{"pause", "nope"}, msg},
			{[]string{"init", "nope"}, msg}, {[]string{"rename", "nope", "x"}, msg}, {[]string{"logs", "nope"}, msg},
			{[]string{"exec", "nope", "true"}, msg}, {[]string{"export", "nope"}, msg}, {[]string{"commit", "nope"}, msg},
			{[]string{"attach", "nope"}, msg},
			{[]string{"top", "nope"}, "unable to look up requested container: " + msg},
			{[]string{"cp", "nope:/x", e.Dir}, `container "nope" does not exist`},
			{[]string{"diff", "nope"}, "nope not found: layer not known"},
			// inspect prints an empty array, then the error.
			{[]string{"container", "inspect", "nope"}, "inspecting object: no such container nope"},
			{[]string{"inspect", "--type", "container", "nope"}, "inspecting object: no such container nope"},
			{[]string{"inspect", "nope"}, `inspecting object: no such object: "nope"`},
		} {
			r := e.Run(t, c.args...)
			AssertOneLineError(t, r, 125, c.want)
			if wantOut := map[bool]string{true: "[]", false: ""}[strings.Contains(c.want, "inspecting object")]; strings.TrimSpace(r.Stdout) != wantOut {
				t.Fatalf("stdout %q, want %q:\n%s", r.Stdout, wantOut, r)
			}
		}
		if !(e.Rootless() && cgroupV1()) {
			AssertOneLineError(t, e.Run(t, "unpause", "nope"), 125, msg)
		}
		// rm of an unknown container is exit 1; with -f it is not an error.
		AssertOneLineError(t, e.Run(t, "rm", "nope"), 1, msg)
		WantOut(t, e.Run(t, "rm", "-f", "nope"), "")
	})
}
