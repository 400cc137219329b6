package spec

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/skiffcontainers/skiff/libpod/define"
)

func findMount(ms []specs.Mount, dest string) *specs.Mount {
	for i := range ms {
		if ms[i].Destination == dest {
			return &ms[i]
		}
	}
	return nil
}

func destinations(ms []specs.Mount) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Destination)
	}
	return out
}

func TestDefaultMounts(t *testing.T) {
	s := mustGenerate(t, &Options{Rootfs: testRootfs(t)}, nil)
	want := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "noexec", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
	if len(s.Mounts) != len(want) {
		t.Fatalf("mounts = %v, want %v", destinations(s.Mounts), destinations(want))
	}
	for i := range want {
		if m := s.Mounts[i]; m.Destination != want[i].Destination || m.Type != want[i].Type || m.Source != want[i].Source || !slices.Equal(m.Options, want[i].Options) {
			t.Errorf("mount %d = %+v\nwant %+v", i, m, want[i])
		}
	}
}

func TestMountVariants(t *testing.T) {
	userns := &IDMappings{
		UIDMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
		GIDMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
	}
	small := &IDMappings{
		UIDMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 4}},
		GIDMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 4}},
	}
	type check func(t *testing.T, ms []specs.Mount, s *specs.Spec)
	mount := func(dest, typ, source string, opts ...string) check {
		return func(t *testing.T, ms []specs.Mount, _ *specs.Spec) {
			t.Helper()
			m := findMount(ms, dest)
			if m == nil {
				t.Fatalf("no %s mount in %v", dest, destinations(ms))
			}
			if m.Type != typ || (source != "" && m.Source != source) || (opts != nil && !slices.Equal(m.Options, opts)) {
				t.Errorf("%s = %+v, want type %s source %s options %v", dest, *m, typ, source, opts)
			}
		}
	}
	noMount := func(dest string) check {
		return func(t *testing.T, ms []specs.Mount, _ *specs.Spec) {
			t.Helper()
			if m := findMount(ms, dest); m != nil {
				t.Errorf("unexpected %s mount: %+v", dest, *m)
			}
		}
	}
	hasOption := func(dest, opt string, want bool) check {
		return func(t *testing.T, ms []specs.Mount, _ *specs.Spec) {
			t.Helper()
			m := findMount(ms, dest)
			if m == nil || slices.Contains(m.Options, opt) != want {
				t.Errorf("%s options %v: %s present should be %v", dest, m, opt, want)
			}
		}
	}
	masked := func(p string, want bool) check {
		return func(t *testing.T, _ []specs.Mount, s *specs.Spec) {
			t.Helper()
			if slices.Contains(s.Linux.MaskedPaths, p) != want {
				t.Errorf("masked %v: %s should be %v", s.Linux.MaskedPaths, p, want)
			}
		}
	}
	gidMapNo5 := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	gidMapWith5 := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}}

	for _, tc := range []struct {
		name   string
		o      Options
		gidMap []specs.LinuxIDMapping
		cg2    bool
		checks []check
	}{
		{name: "shm size", o: Options{ShmSize: 1 << 30}, checks: []check{mount("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=1048576k")}},
		{name: "odd shm size in bytes", o: Options{ShmSize: 1000}, checks: []check{hasOption("/dev/shm", "size=1000", true)}},
		{name: "ipc host binds the host's /dev/shm", o: Options{Namespaces: Namespaces{IPC: "host"}}, checks: []check{mount("/dev/shm", "bind", "/dev/shm"), mount("/dev/mqueue", "mqueue", "mqueue")}},
		{name: "ipc none has no /dev/shm", o: Options{Namespaces: Namespaces{IPC: "none"}}, checks: []check{noMount("/dev/shm")}},
		{name: "ipc host in a user namespace binds /dev/mqueue", o: Options{IDMappings: userns, Namespaces: Namespaces{IPC: "host"}}, checks: []check{mount("/dev/mqueue", "bind", "/dev/mqueue")}},
		{name: "pid host in a user namespace binds /proc", o: Options{Rootless: true, Namespaces: Namespaces{PID: "host"}}, gidMap: gidMapWith5, checks: []check{mount("/proc", "bind", "/proc", "rbind", "nosuid", "noexec", "nodev")}},
		{name: "pid host as root mounts procfs", o: Options{Namespaces: Namespaces{PID: "host"}}, checks: []check{mount("/proc", "proc", "proc")}},
		{
			name: "rootless net host binds /sys and hides /sys/kernel", o: Options{Rootless: true, Namespaces: Namespaces{Net: "host"}}, gidMap: gidMapWith5,
			checks: []check{
				mount("/sys", "bind", "/sys", "rprivate", "nosuid", "noexec", "nodev", "ro", "rbind"),
				mount("/sys/fs/cgroup", "bind", "/sys/fs/cgroup", "rprivate", "nosuid", "noexec", "nodev", "ro", "rbind"),
				masked("/sys/kernel", true),
			},
		},
		{name: "root net host mounts sysfs", o: Options{Namespaces: Namespaces{Net: "host"}}, checks: []check{mount("/sys", "sysfs", "sysfs"), masked("/sys/kernel", false)}},
		{name: "own user namespace joining a netns binds /sys", o: Options{IDMappings: userns, Namespaces: Namespaces{Net: "ns:/run/netns/x"}}, checks: []check{mount("/sys", "bind", "/sys")}},
		{name: "own user namespace with a private netns mounts sysfs", o: Options{IDMappings: userns}, checks: []check{mount("/sys", "sysfs", "sysfs")}},
		{name: "privileged: rw sysfs and cgroup", o: Options{Privileged: true}, checks: []check{mount("/sys", "sysfs", "sysfs", "rprivate", "nosuid", "noexec", "nodev", "rw"), hasOption("/sys/fs/cgroup", "rw", true)}},
		{name: "privileged rootless net host: rw bind", o: Options{Privileged: true, Rootless: true, Namespaces: Namespaces{Net: "host"}}, gidMap: gidMapWith5, checks: []check{hasOption("/sys", "rw", true), masked("/sys/kernel", false)}},
		{name: "cgroup v2 unmask makes cgroupfs rw", o: Options{Unmask: []string{"/sys/fs/cgroup"}}, cg2: true, checks: []check{hasOption("/sys/fs/cgroup", "rw", true)}},
		{name: "cgroup v1 unmask keeps cgroupfs ro", o: Options{Unmask: []string{"ALL"}}, checks: []check{hasOption("/sys/fs/cgroup", "ro", true)}},
		{name: "gid 5 not in the container's map", o: Options{IDMappings: small}, checks: []check{hasOption("/dev/pts", "gid=5", false)}},
		{name: "gid 5 in the container's map", o: Options{IDMappings: userns}, checks: []check{hasOption("/dev/pts", "gid=5", true)}},
		{name: "rootless with a single id", o: Options{Rootless: true}, gidMap: gidMapNo5, checks: []check{hasOption("/dev/pts", "gid=5", false)}},
		{name: "rootless with subordinate ids", o: Options{Rootless: true}, gidMap: gidMapWith5, checks: []check{hasOption("/dev/pts", "gid=5", true)}},
		{
			name: "read-only with tmpfs", o: Options{ReadOnly: true, ReadOnlyTmpfs: true},
			checks: []check{
				mount("/run", "tmpfs", "tmpfs", "rw", "rprivate", "nosuid", "nodev", "tmpcopyup"),
				mount("/tmp", "tmpfs", "tmpfs", "rw", "rprivate", "nosuid", "nodev", "tmpcopyup"),
				mount("/var/tmp", "tmpfs", "tmpfs", "rw", "rprivate", "nosuid", "nodev", "tmpcopyup"),
			},
		},
		{name: "read-only without tmpfs", o: Options{ReadOnly: true}, checks: []check{noMount("/tmp"), noMount("/run"), noMount("/var/tmp")}},
		{name: "read-only-tmpfs alone does nothing", o: Options{ReadOnlyTmpfs: true}, checks: []check{noMount("/tmp")}},
		{
			name: "engine mounts replace defaults at the same path",
			o: Options{ReadOnly: true, ReadOnlyTmpfs: true, Mounts: []specs.Mount{
				{Destination: "/dev/shm/", Type: "bind", Source: "/srv/shm", Options: []string{"bind"}},
				{Destination: "/tmp", Type: "bind", Source: "/srv/tmp", Options: []string{"rbind"}},
			}},
			checks: []check{mount("/dev/shm/", "bind", "/srv/shm"), noMount("/dev/shm"), mount("/tmp", "bind", "/srv/tmp"), mount("/run", "tmpfs", "tmpfs")},
		},
		{
			name:   "an engine /dev replaces everything under /dev",
			o:      Options{Mounts: []specs.Mount{{Destination: "/dev", Type: "bind", Source: "/srv/dev", Options: []string{"rbind"}}}},
			checks: []check{mount("/dev", "bind", "/srv/dev"), noMount("/dev/pts"), noMount("/dev/shm"), noMount("/dev/mqueue"), mount("/proc", "proc", "proc")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := testHost()
			h.gidMap = tc.gidMap
			h.cgroup2 = tc.cg2
			tc.o.Rootfs = testRootfs(t)
			s := mustGenerate(t, &tc.o, h)
			for _, c := range tc.checks {
				c(t, s.Mounts, s)
			}
		})
	}
}

func TestMountOrder(t *testing.T) {
	s := mustGenerate(t, &Options{
		Rootfs:   testRootfs(t),
		ReadOnly: true, ReadOnlyTmpfs: true,
		Mounts: []specs.Mount{
			{Destination: "/data/sub/deeper", Type: "bind", Source: "/a"},
			{Destination: "/etc/hosts", Type: "bind", Source: "/b"},
			{Destination: "/data", Type: "bind", Source: "/c"},
		},
	}, nil)
	pos := map[string]int{}
	for i, m := range s.Mounts {
		pos[m.Destination] = i
	}
	for _, pair := range [][2]string{{"/dev", "/dev/pts"}, {"/sys", "/sys/fs/cgroup"}, {"/data", "/data/sub/deeper"}, {"/run", "/etc/hosts"}} {
		if pos[pair[0]] > pos[pair[1]] {
			t.Errorf("%s after %s: %v", pair[0], pair[1], destinations(s.Mounts))
		}
	}
}

// A tmpfs over a path that is a symlink in the image is mounted where the link points, inside the rootfs.
func TestTmpfsDestinationSymlinks(t *testing.T) {
	rootfs := testRootfs(t)
	if err := os.MkdirAll(filepath.Join(rootfs, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../tmp", filepath.Join(rootfs, "var/tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/../../../../outside", filepath.Join(rootfs, "run")); err != nil {
		t.Fatal(err)
	}
	s := mustGenerate(t, &Options{Rootfs: rootfs + "/", ReadOnly: true, ReadOnlyTmpfs: true}, nil)
	got := destinations(s.Mounts)
	if slices.Contains(got, "/var/tmp") || !slices.Contains(got, "/outside") || slices.Contains(got, "/run") {
		t.Errorf("mounts = %v: /var/tmp should follow its link to /tmp, /run to /outside within the rootfs", got)
	}
	for _, d := range got {
		if strings.Contains(d, rootfs) || strings.Contains(d, "..") {
			t.Errorf("destination %q leaks the host path", d)
		}
	}
}

func TestInit(t *testing.T) {
	initBin := filepath.Join(t.TempDir(), "catatonit")
	writeFile(t, initBin, "#!/bin/true\n")

	s := mustGenerate(t, &Options{Rootfs: testRootfs(t), Init: true, InitPath: initBin, Command: []string{"sleep", "1"}}, nil)
	m := findMount(s.Mounts, "/run/podman-init")
	if m == nil || m.Source != initBin || m.Type != "bind" || !slices.Equal(m.Options, []string{"bind", "ro", "rprivate"}) {
		t.Errorf("init mount = %+v", m)
	}
	if !slices.Equal(s.Process.Args, []string{"/run/podman-init", "--", "sleep", "1"}) {
		t.Errorf("args = %q", s.Process.Args)
	}
	if s.Annotations[AnnotationInit] != "TRUE" {
		t.Errorf("annotations = %v", s.Annotations)
	}

	for name, o := range map[string]Options{
		"pid host":        {Init: true, InitPath: initBin, Namespaces: Namespaces{PID: "host"}},
		"joined pid":      {Init: true, InitPath: initBin, Namespaces: Namespaces{PID: "ns:/proc/1/ns/pid"}},
		"missing binary":  {Init: true, InitPath: "/nonexistent/catatonit"},
		"missing default": {Init: true},
	} {
		if name == "missing default" && findInitBinary() != "" {
			continue
		}
		o.Rootfs = testRootfs(t)
		o.Command = []string{"true"}
		o.SeccompProfile = "unconfined"
		if _, err := generate(&o, testHost()); !errors.Is(err, define.ErrInvalidArg) {
			t.Errorf("%s: err = %v, want ErrInvalidArg", name, err)
		}
	}
}

func TestTimezone(t *testing.T) {
	zoneinfo := t.TempDir()
	if err := os.MkdirAll(filepath.Join(zoneinfo, "Asia"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(zoneinfo, "Asia/Tokyo"), "TZif2 fake")
	if err := os.Symlink("Asia/Tokyo", filepath.Join(zoneinfo, "Japan")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(t.TempDir(), "secret"), "x")
	t.Setenv("TZDIR", zoneinfo)

	for _, tc := range []struct {
		tz, source string
		err        bool
	}{
		{tz: "Asia/Tokyo", source: filepath.Join(zoneinfo, "Asia/Tokyo")},
		{tz: "Japan", source: filepath.Join(zoneinfo, "Asia/Tokyo")},
		{tz: "Mars/Olympus", err: true},
		{tz: "Asia", err: true},
		{tz: "../../../../etc/passwd", err: true},
		{tz: "/etc/passwd", err: true},
	} {
		m, err := timezoneMount(tc.tz)
		if tc.err {
			if !errors.Is(err, define.ErrInvalidArg) {
				t.Errorf("%q: err = %v, want ErrInvalidArg", tc.tz, err)
			}
			continue
		}
		if err != nil || m.Destination != "/etc/localtime" || m.Source != tc.source || m.Type != "bind" || !slices.Contains(m.Options, "ro") {
			t.Errorf("%q: %+v, %v", tc.tz, m, err)
		}
	}

	if want, err := filepath.EvalSymlinks("/etc/localtime"); err == nil {
		if m, err := timezoneMount("local"); err != nil || m.Source != want {
			t.Errorf("local: %+v, %v; want source %s", m, err, want)
		}
	}

	s := mustGenerate(t, &Options{Rootfs: testRootfs(t), Tz: "Japan"}, nil)
	if findMount(s.Mounts, "/etc/localtime") == nil || hasEnv(s.Process.Env, "TZ") {
		t.Errorf("tz: mounts %v env %v", destinations(s.Mounts), s.Process.Env)
	}
}
