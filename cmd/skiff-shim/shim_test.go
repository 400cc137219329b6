package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/skiffcontainers/skiff/libpod/shim"
)

// The shim's memory is paid per container: only the standard library, golang.org/x/sys and libpod/shim
// (itself held to the same rule) may be linked in.
func TestShimDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	allowed := map[string]bool{
		"github.com/skiffcontainers/skiff/cmd/skiff-shim": true,
		"github.com/skiffcontainers/skiff/libpod/shim":    true,
	}
	for _, p := range strings.Fields(string(out)) {
		first := strings.SplitN(p, "/", 2)[0]
		std := !strings.Contains(first, ".")
		switch {
		case allowed[p], strings.HasPrefix(p, "golang.org/x/sys/"):
		case std && (p == "net" || strings.HasPrefix(p, "net/") || p == "runtime/cgo" || p == "os/user" || p == "regexp"):
			// net links libc in with cgo and costs memory even without; the others are needless weight.
			t.Errorf("skiff-shim links %s", p)
		case std && !strings.HasPrefix(p, "vendor/"):
		default:
			t.Errorf("skiff-shim depends on %s: only the standard library and golang.org/x/sys are allowed", p)
		}
	}
}

func TestVersion(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "skiff-shim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^skiff-shim version \S+\n$`).Match(out) {
		t.Errorf("--version printed %q", out)
	}
	// Without a config it refuses with podman's engine exit code.
	err = exec.Command(bin).Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 125 {
		t.Errorf("no arguments: %v, want exit 125", err)
	}
}

func TestK8sLogFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctr.log")
	l, err := openK8sLog(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 3, 5, 7, 8, 9, 120000000, time.FixedZone("X", 3600+1800))
	for _, c := range []struct {
		stream string
		data   string
	}{
		{"stdout", "one\ntwo\nthr"},
		{"stdout", "ee\n"},
		{"stderr", "\n"},
		{"stderr", "no newline"},
	} {
		if err := l.write(c.stream, []byte(c.data), now); err != nil {
			t.Fatal(err)
		}
	}
	l.close()
	got, _ := os.ReadFile(path)
	ts := "2024-03-05T07:08:09.120000000+01:30"
	want := ts + " stdout F one\n" +
		ts + " stdout F two\n" +
		ts + " stdout P thr\n" +
		ts + " stdout F ee\n" +
		ts + " stderr F \n" +
		ts + " stderr P no newline\n"
	if string(got) != want {
		t.Errorf("log\n got %q\nwant %q", got, want)
	}
	// UTC is +00:00, as conmon writes it, not Z.
	if s := time.Date(2024, 1, 1, 0, 0, 0, 5, time.UTC).Format(k8sTimeLayout); s != "2024-01-01T00:00:00.000000005+00:00" {
		t.Errorf("UTC timestamp %s", s)
	}
}

func TestK8sLogRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctr.log")
	if err := os.WriteFile(path, []byte(strings.Repeat("x", 50)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const max = 200
	l, err := openK8sLog(path, max)
	if err != nil {
		t.Fatal(err)
	}
	if l.size != 51 {
		t.Errorf("size of the existing log %d, want 51", l.size)
	}
	now := time.Now()
	entry := int64(len(now.Format(k8sTimeLayout)) + len(" stdout F ") + len("line 0\n"))
	for i := 0; i < 20; i++ {
		if err := l.write("stdout", []byte("line "+string(rune('a'+i))+"\n"), now); err != nil {
			t.Fatal(err)
		}
		if l.size > max {
			t.Fatalf("size %d over the limit", l.size)
		}
	}
	l.close()
	got, _ := os.ReadFile(path)
	if int64(len(got)) > max || int64(len(got))%entry != 0 {
		t.Errorf("rotated log has %d bytes (entries of %d, limit %d)", len(got), entry, max)
	}
	if !strings.HasSuffix(string(got), " stdout F line t\n") || strings.Contains(string(got), "xxx") {
		t.Errorf("rotated log %q", got)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temp file left: %v", err)
	}
	// An entry larger than the limit is still written, alone in its file.
	l, _ = openK8sLog(path, 10)
	_ = l.write("stderr", []byte("a long line\n"), now)
	l.close()
	got, _ = os.ReadFile(path)
	if !strings.HasSuffix(string(got), " stderr F a long line\n") || strings.Count(string(got), "\n") != 1 {
		t.Errorf("oversized entry: %q", got)
	}
}

func TestMemoryCgroupFile(t *testing.T) {
	v1 := "12:hugetlb:/\n11:cpu,cpuacct:/x\n5:memory:/libpod_parent/libpod-abc\n0::/user.slice\n"
	if got := memoryCgroupFile(v1, false); got != "/sys/fs/cgroup/memory/libpod_parent/libpod-abc/memory.oom_control" {
		t.Errorf("v1: %s", got)
	}
	if got := memoryCgroupFile("0::/machine.slice/libpod-abc.scope\n", true); got != "/sys/fs/cgroup/machine.slice/libpod-abc.scope/memory.events" {
		t.Errorf("v2: %s", got)
	}
	// Hybrid without a v1 memory hierarchy: the unified tree has no memory controller.
	if got := memoryCgroupFile("0::/x\n", false); got != "" {
		t.Errorf("hybrid: %s", got)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "memory.oom_control")
	_ = os.WriteFile(f, []byte("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"), 0o644)
	w := &oomWatch{file: f, before: 2}
	if w.killed() {
		t.Error("killed with an unchanged count")
	}
	_ = os.WriteFile(f, []byte("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), 0o644)
	if !w.killed() {
		t.Error("not killed with a grown count")
	}
	var nilWatch *oomWatch
	if nilWatch.killed() {
		t.Error("nil watch")
	}
}

func TestLogsJSON(t *testing.T) {
	for _, c := range []struct {
		runtime string
		args    []string
		want    bool
	}{
		{"/usr/bin/crun", nil, true},
		{"/usr/sbin/runc", []string{"--root", "/x"}, true},
		{"/usr/bin/crun", []string{"--log=/x"}, false},
		{"/opt/kata-runtime", nil, true},
		{"/usr/bin/other", nil, false},
	} {
		if got := logsJSON(c.runtime, c.args); got != c.want {
			t.Errorf("logsJSON(%s, %v) = %v", c.runtime, c.args, got)
		}
	}
}

func TestRuntimeMessage(t *testing.T) {
	f := filepath.Join(t.TempDir(), "oci-log")
	_ = os.WriteFile(f, []byte(`{"msg":"a warning","level":"warning"}
{"msg":"executable file `+"`x`"+` not found in $PATH: No such file or directory","level":"error","time":"2026-01-01T00:00:00Z"}
not json
`), 0o644)
	if got := runtimeMessage(f); got != "executable file `x` not found in $PATH: No such file or directory" {
		t.Errorf("runtimeMessage: %q", got)
	}
	if code, _ := shim.ClassifyRuntimeError(runtimeMessage(f)); code != 127 {
		t.Errorf("code %d", code)
	}
}
