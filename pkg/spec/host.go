package spec

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"github.com/moby/sys/capability"
	"github.com/moby/sys/userns"
	"github.com/opencontainers/runtime-spec/specs-go"
	"go.podman.io/common/pkg/capabilities"
	"golang.org/x/sys/unix"
)

// hostInfo holds the facts about the calling process and the host that the spec depends on. Generate
// probes them; tests substitute their own.
type hostInfo struct {
	// boundingSet is the calling process's capability bounding set (CAP_ names): a container can never
	// get more, and on hosts without CAP_SYS_RESOURCE in it "all capabilities" must not name it.
	boundingSet []string
	// canRaiseRlimits: the runtime may set rlimits above the caller's hard limits. It needs
	// CAP_SYS_RESOURCE in the initial user namespace.
	canRaiseRlimits bool
	// getrlimit returns the caller's limits for an RLIMIT_* number.
	getrlimit func(resource int) (unix.Rlimit, error)
	pidMax    uint64 // /proc/sys/kernel/pid_max, 0 if unknown
	nrOpen    uint64 // /proc/sys/fs/nr_open: the kernel's ceiling for RLIMIT_NOFILE, 0 if unknown
	cgroup2   bool   // /sys/fs/cgroup is the unified hierarchy
	// gidMap is the calling process's gid_map (its namespace's ids in ContainerID), used in rootless mode
	// to drop groups that the namespace cannot represent.
	gidMap   []specs.LinuxIDMapping
	hostname func() (string, error)
}

func probeHost(rootless bool) *hostInfo {
	h := &hostInfo{
		getrlimit: func(resource int) (unix.Rlimit, error) {
			var r unix.Rlimit
			err := unix.Getrlimit(resource, &r)
			return r, err
		},
		pidMax:   readUintFile("/proc/sys/kernel/pid_max"),
		nrOpen:   readUintFile("/proc/sys/fs/nr_open"),
		hostname: os.Hostname,
	}
	h.boundingSet, _ = capabilities.BoundingSet()
	h.canRaiseRlimits = !rootless && !userns.RunningInUserNS() && hasEffectiveCap(capability.CAP_SYS_RESOURCE)
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil {
		h.cgroup2 = st.Type == unix.CGROUP2_SUPER_MAGIC
	}
	if rootless {
		h.gidMap = readIDMap("/proc/self/gid_map")
	}
	return h
}

func hasEffectiveCap(c capability.Cap) bool {
	caps, err := capability.NewPid2(0)
	if err != nil {
		return false
	}
	if err := caps.Load(); err != nil {
		return false
	}
	return caps.Get(capability.EFFECTIVE, c)
}

func readUintFile(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// readIDMap reads /proc/self/[ug]id_map. A missing or unreadable file gives nil, which callers treat as
// "every id is available" (the initial namespace).
func readIDMap(path string) []specs.LinuxIDMapping {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []specs.LinuxIDMapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		var v [3]uint64
		ok := true
		for i, s := range fields {
			if v[i], err = strconv.ParseUint(s, 10, 32); err != nil {
				ok = false
			}
		}
		if ok {
			out = append(out, specs.LinuxIDMapping{ContainerID: uint32(v[0]), HostID: uint32(v[1]), Size: uint32(v[2])})
		}
	}
	return out
}

// idMapped reports whether id is in the inside range of maps; nil maps map everything.
func idMapped(maps []specs.LinuxIDMapping, id uint32) bool {
	if maps == nil {
		return true
	}
	for _, m := range maps {
		if id >= m.ContainerID && uint64(id) < uint64(m.ContainerID)+uint64(m.Size) {
			return true
		}
	}
	return false
}

// containerGIDMap is the set of gids that can exist in the container: its own user namespace's map, or in
// rootless mode the map of the namespace skiff runs in; nil when every gid is available.
func containerGIDMap(o *Options, h *hostInfo) []specs.LinuxIDMapping {
	switch {
	case o.IDMappings != nil && len(o.IDMappings.GIDMap) > 0:
		return o.IDMappings.GIDMap
	case o.Rootless:
		if h.gidMap == nil {
			return []specs.LinuxIDMapping{}
		}
		return h.gidMap
	}
	return nil
}
