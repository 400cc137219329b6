package spec

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/skiffcontainers/skiff/libpod/define"
	"go.podman.io/common/pkg/config"
)

func TestMaskedPaths(t *testing.T) {
	defaults := config.DefaultMaskedPaths()
	for _, p := range []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware", "/proc/interrupts"} {
		if !slices.Contains(defaults, p) {
			t.Fatalf("containers/common no longer masks %s: review the list", p)
		}
	}
	readonly := []string{"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
	for _, tc := range []struct {
		name         string
		o            Options
		wantMasked   []string
		wantReadonly []string
		wantErr      bool
	}{
		{name: "defaults", wantMasked: defaults, wantReadonly: readonly},
		{name: "privileged", o: Options{Privileged: true}},
		{name: "privileged keeps the user's masks", o: Options{Privileged: true, Mask: []string{"/secret"}}, wantMasked: []string{"/secret"}},
		{name: "unmask ALL", o: Options{Unmask: []string{"ALL"}, Mask: []string{"/foo/bar", "/baz"}}, wantMasked: []string{"/foo/bar", "/baz"}},
		{name: "unmask all, any case", o: Options{Unmask: []string{"all"}}},
		{
			name: "unmask globs, colon-separated",
			o:    Options{Unmask: []string{"/proc/*:/sys/firmware"}},
			wantMasked: slices.DeleteFunc(slices.Clone(defaults), func(p string) bool {
				return strings.HasPrefix(p, "/proc/") || p == "/sys/firmware"
			}),
		},
		{name: "unmask one", o: Options{Unmask: []string{"/proc/sys"}}, wantMasked: defaults, wantReadonly: without(readonly, "/proc/sys")},
		{name: "mask adds, without duplicates", o: Options{Mask: []string{"/proc/acpi", "/data/x", ""}}, wantMasked: append(slices.Clone(defaults), "/data/x"), wantReadonly: readonly},
		{name: "relative mask", o: Options{Mask: []string{"data"}}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			masked, ro, err := maskedPaths(&tc.o, testHost())
			if tc.wantErr {
				if !errors.Is(err, define.ErrInvalidArg) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || !slices.Equal(masked, tc.wantMasked) || !slices.Equal(ro, tc.wantReadonly) {
				t.Errorf("masked %v\nwant   %v\nreadonly %v\nwant     %v (err %v)", masked, tc.wantMasked, ro, tc.wantReadonly, err)
			}
		})
	}
}

// allowedByProfile reports whether a syscall has an allow rule in the profile.
func allowedByProfile(p *specs.LinuxSeccomp, name string) bool {
	for _, sc := range p.Syscalls {
		if sc.Action == specs.ActAllow && len(sc.Args) == 0 && slices.Contains(sc.Names, name) {
			return true
		}
	}
	return false
}

func TestSeccomp(t *testing.T) {
	rootfs := testRootfs(t)
	gen := func(o Options) *specs.Spec {
		t.Helper()
		o.Rootfs = rootfs
		o.Command = []string{"true"}
		s, err := generate(&o, testHost())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	def := gen(Options{}).Linux.Seccomp
	if def == nil {
		t.Fatal("no default seccomp profile")
	}
	if def.DefaultAction != specs.ActErrno || !allowedByProfile(def, "read") || allowedByProfile(def, "bpf") || allowedByProfile(def, "kexec_load") {
		t.Errorf("default profile: action %s, read allowed %v, bpf allowed %v", def.DefaultAction, allowedByProfile(def, "read"), allowedByProfile(def, "bpf"))
	}
	// Syscalls tied to a capability follow the bounding set.
	if admin := gen(Options{CapAdd: []string{"SYS_ADMIN"}}).Linux.Seccomp; !allowedByProfile(admin, "bpf") {
		t.Error("CAP_SYS_ADMIN did not allow bpf in the profile")
	}

	if s := gen(Options{SeccompProfile: "unconfined"}); s.Linux.Seccomp != nil {
		t.Error("unconfined has a profile")
	}
	if s := gen(Options{Privileged: true}); s.Linux.Seccomp != nil {
		t.Error("privileged without a profile has one")
	}

	custom := filepath.Join(t.TempDir(), "profile.json")
	writeFile(t, custom, `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}`)
	for _, priv := range []bool{false, true} {
		p := gen(Options{SeccompProfile: custom, Privileged: priv}).Linux.Seccomp
		if p == nil || p.DefaultAction != specs.ActAllow || len(p.Syscalls) != 1 || p.Syscalls[0].Names[0] != "mkdir" {
			t.Errorf("privileged=%v: custom profile = %+v", priv, p)
		}
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	writeFile(t, bad, `{not json`)
	for _, path := range []string{bad, "/nonexistent/profile.json"} {
		o := Options{Rootfs: rootfs, Command: []string{"true"}, SeccompProfile: path}
		if _, err := generate(&o, testHost()); !errors.Is(err, define.ErrInvalidArg) {
			t.Errorf("%s: err = %v", path, err)
		}
	}
}

func TestSysctls(t *testing.T) {
	for _, tc := range []struct {
		name    string
		o       Options
		want    map[string]string
		wantErr bool
	}{
		{name: "podman's default", want: map[string]string{"net.ipv4.ping_group_range": "0 0"}},
		{name: "default skipped with the host's network", o: Options{Namespaces: Namespaces{Net: "host"}}, want: nil},
		{name: "containers.conf defaults", o: Options{DefaultSysctls: map[string]string{"fs.mqueue.msg_max": "20"}, Namespaces: Namespaces{IPC: "host"}}, want: nil},
		{name: "no defaults", o: Options{DefaultSysctls: map[string]string{}}, want: nil},
		{
			name: "user sysctls win",
			o:    Options{Sysctls: map[string]string{"net.ipv4.ping_group_range": "0 1000", "net.core.somaxconn": "1024", "kernel.shmmax": "1", "kernel.hostname": "h"}},
			want: map[string]string{"net.ipv4.ping_group_range": "0 1000", "net.core.somaxconn": "1024", "kernel.shmmax": "1", "kernel.hostname": "h"},
		},
		{name: "net with host network", o: Options{Namespaces: Namespaces{Net: "host"}, Sysctls: map[string]string{"net.core.somaxconn": "1"}}, wantErr: true},
		{name: "mqueue with host ipc", o: Options{Namespaces: Namespaces{IPC: "host"}, Sysctls: map[string]string{"fs.mqueue.msg_max": "1"}}, wantErr: true},
		{name: "hostname with host uts", o: Options{Namespaces: Namespaces{UTS: "host"}, Sysctls: map[string]string{"kernel.domainname": "x"}}, wantErr: true},
		{name: "not namespaced", o: Options{Sysctls: map[string]string{"vm.swappiness": "1"}}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sysctls(&tc.o)
			if tc.wantErr {
				if !errors.Is(err, define.ErrInvalidArg) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestNamespaces(t *testing.T) {
	ns := func(types ...string) []specs.LinuxNamespace {
		var out []specs.LinuxNamespace
		for _, t := range types {
			typ, path, _ := strings.Cut(t, "=")
			out = append(out, specs.LinuxNamespace{Type: specs.LinuxNamespaceType(typ), Path: path})
		}
		return out
	}
	userns := &IDMappings{UIDMap: []specs.LinuxIDMapping{{Size: 1}}, GIDMap: []specs.LinuxIDMapping{{Size: 1}}}
	for _, tc := range []struct {
		name string
		o    Options
		cg2  bool
		want []specs.LinuxNamespace
	}{
		{name: "defaults on cgroup v1", want: ns("pid", "network", "ipc", "uts", "mount")},
		{name: "defaults on cgroup v2", cg2: true, want: ns("pid", "network", "ipc", "uts", "mount", "cgroup")},
		{name: "explicit private cgroupns on v1", o: Options{Namespaces: Namespaces{Cgroup: "private"}}, want: ns("pid", "network", "ipc", "uts", "mount", "cgroup")},
		{name: "host cgroupns on v2", cg2: true, o: Options{Namespaces: Namespaces{Cgroup: "host"}}, want: ns("pid", "network", "ipc", "uts", "mount")},
		{name: "all host", o: Options{Namespaces: Namespaces{Net: "host", PID: "host", IPC: "host", UTS: "host"}}, want: ns("mount")},
		{name: "none and shareable are private", o: Options{Namespaces: Namespaces{Net: "none", IPC: "shareable"}}, want: ns("pid", "network", "ipc", "uts", "mount")},
		{
			name: "joined by path",
			o:    Options{Namespaces: Namespaces{Net: "ns:/run/netns/a", PID: "ns:/proc/9/ns/pid", IPC: "ns:/proc/9/ns/ipc", UTS: "ns:/proc/9/ns/uts", Cgroup: "ns:/proc/9/ns/cgroup"}},
			want: ns("pid=/proc/9/ns/pid", "network=/run/netns/a", "ipc=/proc/9/ns/ipc", "uts=/proc/9/ns/uts", "mount", "cgroup=/proc/9/ns/cgroup"),
		},
		{name: "user namespace with maps", o: Options{IDMappings: userns}, want: ns("pid", "network", "ipc", "uts", "mount", "user")},
		{name: "rootless alone adds no user namespace", o: Options{Rootless: true}, want: ns("pid", "network", "ipc", "uts", "mount")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := testHost()
			h.cgroup2 = tc.cg2
			got, err := namespaces(&tc.o, h)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("got %v, %v\nwant %v", got, err, tc.want)
			}
		})
	}
}

func TestAnnotations(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want map[string]string
	}{
		{
			name: "podman's",
			want: map[string]string{"io.container.manager": "libpod", "io.kubernetes.cri-o.TTY": "false", "io.podman.annotations.init": "FALSE", "io.podman.annotations.privileged": "FALSE", "org.opencontainers.image.stopSignal": "15"},
		},
		{
			name: "flags, the caller's and the image's stop signal",
			o:    Options{Privileged: true, Terminal: true, Annotations: map[string]string{"a": "b", "io.container.manager": "other"}, ImageConfig: ociv1.ImageConfig{StopSignal: "SIGQUIT"}},
			want: map[string]string{"io.container.manager": "other", "io.kubernetes.cri-o.TTY": "true", "io.podman.annotations.init": "FALSE", "io.podman.annotations.privileged": "TRUE", "org.opencontainers.image.stopSignal": "3", "a": "b"},
		},
		{
			name: "--stop-signal beats the image and a caller's annotation",
			o:    Options{StopSignal: "kill", Annotations: map[string]string{"org.opencontainers.image.stopSignal": "1"}, ImageConfig: ociv1.ImageConfig{StopSignal: "SIGQUIT"}},
			want: map[string]string{"io.container.manager": "libpod", "io.kubernetes.cri-o.TTY": "false", "io.podman.annotations.init": "FALSE", "io.podman.annotations.privileged": "FALSE", "org.opencontainers.image.stopSignal": "9"},
		},
		{
			name: "numeric stop signal",
			o:    Options{StopSignal: "10"},
			want: map[string]string{"io.container.manager": "libpod", "io.kubernetes.cri-o.TTY": "false", "io.podman.annotations.init": "FALSE", "io.podman.annotations.privileged": "FALSE", "org.opencontainers.image.stopSignal": "10"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := annotations(&tc.o, false)
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("got %v, %v\nwant %v", got, err, tc.want)
			}
		})
	}
	if _, err := annotations(&Options{StopSignal: "SIGNOPE"}, false); !errors.Is(err, define.ErrInvalidArg) {
		t.Errorf("bad signal: %v", err)
	}
}

func TestReadOnlyRootAndNoNewPrivileges(t *testing.T) {
	s := mustGenerate(t, &Options{Rootfs: testRootfs(t), ReadOnly: true, NoNewPrivileges: true}, nil)
	if !s.Root.Readonly || !s.Process.NoNewPrivileges {
		t.Errorf("root %+v, noNewPrivileges %v", s.Root, s.Process.NoNewPrivileges)
	}
}

func TestHostProbe(t *testing.T) {
	h := probeHost(false)
	if len(h.boundingSet) == 0 {
		t.Error("empty bounding set")
	}
	if _, err := os.Stat("/proc/sys/kernel/pid_max"); err == nil && h.pidMax == 0 {
		t.Error("pid_max not read")
	}
	if r, err := h.getrlimit(rlimitResources["RLIMIT_NOFILE"]); err != nil || r.Max == 0 {
		t.Errorf("getrlimit: %v %v", r, err)
	}
	if m := readIDMap("/proc/self/gid_map"); len(m) == 0 {
		t.Error("gid_map not read")
	}
	if !idMapped(nil, 12345) || idMapped([]specs.LinuxIDMapping{}, 0) || !idMapped([]specs.LinuxIDMapping{{ContainerID: 5, Size: 1}}, 5) || idMapped([]specs.LinuxIDMapping{{ContainerID: 5, Size: 1}}, 6) {
		t.Error("idMapped")
	}
}
