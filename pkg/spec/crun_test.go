package spec

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/sys/capability"
	"github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/common/pkg/config"
	"golang.org/x/sys/unix"
)

// These tests run the generated spec with the real runtime: crun, as root, on a busybox rootfs. They check
// what the container actually gets, not what the spec says.

func requireCrun(t *testing.T) (crun, busybox string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs crun on a generated spec")
	}
	crun, err := exec.LookPath("crun")
	if err != nil {
		t.Skip("crun not installed")
	}
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if out, err := exec.Command("file", p).Output(); err == nil && !strings.Contains(string(out), "dynamically linked") {
			return crun, p
		}
		if _, err := os.Stat(p); err == nil && busybox == "" {
			busybox = p
		}
	}
	if busybox == "" {
		t.Skip("busybox (static) not installed")
	}
	return crun, busybox
}

// busyboxRootfs builds a minimal rootfs: busybox with its applets, a passwd and group with a non-root user.
func busyboxRootfs(t *testing.T, busybox string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "rootfs")
	for _, d := range []string{"bin", "etc", "tmp", "mnt", "proc", "sys", "dev", "root", "home/test", "var/tmp", "run"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet != "busybox" {
			_ = os.Symlink("busybox", filepath.Join(root, "bin", applet))
		}
	}
	writeFile(t, filepath.Join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\ntest:x:1000:1000:test:/home/test:/bin/sh\n")
	writeFile(t, filepath.Join(root, "etc/group"), "root:x:0:\ntty:x:5:\ntest:x:1000:\nextra:x:2000:test\n")
	return root
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// crunRun writes the spec into a bundle and runs it to completion, returning stdout.
func crunRun(t *testing.T, crun string, s *specs.Spec) string {
	t.Helper()
	bundle := t.TempDir()
	stateRoot := t.TempDir()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(bundle, "config.json"), string(b))
	id := fmt.Sprintf("skiff-spec-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, crun, "--root", stateRoot, "run", "--bundle", bundle, id)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	_ = exec.Command(crun, "--root", stateRoot, "delete", "-f", id).Run()
	if err != nil {
		t.Fatalf("crun run: %v\nstderr: %s\nstdout: %s", err, stderr.String(), stdout.String())
	}
	return stdout.String()
}

// capMask is the /proc/PID/status hex mask of a list of CAP_ names.
func capMask(t *testing.T, names []string) string {
	t.Helper()
	var m uint64
	for _, n := range names {
		found := false
		for _, c := range capability.ListKnown() {
			if "CAP_"+strings.ToUpper(c.String()) == n {
				m |= 1 << uint(c)
				found = true
			}
		}
		if !found {
			t.Fatalf("unknown capability %s", n)
		}
	}
	return fmt.Sprintf("%016x", m)
}

// statusField returns a "Name:\tvalue" field of /proc/self/status output.
func statusField(t *testing.T, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in output:\n%s", name, out)
	return ""
}

// limitsRow returns soft and hard of a row of /proc/self/limits ("Max open files  20000  20000  files").
func limitsRow(t *testing.T, out, name string) (soft, hard string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			f := strings.Fields(rest)
			if len(f) >= 2 {
				return f[0], f[1]
			}
		}
	}
	t.Fatalf("no %q row in output:\n%s", name, out)
	return "", ""
}

func hostHard(t *testing.T, resource int) uint64 {
	t.Helper()
	var r unix.Rlimit
	if err := unix.Getrlimit(resource, &r); err != nil {
		t.Fatal(err)
	}
	return r.Max
}

const probeScript = `
grep -E '^(Cap|Seccomp:|NoNewPrivs)' /proc/self/status
cat /proc/self/limits
if mount -t tmpfs none /mnt 2>/dev/null; then echo MOUNT=ok; else echo MOUNT=denied; fi
if echo x > /dev/null; then echo DEVNULL=ok; fi
echo PTMX=$(readlink /dev/ptmx)
for d in null zero full random urandom tty; do [ -c /dev/$d ] && echo DEV=$d; done
echo INTERRUPTS=$(wc -c < /proc/interrupts)
echo FIRMWARE=$(ls /sys/firmware | wc -l)
if echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null; then echo PROCSYS=rw; else echo PROCSYS=ro; fi
echo ID=$(id)
echo HOSTNAME=$(hostname)
echo ENV_HOSTNAME=$HOSTNAME
echo HOME=$HOME
echo CWD=$(pwd)
echo SHM=$(df -k /dev/shm | tail -1 | awk '{print $2}')
`

func TestCrunDefault(t *testing.T) {
	crun, busybox := requireCrun(t)
	rootfs := busyboxRootfs(t, busybox)
	s, err := Generate(&Options{
		Rootfs:   rootfs,
		Command:  []string{"sh", "-c", probeScript},
		Hostname: "skiffspec",
		// A cgroup of its own, so that the devices rule (deny all; crun allows its defaults) is enforced.
		CgroupsPath: fmt.Sprintf("/skiff-spec-test-%d", os.Getpid()),
	})
	if err != nil {
		t.Fatal(err)
	}
	out := crunRun(t, crun, s)
	t.Log(out)

	bounding := BoundingCapabilities()
	var want []string
	for _, c := range config.DefaultCapabilities {
		if slices.Contains(bounding, c) {
			want = append(want, c)
		}
	}
	mask := capMask(t, want)
	for field, v := range map[string]string{"CapEff": mask, "CapPrm": mask, "CapBnd": mask, "CapInh": "0000000000000000", "CapAmb": "0000000000000000"} {
		if got := statusField(t, out, field); got != v {
			t.Errorf("%s = %s, want %s", field, got, v)
		}
	}
	if got := statusField(t, out, "Seccomp"); got != "2" {
		t.Errorf("Seccomp = %s, want 2 (filter)", got)
	}
	if got := statusField(t, out, "NoNewPrivs"); got != "0" {
		t.Errorf("NoNewPrivs = %s, want 0", got)
	}

	// The defaults (1048576 open files, pid_max processes) come down to what crun may set.
	nofile := min(uint64(defaultNofile), hostHard(t, unix.RLIMIT_NOFILE), readUintFile("/proc/sys/fs/nr_open"))
	nproc := readUintFile("/proc/sys/kernel/pid_max")
	if hasEffectiveCap(capability.CAP_SYS_RESOURCE) {
		nofile = min(uint64(defaultNofile), readUintFile("/proc/sys/fs/nr_open"))
	} else {
		nproc = min(nproc, hostHard(t, unix.RLIMIT_NPROC))
	}
	for name, v := range map[string]uint64{"Max open files": nofile, "Max processes": nproc} {
		soft, hard := limitsRow(t, out, name)
		if soft != strconv.FormatUint(v, 10) || hard != strconv.FormatUint(v, 10) {
			t.Errorf("%s = %s/%s, want %d/%d", name, soft, hard, v, v)
		}
	}

	for _, want := range []string{
		"MOUNT=denied", "DEVNULL=ok", "PTMX=pts/ptmx", "INTERRUPTS=0", "FIRMWARE=0", "PROCSYS=ro",
		"DEV=null", "DEV=zero", "DEV=full", "DEV=random", "DEV=urandom", "DEV=tty",
		"ID=uid=0(root) gid=0(root)", "HOSTNAME=skiffspec", "ENV_HOSTNAME=skiffspec", "HOME=/root", "CWD=/",
		"SHM=65536",
	} {
		if !strings.Contains(out, want+"\n") && !strings.Contains(out, want+" ") {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestCrunNonRootUser(t *testing.T) {
	crun, busybox := requireCrun(t)
	rootfs := busyboxRootfs(t, busybox)
	s, err := Generate(&Options{
		Rootfs:   rootfs,
		User:     "test",
		GroupAdd: []string{"3000"},
		CapAdd:   []string{"net_raw"},
		Command:  []string{"sh", "-c", probeScript},
		Hostname: "skiffspec",
		WorkDir:  "/home/test",
	})
	if err != nil {
		t.Fatal(err)
	}
	out := crunRun(t, crun, s)
	t.Log(out)
	raw := capMask(t, []string{"CAP_NET_RAW"})
	for field, v := range map[string]string{"CapEff": raw, "CapPrm": raw, "CapInh": raw, "CapAmb": raw} {
		if got := statusField(t, out, field); got != v {
			t.Errorf("%s = %s, want %s", field, got, v)
		}
	}
	for _, want := range []string{"ID=uid=1000(test) gid=1000(test) groups=1000(test),2000(extra),3000", "HOME=/home/test", "CWD=/home/test", "MOUNT=denied"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestCrunPrivileged(t *testing.T) {
	crun, busybox := requireCrun(t)
	rootfs := busyboxRootfs(t, busybox)
	s, err := Generate(&Options{
		Rootfs:     rootfs,
		Privileged: true,
		Command:    []string{"sh", "-c", probeScript},
		Hostname:   "skiffspec",
		Ulimits:    []string{"nofile=1000000:1000000", "core=1000"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := crunRun(t, crun, s)
	t.Log(out)
	all := capMask(t, BoundingCapabilities())
	for field, v := range map[string]string{"CapEff": all, "CapBnd": all} {
		if got := statusField(t, out, field); got != v {
			t.Errorf("%s = %s, want %s (the caller's bounding set)", field, got, v)
		}
	}
	if got := statusField(t, out, "Seccomp"); got != "0" {
		t.Errorf("Seccomp = %s, want 0", got)
	}
	want := uint64(1000000)
	if !hasEffectiveCap(capability.CAP_SYS_RESOURCE) {
		want = min(want, hostHard(t, unix.RLIMIT_NOFILE))
	}
	if soft, hard := limitsRow(t, out, "Max open files"); soft != strconv.FormatUint(want, 10) || hard != soft {
		t.Errorf("Max open files = %s/%s, want %d (--ulimit clamped to the caller's hard limit)", soft, hard, want)
	}
	if soft, _ := limitsRow(t, out, "Max core file size"); soft != "1000" {
		t.Errorf("Max core file size soft = %s, want 1000", soft)
	}
	for _, want := range []string{"MOUNT=ok", "PROCSYS=rw"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestCrunReadOnlyInitTz(t *testing.T) {
	crun, busybox := requireCrun(t)
	if findInitBinary() == "" {
		t.Skip("catatonit not installed")
	}
	if _, err := os.Stat(filepath.Join(zoneinfoDir(), "Asia/Tokyo")); err != nil {
		t.Skip("no zoneinfo for Asia/Tokyo on the host")
	}
	rootfs := busyboxRootfs(t, busybox)
	s, err := Generate(&Options{
		Rootfs:        rootfs,
		ReadOnly:      true,
		ReadOnlyTmpfs: true,
		Init:          true,
		Tz:            "Asia/Tokyo",
		ShmSize:       8 << 20,
		Command: []string{"sh", "-c", `
if touch /x 2>/dev/null; then echo ROOT=rw; else echo ROOT=ro; fi
for d in /tmp /var/tmp /run; do touch $d/x && echo TMPFS=$d; done
echo PID1=$(tr '\0' ' ' < /proc/1/cmdline)
echo TZ=$(date +%Z)
echo SHM=$(df -k /dev/shm | tail -1 | awk '{print $2}')
`},
		Hostname: "skiffspec",
	})
	if err != nil {
		t.Fatal(err)
	}
	out := crunRun(t, crun, s)
	t.Log(out)
	for _, want := range []string{"ROOT=ro", "TMPFS=/tmp", "TMPFS=/var/tmp", "TMPFS=/run", "PID1=/run/podman-init -- sh -c", "TZ=JST", "SHM=8192"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// rootlessUser has no subordinate ids (hack/setup.sh creates it): skiff's single-mapping fallback, where
// the container has exactly one uid and one gid.
const rootlessUser = "skiffnosub"

// TestCrunRootless re-runs this test binary as an unprivileged user inside `unshare -r` (a user namespace
// mapping only that user to root, as skiff's single-mapping fallback does) and checks the rootless specs
// there with crun.
func TestCrunRootless(t *testing.T) {
	if os.Getenv("SKIFF_SPEC_ROOTLESS_CHILD") == "1" {
		t.Skip("the child runs TestCrunRootlessChild")
	}
	requireCrun(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not installed")
	}
	if _, err := exec.Command("id", rootlessUser).Output(); err != nil {
		t.Skipf("user %s does not exist (hack/setup.sh creates it)", rootlessUser)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "skiff-spec-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "spec.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("chown", rootlessUser, tmp).Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "runuser", "-u", rootlessUser, "--",
		"env", "SKIFF_SPEC_ROOTLESS_CHILD=1", "TMPDIR="+tmp, "XDG_RUNTIME_DIR="+tmp, "HOME="+tmp, "PATH="+os.Getenv("PATH"),
		"unshare", "--user", "--map-root-user", "--mount", "--propagation", "private",
		bin, "-test.run", "^TestCrunRootlessChild$", "-test.v", "-test.count=1")
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("rootless child: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: TestCrunRootlessChild") {
		t.Fatal("the rootless child did not pass")
	}
}

// TestCrunRootlessChild runs inside the user namespace set up by TestCrunRootless.
func TestCrunRootlessChild(t *testing.T) {
	if os.Getenv("SKIFF_SPEC_ROOTLESS_CHILD") != "1" {
		t.Skip("run by TestCrunRootless")
	}
	crun, busybox := requireCrun(t)
	for _, tc := range []struct {
		name   string
		ns     Namespaces
		expect []string
	}{
		{name: "private", expect: []string{"MOUNT=denied", "DEVNULL=ok", "PTMX=pts/ptmx", "INTERRUPTS=0", "PROCSYS=ro", "ID=uid=0(root) gid=0(root)", "HOSTNAME=skiffspec", "PTS_GID=", "SYS=own", "SYSKERNEL=visible"}},
		// sysfs and procfs cannot be mounted for the host's net and pid namespaces from here: bound instead.
		{name: "host net and pid", ns: Namespaces{Net: "host", PID: "host"}, expect: []string{"MOUNT=denied", "DEVNULL=ok", "SYS=host", "SYSKERNEL=masked"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rootfs := busyboxRootfs(t, busybox)
			s, err := Generate(&Options{
				Rootfs:     rootfs,
				Rootless:   true,
				Namespaces: tc.ns,
				Hostname:   "skiffspec",
				Command: []string{"sh", "-c", probeScript + `
echo PTS_GID=$(grep ' /dev/pts ' /proc/self/mounts | grep -o 'gid=[0-9]*')
if [ "$(ls /sys/class/net)" = lo ]; then echo SYS=own; else echo SYS=host; fi
if [ -n "$(ls /sys/kernel 2>/dev/null)" ]; then echo SYSKERNEL=visible; else echo SYSKERNEL=masked; fi
`},
			})
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(s.Mounts, func(m specs.Mount) bool { return m.Destination == "/dev/pts" && slices.Contains(m.Options, "gid=5") }) {
				t.Fatal("gid=5 on /dev/pts with a single mapped gid")
			}
			out := crunRun(t, crun, s)
			t.Log(out)
			for _, want := range tc.expect {
				if !strings.Contains(out, want+"\n") && !strings.Contains(out, want+" ") {
					t.Errorf("output lacks %q", want)
				}
			}
			soft, hard := limitsRow(t, out, "Max open files")
			if want := strconv.FormatUint(hostHard(t, unix.RLIMIT_NOFILE), 10); hard != want || soft != want {
				t.Errorf("Max open files = %s/%s, want the caller's hard limit %s", soft, hard, want)
			}
		})
	}
}
