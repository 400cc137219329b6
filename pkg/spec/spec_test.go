package spec

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/skiffcontainers/skiff/libpod/define"
	"go.podman.io/common/pkg/capabilities"
	"golang.org/x/sys/unix"
)

// testHost is a host like the build machines: root without CAP_SYS_RESOURCE in the bounding set, a hard
// RLIMIT_NOFILE of 20000, pid_max 32768, cgroup v1.
func testHost() *hostInfo {
	var bounding []string
	for _, c := range capabilities.AllCapabilities() {
		if c != "CAP_SYS_RESOURCE" {
			bounding = append(bounding, c)
		}
	}
	return &hostInfo{
		boundingSet:     bounding,
		canRaiseRlimits: false,
		getrlimit:       fakeRlimits(map[int]unix.Rlimit{unix.RLIMIT_NOFILE: {Cur: 1024, Max: 20000}, unix.RLIMIT_NPROC: {Cur: 96365, Max: 96365}}),
		pidMax:          32768,
		nrOpen:          1048576,
		hostname:        func() (string, error) { return "the-host", nil },
	}
}

// fakeRlimits answers getrlimit from a table; resources not in it are unlimited.
func fakeRlimits(m map[int]unix.Rlimit) func(int) (unix.Rlimit, error) {
	return func(r int) (unix.Rlimit, error) {
		if v, ok := m[r]; ok {
			return v, nil
		}
		return unix.Rlimit{Cur: rlimInfinity, Max: rlimInfinity}, nil
	}
}

// testRootfs is a rootfs with a passwd and group but nothing else.
func testRootfs(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n"+
		"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"+
		"test:x:1000:1000:test:/home/test:/bin/sh\n"+
		"nohome:x:1001:1001::/:/bin/sh\n")
	writeFile(t, filepath.Join(root, "etc/group"), "root:x:0:\ntty:x:5:\ntest:x:1000:\nextra:x:2000:test,nohome\nmore:x:2001:test\n")
	return root
}

func mustGenerate(t *testing.T, o *Options, h *hostInfo) *specs.Spec {
	t.Helper()
	if h == nil {
		h = testHost()
	}
	if o.Command == nil && o.ImageConfig.Cmd == nil && o.Entrypoint == nil {
		o.Command = []string{"true"}
	}
	if o.SeccompProfile == "" {
		o.SeccompProfile = "unconfined" // the profile has its own tests; keep specs small
	}
	s, err := generate(o, h)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return s
}

func TestGenerateDefaults(t *testing.T) {
	rootfs := testRootfs(t)
	s := mustGenerate(t, &Options{Rootfs: rootfs, Hostname: "abcdef123456", CgroupsPath: "/libpod_parent/libpod-x"}, nil)
	if s.Version != "1.0.2-dev" {
		t.Errorf("ociVersion = %q", s.Version)
	}
	if s.Root.Path != rootfs || s.Root.Readonly {
		t.Errorf("root = %+v", s.Root)
	}
	if s.Hostname != "abcdef123456" {
		t.Errorf("hostname = %q", s.Hostname)
	}
	if s.Linux.CgroupsPath != "/libpod_parent/libpod-x" {
		t.Errorf("cgroupsPath = %q", s.Linux.CgroupsPath)
	}
	if u := s.Process.User; u.UID != 0 || u.GID != 0 || len(u.AdditionalGids) != 0 || u.Umask == nil || *u.Umask != 0o022 {
		t.Errorf("user = %+v", u)
	}
	if s.Process.Cwd != "/" || s.Process.Terminal || s.Process.NoNewPrivileges {
		t.Errorf("process = %+v", s.Process)
	}
	if s.Linux.Resources == nil || len(s.Linux.Resources.Devices) != 1 || s.Linux.Resources.Devices[0].Allow || s.Linux.Resources.Devices[0].Access != "rwm" {
		t.Errorf("devices cgroup = %+v, want one deny-all rule", s.Linux.Resources)
	}
	if s.Linux.UIDMappings != nil || s.Linux.GIDMappings != nil {
		t.Errorf("id mappings without IDMappings")
	}
}

func TestGenerateUserNamespace(t *testing.T) {
	maps := &IDMappings{
		UIDMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
		GIDMap: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
	}
	s := mustGenerate(t, &Options{Rootfs: testRootfs(t), IDMappings: maps}, nil)
	if !slices.Equal(s.Linux.UIDMappings, maps.UIDMap) || !slices.Equal(s.Linux.GIDMappings, maps.GIDMap) {
		t.Errorf("maps = %v %v", s.Linux.UIDMappings, s.Linux.GIDMappings)
	}
	if !slices.ContainsFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == specs.UserNamespace }) {
		t.Errorf("no user namespace: %v", s.Linux.Namespaces)
	}
	if s.Linux.Resources != nil {
		t.Errorf("devices cgroup rules in a user namespace: %+v", s.Linux.Resources)
	}
}

func TestGenerateInvalid(t *testing.T) {
	for name, o := range map[string]*Options{
		"negative shm":        {ShmSize: -1},
		"bad net mode":        {Namespaces: Namespaces{Net: "bridge"}},
		"relative ns path":    {Namespaces: Namespaces{PID: "ns:proc/1/ns/pid"}},
		"shareable pid":       {Namespaces: Namespaces{PID: "shareable"}},
		"none uts":            {Namespaces: Namespaces{UTS: "none"}},
		"relative workdir":    {WorkDir: "work"},
		"bad umask":           {Umask: "0999"},
		"bad stop signal":     {StopSignal: "SIGNOPE"},
		"bad ulimit":          {Ulimits: []string{"nofile=unlimited"}},
		"bad cap":             {CapAdd: []string{"CAP_FLY"}},
		"unknown user":        {User: "nobody"},
		"userns without gids": {IDMappings: &IDMappings{UIDMap: []specs.LinuxIDMapping{{Size: 1}}}},
		"sysctl not allowed":  {Sysctls: map[string]string{"kernel.panic": "1"}},
		"relative mask":       {Mask: []string{"proc/foo"}},
	} {
		t.Run(name, func(t *testing.T) {
			o.Rootfs = testRootfs(t)
			o.Command = []string{"true"}
			o.SeccompProfile = "unconfined"
			_, err := generate(o, testHost())
			if !errors.Is(err, define.ErrInvalidArg) {
				t.Errorf("err = %v, want ErrInvalidArg", err)
			}
		})
	}
}

func TestGenerateNilOptions(t *testing.T) {
	if _, err := Generate(nil); err == nil {
		t.Error("no error for nil options")
	}
}
