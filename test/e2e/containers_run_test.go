package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestContainerRunExitCodes: run exits with the container's exit code, 126
// and 127 for commands that cannot run, 128+n for a signal, and 125 for its
// own errors, each with one "Error: " line.
func TestContainerRunExitCodes(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		r := e.RunCtr(t, BusyboxRef, "true")
		WantExit(t, r, 0)
		if r.Stdout != "" || Stderr(r) != "" {
			t.Fatalf("run true printed something:\n%s", r)
		}
		r = e.RunCtr(t, BusyboxRef, "sh", "-c", "exit 3")
		WantExit(t, r, 3)
		if Stderr(r) != "" {
			t.Fatalf("a container's own exit code is not an error, want no stderr:\n%s", r)
		}

		// podman: `Error: crun: executable file `/nonexistent` not found in
		// $PATH: No such file or directory: OCI runtime attempted to invoke a
		// command that was not found`.
		r = e.RunCtr(t, BusyboxRef, "/nonexistent")
		AssertOneLineError(t, r, 127, "/nonexistent")
		AssertOneLineError(t, r, 127, "not found")
		r = e.RunCtr(t, BusyboxRef, "nonexistentcmd")
		AssertOneLineError(t, r, 127, "nonexistentcmd")
		// podman: `Error: crun: open executable: Permission denied: OCI permission denied`.
		r = e.RunCtr(t, BusyboxRef, "/etc/passwd")
		AssertOneLineError(t, r, 126, "ermission denied")
		// podman: `Error: workdir "/nonexistent" does not exist on container <id>`.
		r = e.RunCtr(t, "-w", "/nonexistent", BusyboxRef, "true")
		AssertOneLineError(t, r, 126, `workdir "/nonexistent" does not exist on container`)
		// podman: `Error: unable to find user nosuchuser: no matching entries in passwd file`.
		r = e.RunCtr(t, "-u", "nosuchuser", BusyboxRef, "true")
		AssertOneLineError(t, r, 126, "unable to find user nosuchuser")

		// A signal: 128+9. With --init the shell is not pid 1 and dies of
		// its own SIGKILL; as pid 1 the kernel ignores it and the shell exits 0.
		r = e.RunCtr(t, "--init", BusyboxRef, "sh", "-c", "kill -9 $$")
		WantExit(t, r, 137)
		r = e.RunCtr(t, BusyboxRef, "sh", "-c", "kill -9 $$; exit 7")
		WantExit(t, r, 7)

		// The engine's own errors: 125.
		r = e.Run(t, RunArgs("--bogus", BusyboxRef, "true")...)
		WantUsageError(t, r, "run", "unknown flag: --bogus")
		r = e.RunCtr(t, "--pull", "never", "localhost/nope-"+Unique("img"), "true")
		AssertOneLineError(t, r, 125, "image not known")
		r = e.RunCtr(t, "--cap-add", "BOGUS", BusyboxRef, "true")
		AssertOneLineError(t, r, 125, `"CAP_BOGUS": unknown capability`)
		r = e.RunCtr(t, "--ulimit", "bogus=1", BusyboxRef, "true")
		AssertOneLineError(t, r, 125, `ulimit option "bogus=1" requires name=SOFT:HARD`)
		r = e.RunCtr(t, "--tz", "Bogus/Zone", BusyboxRef, "true")
		AssertOneLineError(t, r, 125, "Bogus/Zone")
		r = e.RunCtr(t, "--security-opt", "seccomp=/nonexistent.json", BusyboxRef, "true")
		AssertOneLineError(t, r, 125, "/nonexistent.json")
		r = e.Run(t, "run")
		AssertOneLineError(t, r, 125, "requires at least 1 arg")
	})
}

// WantUsageError checks a cobra flag error: exit 125, "Error: <msg>" and
// then "See '<binary> <verb> --help'", as podman prints it.
func WantUsageError(t *testing.T, r Result, verb, msg string) {
	t.Helper()
	WantExit(t, r, 125)
	lines := nonEmptyLines(Stderr(r))
	want := []string{"Error: " + msg, fmt.Sprintf("See '%s %s --help'", filepath.Base(Binary), verb)}
	if len(lines) != 2 || lines[0] != want[0] || lines[1] != want[1] {
		t.Fatalf("stderr = %q, want %q:\n%s", lines, want, r)
	}
}

// TestContainerRunStdio: stdout and stderr stay apart, stdin reaches the
// container only with -i, and long output arrives whole.
func TestContainerRunStdio(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		r := e.RunCtr(t, BusyboxRef, "sh", "-c", "echo out1; echo err1 >&2; echo out2; echo err2 >&2")
		WantExit(t, r, 0)
		if r.Stdout != "out1\nout2\n" || Stderr(r) != "err1\nerr2\n" {
			t.Fatalf("stdout %q (want %q), stderr %q (want %q)", r.Stdout, "out1\nout2\n", Stderr(r), "err1\nerr2\n")
		}

		r = e.RunStdin(t, strings.NewReader("hi\nthere\n"), RunArgs("-i", BusyboxRef, "cat")...)
		WantExit(t, r, 0)
		if r.Stdout != "hi\nthere\n" {
			t.Fatalf("run -i cat with stdin %q printed %q", "hi\nthere\n", r.Stdout)
		}
		r = e.RunStdin(t, strings.NewReader("abc\n"), RunArgs("-i", BusyboxRef, "sh", "-c", "read x; echo got $x; exit 4")...)
		WantExit(t, r, 4)
		if r.Stdout != "got abc\n" {
			t.Fatalf("stdout %q, want %q", r.Stdout, "got abc\n")
		}
		// Without -i the container's stdin is empty.
		r = e.RunStdin(t, strings.NewReader("hi\n"), RunArgs(BusyboxRef, "cat")...)
		WantOut(t, r, "")

		// 20000 lines (~110 KB): nothing lost, nothing reordered.
		r = e.RunCtr(t, BusyboxRef, "seq", "1", "20000")
		WantExit(t, r, 0)
		lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
		if len(lines) != 20000 || lines[0] != "1" || lines[19999] != "20000" {
			t.Fatalf("seq 1 20000: got %d lines (first %q, last %q)", len(lines), lines[0], lines[len(lines)-1])
		}
		for i, l := range lines {
			if l != strconv.Itoa(i+1) {
				t.Fatalf("seq 1 20000: line %d is %q", i+1, l)
			}
		}
	})
}

// TestContainerRunConfig: -e, --env-file, -w, -u, --entrypoint, --hostname
// and the default environment and hostname.
func TestContainerRunConfig(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		envFile := filepath.Join(e.Dir, Unique("envfile"))
		if err := os.WriteFile(envFile, []byte("A=1\n# a comment\nB=two words\n\nC=fromfile\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		// -e wins over --env-file.
		got := e.RunCtrOut(t, "-e", "X=y", "-e", "C=fromflag", "--env-file", envFile, BusyboxRef, "sh", "-c", `echo "$X|$A|$B|$C"`)
		if got != "y|1|two words|fromflag" {
			t.Fatalf("env: got %q, want %q", got, "y|1|two words|fromflag")
		}

		// The default environment: the image's PATH, then podman's additions.
		env := e.RunOK(t, RunArgs("--hostname", "envhost", BusyboxRef, "env")...).Lines()
		for _, want := range []string{Busybox.Config.Config.Env[0], "TERM=xterm", "HOME=/root", "HOSTNAME=envhost"} {
			WantContains(t, env, want, "default environment")
		}
		hasContainer := false
		for _, v := range env {
			hasContainer = hasContainer || strings.HasPrefix(v, "container=") && len(v) > len("container=")
		}
		if !hasContainer {
			t.Errorf("default environment has no container=<engine> (podman: container=podman): %q", env)
		}

		if got := e.RunCtrOut(t, "-w", "/etc", BusyboxRef, "pwd"); got != "/etc" {
			t.Fatalf("-w /etc: pwd = %q", got)
		}
		if got := e.RunCtrOut(t, BusyboxRef, "pwd"); got != orDefault(Busybox.Config.Config.WorkingDir, "/") {
			t.Fatalf("default workdir: pwd = %q, want the image's %q", got, Busybox.Config.Config.WorkingDir)
		}
		if got := e.RunCtrOut(t, "-u", "65534", BusyboxRef, "id", "-u"); got != "65534" {
			t.Fatalf("-u 65534: id -u = %q", got)
		}
		if got := e.RunCtrOut(t, "-u", "65534:65534", BusyboxRef, "id"); got != "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)" {
			t.Fatalf("-u 65534:65534: id = %q", got)
		}
		if got := e.RunCtrOut(t, BusyboxRef, "id"); got != "uid=0(root) gid=0(root)" {
			t.Fatalf("default user: id = %q, want %q", got, "uid=0(root) gid=0(root)")
		}
		if got := e.RunCtrOut(t, "--entrypoint", "echo", BusyboxRef, "hello"); got != "hello" {
			t.Fatalf("--entrypoint echo IMG hello: %q", got)
		}
		if got := e.RunCtrOut(t, "--entrypoint", `["echo","a"]`, BusyboxRef, "b"); got != "a b" {
			t.Fatalf(`--entrypoint ["echo","a"] IMG b: %q`, got)
		}
		if got := e.RunCtrOut(t, "--hostname", "myhost", BusyboxRef, "hostname"); got != "myhost" {
			t.Fatalf("--hostname myhost: hostname = %q", got)
		}

		// The default hostname is the short container ID, also in $HOSTNAME,
		// even with --name.
		name := Unique("hostname")
		e.Forget(t, name)
		out := e.Out(t, "run", "--name", name, "--network", "none", BusyboxRef, "sh", "-c", "hostname; echo $HOSTNAME")
		id := e.Inspect(t, name, "{{.Id}}")
		if out != id[:12]+"\n"+id[:12] {
			t.Fatalf("default hostname and $HOSTNAME = %q, want the short ID %s twice", out, id[:12])
		}
	})
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestContainerRunNameRmCidfile: --name, --rm leaves nothing, --cidfile
// holds the ID, --label shows in inspect and ps.
func TestContainerRunNameRmCidfile(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		name := Unique("named")
		e.Forget(t, name)
		cid := filepath.Join(e.MkdirOwned(t, Unique("cid")), "cidfile")
		e.RunOK(t, "run", "--name", name, "--network", "none", "--cidfile", cid, "--label", "e2e.k=v1", "--label", "e2e.empty=", BusyboxRef, "true")
		data, err := os.ReadFile(cid)
		if err != nil {
			t.Fatalf("--cidfile: %v", err)
		}
		id := e.Inspect(t, name, "{{.Id}}")
		if string(data) != id {
			t.Fatalf("--cidfile holds %q, want the ID %q (no newline)", data, id)
		}
		WantContains(t, e.PsNames(t, "-a"), name, "ps -a")
		if got := e.Inspect(t, name, "{{.Name}}"); got != name {
			t.Fatalf(".Name = %q, want %q", got, name)
		}
		if got := e.Inspect(t, name, `{{index .Config.Labels "e2e.k"}}|{{index .Config.Labels "e2e.empty"}}`); got != "v1|" {
			t.Fatalf(".Config.Labels: %q, want %q", got, "v1|")
		}
		// A second container with the same name: 125.
		r := e.Run(t, "create", "--name", name, BusyboxRef, "true")
		AssertOneLineError(t, r, 125, fmt.Sprintf("the container name %q is already in use by %s", name, id))
		// An existing cidfile: 125, and no container is made.
		r = e.Run(t, RunArgs("--cidfile", cid, BusyboxRef, "true")...)
		AssertOneLineError(t, r, 125, "container id file exists")

		// --rm: gone once run returns, under its name and its ID.
		rmName := Unique("rm")
		e.Forget(t, rmName)
		e.RunOK(t, RunArgs("--name", rmName, BusyboxRef, "true")...)
		WantNotContains(t, e.PsNames(t, "-a"), rmName, "ps -a after run --rm")
		WantExit(t, e.Run(t, "container", "exists", rmName), 1)
		// --rm with a failing command: also gone, exit code kept.
		WantExit(t, e.RunCtr(t, "--name", rmName, BusyboxRef, "sh", "-c", "exit 9"), 9)
		WantExit(t, e.Run(t, "container", "exists", rmName), 1)
	})
}

// TestContainerRunSecurityFlags: --read-only, --privileged, --cap-drop,
// --cap-add, the default capability set, --ulimit, --tz, --init and
// --security-opt seccomp.
func TestContainerRunSecurityFlags(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		r := e.RunCtr(t, "--read-only", BusyboxRef, "touch", "/x")
		WantExit(t, r, 1)
		if got := strings.TrimSpace(Stderr(r)); got != "touch: /x: Read-only file system" {
			t.Fatalf("--read-only touch /x: stderr %q", got)
		}
		// podman mounts tmpfs on /tmp, /run and /var/tmp of a read-only container.
		e.RunOK(t, RunArgs("--read-only", BusyboxRef, "sh", "-c", "touch /tmp/x /run/x /var/tmp/x")...)
		e.RunOK(t, RunArgs("--read-only=false", BusyboxRef, "touch", "/x")...)
		e.RunOK(t, RunArgs(BusyboxRef, "touch", "/x")...)

		r = e.RunCtr(t, BusyboxRef, "mount", "-t", "tmpfs", "none", "/tmp")
		WantExit(t, r, 1)
		if got := strings.TrimSpace(Stderr(r)); got != "mount: permission denied (are you root?)" {
			t.Fatalf("mount without --privileged: stderr %q", got)
		}
		e.RunOK(t, RunArgs("--privileged", BusyboxRef, "mount", "-t", "tmpfs", "none", "/tmp")...)

		caps := func(args ...string) map[string]string {
			t.Helper()
			out := e.RunCtrOut(t, append(args, BusyboxRef, "grep", "^Cap", "/proc/self/status")...)
			m := map[string]string{}
			for _, l := range strings.Split(out, "\n") {
				k, v, _ := strings.Cut(l, ":")
				m[k] = strings.TrimSpace(v)
			}
			return m
		}
		// podman's default set (containers.conf): CHOWN DAC_OVERRIDE FOWNER
		// FSETID KILL NET_BIND_SERVICE SETFCAP SETGID SETPCAP SETUID SYS_CHROOT.
		const defaultCaps = "00000000800405fb"
		c := caps()
		for _, k := range []string{"CapPrm", "CapEff", "CapBnd"} {
			if c[k] != defaultCaps {
				t.Errorf("default %s = %s, want podman's default set %s", k, c[k], defaultCaps)
			}
		}
		if c["CapInh"] != "0000000000000000" || c["CapAmb"] != "0000000000000000" {
			t.Errorf("default CapInh %s, CapAmb %s: want none", c["CapInh"], c["CapAmb"])
		}
		// A non-root user keeps the bounding set only.
		c = caps("-u", "65534")
		if c["CapEff"] != "0000000000000000" || c["CapPrm"] != "0000000000000000" || c["CapBnd"] != defaultCaps {
			t.Errorf("-u 65534: CapEff %s CapPrm %s CapBnd %s, want 0, 0, %s", c["CapEff"], c["CapPrm"], c["CapBnd"], defaultCaps)
		}
		c = caps("--cap-drop", "ALL")
		if c["CapEff"] != "0000000000000000" || c["CapBnd"] != "0000000000000000" {
			t.Errorf("--cap-drop ALL: CapEff %s CapBnd %s, want 0", c["CapEff"], c["CapBnd"])
		}
		if c = caps("--cap-add", "NET_ADMIN"); c["CapEff"] != "00000000800415fb" {
			t.Errorf("--cap-add NET_ADMIN: CapEff %s, want 00000000800415fb", c["CapEff"])
		}
		if c = caps("--cap-drop", "CHOWN"); c["CapEff"] != "00000000800405fa" {
			t.Errorf("--cap-drop CHOWN: CapEff %s, want 00000000800405fa", c["CapEff"])
		}
		// --privileged: every capability there is to give (as root, the
		// engine's own bounding set; rootless, all of them in the user namespace).
		if c = caps("--privileged"); c["CapEff"] != privilegedCaps(t, e) {
			t.Errorf("--privileged: CapEff %s, want %s", c["CapEff"], privilegedCaps(t, e))
		}

		// (Any --ulimit replaces rootful podman's defaults, CtrEnv's too.)
		nproc := []string{}
		if IsPodman() && !e.Rootless() {
			nproc = []string{"--ulimit", "nproc=32768:32768"}
		}
		if got := e.RunCtrOut(t, append(nproc, "--ulimit", "nofile=1000:1000", BusyboxRef, "sh", "-c", "ulimit -n; ulimit -Hn")...); got != "1000\n1000" {
			t.Errorf("--ulimit nofile=1000:1000: soft, hard = %q", got)
		}
		if got := e.RunCtrOut(t, append(nproc, "--ulimit", "nofile=500:900", BusyboxRef, "sh", "-c", "ulimit -n; ulimit -Hn")...); got != "500\n900" {
			t.Errorf("--ulimit nofile=500:900: soft, hard = %q", got)
		}
		if got := e.RunCtrOut(t, "--tz", "Asia/Tokyo", BusyboxRef, "date", "+%Z"); got != "JST" {
			t.Errorf("--tz Asia/Tokyo: date +%%Z = %q", got)
		}
		if got := e.RunCtrOut(t, BusyboxRef, "date", "+%Z"); got != "UTC" {
			t.Errorf("default zone: date +%%Z = %q", got)
		}

		// --init: an init is pid 1 (podman: /run/podman-init, which is
		// catatonit), "--", then the command, which is pid 2.
		out := e.RunCtrOut(t, "--init", BusyboxRef, "sh", "-c", `tr '\0' ' ' </proc/1/cmdline; echo; echo $$`)
		lines := strings.Split(out, "\n")
		if len(lines) != 2 || lines[1] != "2" {
			t.Fatalf("--init: want pid 1's cmdline then 2 for the shell's pid, got %q", out)
		}
		argv := strings.Fields(lines[0])
		if len(argv) < 3 || !strings.Contains(filepath.Base(argv[0]), "init") && !strings.Contains(argv[0], "catatonit") ||
			strings.Join(argv[1:], " ") != `-- sh -c tr '\0' ' ' </proc/1/cmdline; echo; echo $$` {
			t.Fatalf("--init: pid 1 is %q, want <init> -- sh -c ...", lines[0])
		}
		if got := e.RunCtrOut(t, BusyboxRef, "sh", "-c", "echo $$"); got != "1" {
			t.Fatalf("without --init the command is pid 1, got %q", got)
		}

		// seccomp: filtered by default (mode 2), not with unconfined or
		// --privileged; a custom profile is applied.
		seccomp := func(args ...string) string {
			t.Helper()
			return e.RunCtrOut(t, append(args, BusyboxRef, "sh", "-c", "grep ^Seccomp: /proc/self/status | cut -f2")...)
		}
		if got := seccomp(); got != "2" {
			t.Errorf("default Seccomp mode %q, want 2 (filter)", got)
		}
		if got := seccomp("--security-opt", "seccomp=unconfined"); got != "0" {
			t.Errorf("seccomp=unconfined: Seccomp mode %q, want 0", got)
		}
		if got := seccomp("--privileged"); got != "0" {
			t.Errorf("--privileged: Seccomp mode %q, want 0", got)
		}
		profile := filepath.Join(e.Dir, Unique("seccomp")+".json")
		if err := os.WriteFile(profile, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		r = e.RunCtr(t, "--security-opt", "seccomp="+profile, BusyboxRef, "mkdir", "/tmp/d")
		WantExit(t, r, 1)
		if got := strings.TrimSpace(Stderr(r)); got != "mkdir: can't create directory '/tmp/d': Operation not permitted" {
			t.Fatalf("custom seccomp profile denying mkdir: stderr %q", got)
		}
		e.RunOK(t, RunArgs(BusyboxRef, "mkdir", "/tmp/d")...)
	})
}

// privilegedCaps is the CapEff hex a --privileged container gets in e's mode.
func privilegedCaps(t *testing.T, e *Env) string {
	t.Helper()
	if e.Rootless() {
		data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
		if err != nil {
			t.Fatal(err)
		}
		last, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%016x", uint64(1)<<(last+1)-1)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^CapBnd:\s*([0-9a-f]+)$`).FindSubmatch(status)
	if m == nil {
		t.Fatal("no CapBnd in /proc/self/status")
	}
	return string(m[1])
}

// TestContainerRootRlimitsClamped: with the default configuration a
// container runs even where the engine may not raise RLIMIT_NOFILE or
// RLIMIT_NPROC, and gets no more than the engine has.
func TestContainerRootRlimitsClamped(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		if !e.Rootless() {
			SkipIfPodman(t, podmanRootfulRlimitQuirk)
		}
		e.PullBusybox(t)
		var nofile syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile); err != nil {
			t.Fatal(err)
		}
		out := e.RunCtrOut(t, BusyboxRef, "sh", "-c", "ulimit -Hn; ulimit -n")
		f := strings.Fields(out)
		if len(f) != 2 {
			t.Fatalf("ulimit -Hn; ulimit -n printed %q", out)
		}
		hard, err1 := strconv.ParseUint(f[0], 10, 64)
		soft, err2 := strconv.ParseUint(f[1], 10, 64)
		if err1 != nil || err2 != nil || hard > nofile.Max || soft > hard || soft == 0 {
			t.Fatalf("container nofile soft %s hard %s: want 0 < soft <= hard <= the engine's hard limit %d", f[1], f[0], nofile.Max)
		}
	})
}
