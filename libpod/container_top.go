package libpod

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/skiffcontainers/skiff/libpod/define"
	"golang.org/x/sys/unix"
)

// topDescriptors maps podman's (ps-style AIX) descriptors to their headers.
var topDescriptors = map[string]string{
	"user": "USER", "pid": "PID", "ppid": "PPID", "pcpu": "%CPU", "etime": "ELAPSED", "tty": "TTY",
	"time": "TIME", "args": "COMMAND", "comm": "COMMAND", "group": "GROUP", "nice": "NI", "pgid": "PGID",
	"rgroup": "RGROUP", "ruser": "RUSER", "vsz": "VSZ", "rss": "RSS", "state": "STATE", "uid": "UID",
	"gid": "GID", "stime": "STIME", "huser": "HUSER", "hpid": "HPID",
}

// DefaultTopDescriptors is podman's default: user pid ppid pcpu etime tty time args.
var DefaultTopDescriptors = []string{"user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"}

// Top lists the container's processes (those in its PID namespace) with ps-like descriptors.
func (c *Container) Top(descriptors []string) ([][]string, error) {
	if c.State.Status != StatusRunning && c.State.Status != StatusPaused {
		return nil, fmt.Errorf("top can only be used on running containers: %w", define.ErrCtrStateInvalid)
	}
	if len(descriptors) == 0 {
		descriptors = DefaultTopDescriptors
	}
	header := make([]string, len(descriptors))
	for i, d := range descriptors {
		h, ok := topDescriptors[d]
		if !ok {
			return nil, fmt.Errorf("unknown descriptor: %s: %w", d, define.ErrInvalidArg)
		}
		header[i] = h
	}
	nsLink, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c.State.Pid))
	if err != nil {
		return nil, fmt.Errorf("reading the container's PID namespace: %w", err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var procs []*procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err != nil || l != nsLink {
			continue
		}
		if p, err := readProc(pid); err == nil {
			procs = append(procs, p)
		}
	}
	sort.Slice(procs, func(i, j int) bool { return procs[i].nspid < procs[j].nspid })
	names := idNames{users: readIDNames(c.State.Mountpoint, "etc/passwd"), groups: readIDNames(c.State.Mountpoint, "etc/group")}
	rows := [][]string{header}
	for _, p := range procs {
		row := make([]string, len(descriptors))
		for i, d := range descriptors {
			row[i] = p.field(d, names)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

type procInfo struct {
	pid, nspid, ppid, nsppid, pgid, nice int
	uid, gid, ruid, rgid                 int
	comm, state, args, tty               string
	utime, stime, start                  uint64
	vsz, rss                             uint64
}

var clockTicks = uint64(100)

func readProc(pid int) (*procInfo, error) {
	base := fmt.Sprintf("/proc/%d/", pid)
	stat, err := os.ReadFile(base + "stat")
	if err != nil {
		return nil, err
	}
	s := string(stat)
	l, r := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if l < 0 || r < 0 {
		return nil, fmt.Errorf("bad stat")
	}
	p := &procInfo{pid: pid, comm: s[l+1 : r]}
	f := strings.Fields(s[r+1:]) // f[0] is field 3 (state)
	atoi := func(i int) int { n, _ := strconv.Atoi(f[i]); return n }
	atou := func(i int) uint64 { n, _ := strconv.ParseUint(f[i], 10, 64); return n }
	p.state, p.ppid, p.pgid = f[0], atoi(1), atoi(2)
	ttyNr := atoi(4)
	p.utime, p.stime = atou(11), atou(12)
	p.nice = atoi(16)
	p.start = atou(19)
	p.vsz, p.rss = atou(20)/1024, atou(21)*uint64(os.Getpagesize())/1024
	p.tty = "?"
	if ttyNr != 0 {
		p.tty = fmt.Sprintf("pts/%d", unix.Minor(uint64(ttyNr)))
	}
	status, _ := os.ReadFile(base + "status")
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		fs := strings.Fields(v)
		switch k {
		case "Uid":
			if len(fs) >= 2 {
				p.ruid, _ = strconv.Atoi(fs[0])
				p.uid, _ = strconv.Atoi(fs[1])
			}
		case "Gid":
			if len(fs) >= 2 {
				p.rgid, _ = strconv.Atoi(fs[0])
				p.gid, _ = strconv.Atoi(fs[1])
			}
		case "NSpid":
			if len(fs) > 0 {
				p.nspid, _ = strconv.Atoi(fs[len(fs)-1])
			}
		}
	}
	p.nsppid = p.ppid
	if pp, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.ppid)); err == nil {
		for _, line := range strings.Split(string(pp), "\n") {
			if k, v, _ := strings.Cut(line, ":"); k == "NSpid" {
				fs := strings.Fields(v)
				if len(fs) > 1 { // the parent is in the container's namespace too
					p.nsppid, _ = strconv.Atoi(fs[len(fs)-1])
				} else {
					p.nsppid = 0
				}
			}
		}
	}
	cmdline, _ := os.ReadFile(base + "cmdline")
	p.args = strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
	if p.args == "" {
		p.args = "[" + p.comm + "]"
	}
	return p, nil
}

func (p *procInfo) field(d string, n idNames) string {
	switch d {
	case "user":
		return n.user(p.uid)
	case "huser":
		return userName(p.uid)
	case "ruser":
		return n.user(p.ruid)
	case "group":
		return n.group(p.gid)
	case "rgroup":
		return n.group(p.rgid)
	case "pid":
		return strconv.Itoa(p.nspid)
	case "hpid":
		return strconv.Itoa(p.pid)
	case "ppid":
		return strconv.Itoa(p.nsppid)
	case "pgid":
		return strconv.Itoa(p.pgid)
	case "uid":
		return strconv.Itoa(p.uid)
	case "gid":
		return strconv.Itoa(p.gid)
	case "nice":
		return strconv.Itoa(p.nice)
	case "state":
		return p.state
	case "tty":
		return p.tty
	case "vsz":
		return strconv.FormatUint(p.vsz, 10)
	case "rss":
		return strconv.FormatUint(p.rss, 10)
	case "args":
		return p.args
	case "comm":
		return p.comm
	case "time":
		return formatCPUTime((p.utime + p.stime) / clockTicks)
	case "etime":
		return elapsed(p.start).Round(time.Millisecond * 100).String()
	case "stime":
		return time.Now().Add(-elapsed(p.start)).Format("15:04")
	case "pcpu":
		el := elapsed(p.start).Seconds()
		if el <= 0 {
			return "0.000"
		}
		return strconv.FormatFloat(float64(p.utime+p.stime)/float64(clockTicks)/el*100, 'f', 3, 64)
	}
	return ""
}

func elapsed(startTicks uint64) time.Duration {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	up := time.Duration(si.Uptime) * time.Second
	return up - time.Duration(startTicks)*time.Second/time.Duration(clockTicks)
}

func formatCPUTime(sec uint64) string {
	return fmt.Sprintf("%dh%dm%d.00s", sec/3600, (sec%3600)/60, sec%60)
}

func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}

// idNames resolves ids with the container's own /etc/passwd and /etc/group, as podman's top does.
type idNames struct{ users, groups map[int]string }

func (n idNames) user(id int) string {
	if name, ok := n.users[id]; ok {
		return name
	}
	return strconv.Itoa(id)
}

func (n idNames) group(id int) string {
	if name, ok := n.groups[id]; ok {
		return name
	}
	return strconv.Itoa(id)
}

func readIDNames(rootfs, file string) map[int]string {
	out := map[int]string{}
	if rootfs == "" {
		return out
	}
	data, err := os.ReadFile(filepath.Join(rootfs, file))
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 3 {
			if id, err := strconv.Atoi(f[2]); err == nil {
				if _, seen := out[id]; !seen {
					out[id] = f[0]
				}
			}
		}
	}
	return out
}
