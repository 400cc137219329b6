package spec

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/common/pkg/config"
)

// mounts are podman's default filesystems, adjusted to the namespaces, then the engine's mounts (which
// replace a default at the same destination; a /dev of the engine's replaces everything under /dev), sorted
// so that no mount hides another.
func mounts(o *Options, h *hostInfo) ([]specs.Mount, error) {
	userNS := inUserNS(o)
	canMountSys := canMountSysfs(o)
	ro := func(privileged bool) string {
		if privileged {
			return "rw"
		}
		return "ro"
	}

	var defaults []specs.Mount
	if userNS && o.Namespaces.PID == "host" {
		// A new procfs can only be mounted by the owner of the pid namespace.
		defaults = append(defaults, specs.Mount{Destination: "/proc", Type: "bind", Source: "/proc", Options: []string{"rbind", "nosuid", "noexec", "nodev"}})
	} else {
		defaults = append(defaults, specs.Mount{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}})
	}
	defaults = append(defaults, specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "noexec", "strictatime", "mode=755", "size=65536k"}})

	devpts := []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}
	if idMapped(containerGIDMap(o, h), 5) {
		devpts = append(devpts, "gid=5") // the tty group, when the container's user namespace has it
	}
	defaults = append(defaults, specs.Mount{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: devpts})

	switch {
	case o.Namespaces.IPC == "none":
	case o.Namespaces.IPC == "host":
		defaults = append(defaults, specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"bind", "rprivate", "nosuid", "noexec", "nodev"}})
	default:
		size := o.ShmSize
		if size == 0 {
			size = DefaultShmSize
		}
		defaults = append(defaults, specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=" + sizeOption(size)}})
	}

	if userNS && o.Namespaces.IPC == "host" {
		// mqueue can only be mounted by the owner of the ipc namespace.
		defaults = append(defaults, specs.Mount{Destination: "/dev/mqueue", Type: "bind", Source: "/dev/mqueue", Options: []string{"bind", "nosuid", "noexec", "nodev"}})
	} else {
		defaults = append(defaults, specs.Mount{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}})
	}

	if canMountSys {
		opts := []string{"nosuid", "noexec", "nodev", "ro"}
		if o.Privileged {
			opts = []string{"rprivate", "nosuid", "noexec", "nodev", "rw"}
		}
		defaults = append(defaults,
			specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: opts},
			specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"rprivate", "nosuid", "noexec", "nodev", "relatime", cgroupPermission(o, h)}})
	} else {
		// sysfs can only be mounted by the owner of the network namespace: bind the caller's.
		r := ro(o.Privileged)
		defaults = append(defaults,
			specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rprivate", "nosuid", "noexec", "nodev", r, "rbind"}},
			specs.Mount{Destination: "/sys/fs/cgroup", Type: "bind", Source: "/sys/fs/cgroup", Options: []string{"rprivate", "nosuid", "noexec", "nodev", r, "rbind"}})
	}

	if o.ReadOnly && o.ReadOnlyTmpfs {
		// podman 4's options; podman 5 adds noexec to /tmp and /var/tmp.
		for _, dest := range []string{"/run", "/tmp", "/var/tmp"} {
			defaults = append(defaults, specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs", Options: []string{"rw", "rprivate", "nosuid", "nodev", "tmpcopyup"}})
		}
	}

	if o.Init {
		m, err := initMount(o)
		if err != nil {
			return nil, err
		}
		defaults = append(defaults, m)
	}
	if o.Tz != "" {
		m, err := timezoneMount(o.Tz)
		if err != nil {
			return nil, err
		}
		defaults = append(defaults, m)
	}

	all := supersedeMounts(o.Mounts, defaults)
	if o.Rootfs != "" {
		for i := range all {
			if all[i].Type != "tmpfs" {
				continue
			}
			// A tmpfs destination that is a symlink in the image (/var/tmp -> /tmp, /run -> /var/run)
			// confuses runtimes: mount on what it points to, resolved inside the rootfs.
			resolved, err := securejoin.SecureJoin(o.Rootfs, all[i].Destination)
			if err != nil {
				return nil, fmt.Errorf("resolving symlinks for mount destination %s: %w", all[i].Destination, err)
			}
			all[i].Destination = "/" + strings.TrimPrefix(strings.TrimPrefix(resolved, filepath.Clean(o.Rootfs)), "/")
		}
	}
	sortMounts(all)
	return all, nil
}

// canMountSysfs is podman's heuristic: a new sysfs needs a network namespace owned by the container's user
// namespace, which the host's or a joined one is not when the container runs in a user namespace.
func canMountSysfs(o *Options) bool {
	net := o.Namespaces.Net
	if net == "host" && inUserNS(o) {
		return false
	}
	if o.IDMappings != nil {
		return isPrivate(net)
	}
	return true
}

// cgroupPermission: /sys/fs/cgroup is read-only unless privileged, or on cgroup v2 unmasked.
func cgroupPermission(o *Options, h *hostInfo) string {
	if o.Privileged {
		return "rw"
	}
	if !h.cgroup2 {
		return "ro"
	}
	for _, p := range o.Unmask {
		if strings.EqualFold(p, "all") || path.Clean(p) == "/sys/fs/cgroup" {
			return "rw"
		}
	}
	return "ro"
}

// sizeOption writes a tmpfs size, in k when it divides evenly (podman writes 65536k).
func sizeOption(n int64) string {
	if n%1024 == 0 {
		return strconv.FormatInt(n/1024, 10) + "k"
	}
	return strconv.FormatInt(n, 10)
}

// supersedeMounts returns the engine's mounts followed by the defaults they do not replace.
func supersedeMounts(user, defaults []specs.Mount) []specs.Mount {
	dests := map[string]bool{}
	for _, m := range user {
		dests[path.Clean(m.Destination)] = true
	}
	out := slices.Clone(user)
	for _, m := range defaults {
		d := path.Clean(m.Destination)
		if dests[d] || (dests["/dev"] && strings.HasPrefix(d, "/dev/")) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// sortMounts orders mounts by the depth of their destination, keeping the given order otherwise, so that
// /dev comes before /dev/pts and a volume at /data before one at /data/sub.
func sortMounts(m []specs.Mount) {
	depth := func(p string) int {
		p = path.Clean(p)
		if p == "/" {
			return 0
		}
		return strings.Count(p, "/")
	}
	slices.SortStableFunc(m, func(a, b specs.Mount) int { return depth(a.Destination) - depth(b.Destination) })
}

// initMount binds catatonit at /run/podman-init, read-only, as podman does.
func initMount(o *Options) (specs.Mount, error) {
	if !isPrivate(o.Namespaces.PID) {
		return specs.Mount{}, invalidArgf("cannot add init binary as PID 1 (PID namespace isn't private)")
	}
	p := o.InitPath
	if p == "" {
		p = findInitBinary()
	}
	if p == "" {
		return specs.Mount{}, invalidArgf("container-init binary not found on the host: install catatonit or pass --init-path")
	}
	if _, err := os.Stat(p); err != nil {
		return specs.Mount{}, invalidArgf("container-init binary not found on the host: %w", err)
	}
	return specs.Mount{Destination: ContainerInitPath, Type: "bind", Source: p, Options: []string{"bind", "ro", "rprivate"}}, nil
}

// initCandidates are where distributions install catatonit: podman's own helper directory first.
var initCandidates = []string{config.DefaultInitPath, "/usr/local/libexec/podman/catatonit", "/usr/lib/podman/catatonit"}

func findInitBinary() string {
	for _, c := range initCandidates {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	if p, err := exec.LookPath("catatonit"); err == nil {
		return p
	}
	return ""
}

// zoneinfoDir is the host's time zone database; TZDIR overrides it as in glibc.
func zoneinfoDir() string {
	if d := os.Getenv("TZDIR"); d != "" {
		return d
	}
	return "/usr/share/zoneinfo"
}

// timezoneMount binds the host's zone file for --tz at /etc/localtime, read-only. podman copies the file
// into the container's run directory first; skiff binds it directly because generating a spec must not
// write anything. No TZ variable is set (podman sets none): a TZ naming a zone the image lacks would make
// libc fall back to UTC, while /etc/localtime always works.
func timezoneMount(tz string) (specs.Mount, error) {
	var zone string
	if tz == "local" {
		zone = "/etc/localtime"
	} else {
		if !filepath.IsLocal(tz) {
			return specs.Mount{}, invalidArgf("invalid timezone %q", tz)
		}
		zone = filepath.Join(zoneinfoDir(), tz)
	}
	resolved, err := filepath.EvalSymlinks(zone)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return specs.Mount{}, invalidArgf("finding timezone %q: unknown time zone", tz)
		}
		return specs.Mount{}, fmt.Errorf("finding timezone %q: %w", tz, err)
	}
	st, err := os.Stat(resolved)
	if err != nil {
		return specs.Mount{}, fmt.Errorf("finding timezone %q: %w", tz, err)
	}
	if !st.Mode().IsRegular() {
		return specs.Mount{}, invalidArgf("invalid timezone %q: not a zone file", tz)
	}
	return specs.Mount{Destination: "/etc/localtime", Type: "bind", Source: resolved, Options: []string{"bind", "ro", "rprivate"}}, nil
}
