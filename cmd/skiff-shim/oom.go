package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// oomWatch remembers the container's memory cgroup while the container lives, so that after its exit the
// OOM killer's count there can tell whether it killed something in the container. Best effort: nil when
// the cgroup is unknown, and false when the count cannot be read.
type oomWatch struct {
	file   string // memory.oom_control (v1) or memory.events (v2)
	before int64  // the count when the container was created: its cgroup may be shared
}

func newOOMWatch(pid int) *oomWatch {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil
	}
	file := memoryCgroupFile(string(data), cgroup2Root("/sys/fs/cgroup"))
	if file == "" {
		return nil
	}
	n, _ := oomKillCount(file)
	return &oomWatch{file: file, before: n}
}

// cgroup2Root: /sys/fs/cgroup is a cgroup v2 mount (the unified layout).
func cgroup2Root(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// memoryCgroupFile picks the OOM counter file from /proc/PID/cgroup: the v1 memory controller's line
// ("N:...memory...:/path") when there is one, else on a unified host the v2 line ("0::/path").
func memoryCgroupFile(procCgroup string, unified bool) string {
	v2 := ""
	for _, line := range strings.Split(procCgroup, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			v2 = parts[2]
			continue
		}
		for _, ctl := range strings.Split(parts[1], ",") {
			if ctl == "memory" {
				return filepath.Join("/sys/fs/cgroup/memory", parts[2], "memory.oom_control")
			}
		}
	}
	if unified && v2 != "" {
		return filepath.Join("/sys/fs/cgroup", v2, "memory.events")
	}
	return ""
}

// oomKillCount reads the "oom_kill N" line both memory.oom_control (v1) and memory.events (v2) have.
func oomKillCount(file string) (int64, bool) {
	f, err := os.Open(file)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == "oom_kill" {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func (o *oomWatch) killed() bool {
	if o == nil {
		return false
	}
	n, ok := oomKillCount(o.file)
	return ok && n > o.before
}
