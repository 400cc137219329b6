package e2e

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestContainerConfinement: what a default container may not do: write
// /proc/sys or /sys, make device nodes, set the host name, see other
// processes, read masked /proc files; rootless, its root is the user on the
// host and ids outside the user's range do not exist.
func TestContainerConfinement(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		// One container tries each; the script prints each message and exit code.
		checks := []struct{ cmd, msg string }{
			{"echo x > /proc/sys/kernel/hostname", "sh: can't create /proc/sys/kernel/hostname: Read-only file system"},
			{"echo x > /sys/kernel/uevent_helper", "sh: can't create /sys/kernel/uevent_helper: Read-only file system"},
			{"touch /sys/x", "touch: /sys/x: Read-only file system"},
			{"mknod /tmp/null c 1 3", "mknod: /tmp/null: Operation not permitted"},
			{"hostname foo", "hostname: sethostname: Operation not permitted"},
			{"mount -t tmpfs none /tmp", "mount: permission denied (are you root?)"},
		}
		var script, want []string
		for _, c := range checks {
			script = append(script, "("+c.cmd+") 2>&1; echo rc=$?")
			want = append(want, c.msg, "rc=1")
		}
		// Its own pid namespace: only the container's processes.
		script = append(script, "ps -o comm >/tmp/ps; sort -u /tmp/ps | tr '\\n' ' '; echo")
		want = append(want, "COMMAND ps sh ")
		r := e.RunCtr(t, BusyboxRef, "sh", "-c", strings.Join(script, "\n"))
		WantExit(t, r, 0)
		if got := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("confinement script printed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}

		// Masked and read-only paths (podman's defaults), where the host has them.
		mounts := map[string]string{}
		for _, l := range strings.Split(e.RunCtrOut(t, BusyboxRef, "cat", "/proc/mounts"), "\n") {
			if f := strings.Fields(l); len(f) >= 4 {
				mounts[f[1]] = f[3]
			}
		}
		for _, p := range []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
			"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/dev/block",
			"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", "/sys"} {
			if _, err := os.Stat(p); err != nil {
				continue
			}
			if opts, ok := mounts[p]; !ok || !strings.HasPrefix(opts, "ro") {
				t.Errorf("%s in a container: mount options %q (mounted: %v), want a read-only mount over it", p, opts, ok)
			}
		}
		if got := e.RunCtrOut(t, BusyboxRef, "sh", "-c", "wc -c </proc/timer_list"); got != "0" {
			t.Errorf("masked /proc/timer_list has %s bytes in a container, want 0", got)
		}

		// Who the container's root is on the host.
		name := e.Sleeper(t, "whoami")
		nobody := e.Sleeper(t, "whoamiu", "-u", "65534")
		wantMap := "0 0 4294967295"
		rootUID, nobodyUID := 0, 65534
		if e.Rootless() {
			wantMap = fmt.Sprintf("0 %d 1\n1 %d %d", e.UID, subidStart, subidCount)
			rootUID, nobodyUID = e.UID, subidStart+65534-1
		}
		var rows []string
		for _, l := range e.RunOK(t, "exec", name, "cat", "/proc/self/uid_map").Lines() {
			rows = append(rows, strings.Join(strings.Fields(l), " "))
		}
		if got := strings.Join(rows, "\n"); got != wantMap {
			t.Errorf("uid_map in the container:\n%s\nwant\n%s", got, wantMap)
		}
		for ctr, want := range map[string]int{name: rootUID, nobody: nobodyUID} {
			pid := e.CtrPid(t, ctr)
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil {
				t.Fatal(err)
			}
			m := regexp.MustCompile(`(?m)^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$`).FindStringSubmatch(string(status))
			if m == nil || m[1] != fmt.Sprint(want) || m[2] != fmt.Sprint(want) {
				t.Errorf("container %s (pid %d) runs as host uid %v, want %d", ctr, pid, m, want)
			}
		}
		// Rootless, an id outside the mapped range cannot be used.
		r = e.Run(t, "exec", name, "sh", "-c", "touch /tmp/f && chown 12345 /tmp/f && chown 70000 /tmp/f")
		if e.Rootless() {
			if r.Code != 1 || strings.TrimSpace(Stderr(r)) != "chown: /tmp/f: Invalid argument" {
				t.Errorf("rootless chown to an unmapped uid: want exit 1 and %q:\n%s", "chown: /tmp/f: Invalid argument", r)
			}
		} else {
			WantExit(t, r, 0)
		}
	})
}
