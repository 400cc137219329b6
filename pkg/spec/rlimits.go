package spec

import (
	"math"
	"slices"
	"strings"

	units "github.com/docker/go-units"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

const (
	// defaultNofile is podman's RLIMIT_NOFILE for containers (define.RLimitDefaultValue).
	defaultNofile = 1048576
	// pidMaxLimit is the kernel's PID_MAX_LIMIT on 64-bit: podman's RLIMIT_NPROC when pid_max is unknown.
	pidMaxLimit  = 4194304
	rlimInfinity = math.MaxUint64
)

// rlimitResources are the RLIMIT_* names the runtime accepts, with their numbers for getrlimit(2).
var rlimitResources = map[string]int{
	"RLIMIT_AS":         unix.RLIMIT_AS,
	"RLIMIT_CORE":       unix.RLIMIT_CORE,
	"RLIMIT_CPU":        unix.RLIMIT_CPU,
	"RLIMIT_DATA":       unix.RLIMIT_DATA,
	"RLIMIT_FSIZE":      unix.RLIMIT_FSIZE,
	"RLIMIT_LOCKS":      unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK":    unix.RLIMIT_MEMLOCK,
	"RLIMIT_MSGQUEUE":   unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE":       unix.RLIMIT_NICE,
	"RLIMIT_NOFILE":     unix.RLIMIT_NOFILE,
	"RLIMIT_NPROC":      unix.RLIMIT_NPROC,
	"RLIMIT_RSS":        unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO":     unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME":     unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK":      unix.RLIMIT_STACK,
}

// ParseUlimit parses one --ulimit value, name=soft[:hard], as podman does (docker/go-units): -1 is
// unlimited, a missing hard limit equals the soft one, and soft may not exceed hard.
func ParseUlimit(s string) (specs.POSIXRlimit, error) {
	u, err := units.ParseUlimit(s)
	if err != nil {
		return specs.POSIXRlimit{}, invalidArgf("ulimit option %q requires name=SOFT:HARD, failed to be parsed: %w", s, err)
	}
	hard, herr := rlimValue(u.Hard)
	soft, serr := rlimValue(u.Soft)
	if herr != nil || serr != nil {
		return specs.POSIXRlimit{}, invalidArgf("ulimit option %q: limits must be -1 (unlimited) or non-negative", s)
	}
	return specs.POSIXRlimit{Type: "RLIMIT_" + strings.ToUpper(u.Name), Hard: hard, Soft: soft}, nil
}

func rlimValue(v int64) (uint64, error) {
	switch {
	case v == -1:
		return rlimInfinity, nil
	case v < 0:
		return 0, invalidArgf("negative limit %d", v)
	}
	return uint64(v), nil
}

// processRlimits is containers.conf's default_ulimits, overridden per type by --ulimit ("host" copies the
// caller's own limits), then podman's defaults for what is still unset: RLIMIT_NOFILE 1048576 and
// RLIMIT_NPROC pid_max (podman 4 derives it from pid_max; 4194304 when unknown). Every limit is then
// clamped to what the runtime will be allowed to set (see clampRlimits).
func processRlimits(o *Options, h *hostInfo) ([]specs.POSIXRlimit, error) {
	var out []specs.POSIXRlimit
	userSet := map[string]bool{}
	set := func(rl specs.POSIXRlimit) {
		if i := slices.IndexFunc(out, func(x specs.POSIXRlimit) bool { return x.Type == rl.Type }); i >= 0 {
			out[i] = rl
			return
		}
		out = append(out, rl)
	}
	for _, u := range o.DefaultUlimits {
		rl, err := ParseUlimit(u)
		if err != nil {
			return nil, err
		}
		set(rl)
	}
	for _, u := range o.Ulimits {
		if u == "host" {
			for _, name := range sortedResourceNames() {
				if r, err := h.getrlimit(rlimitResources[name]); err == nil {
					set(specs.POSIXRlimit{Type: name, Hard: r.Max, Soft: r.Cur})
				}
			}
			continue
		}
		rl, err := ParseUlimit(u)
		if err != nil {
			return nil, err
		}
		set(rl)
		userSet[rl.Type] = true
	}
	if !slices.ContainsFunc(out, func(x specs.POSIXRlimit) bool { return x.Type == "RLIMIT_NOFILE" }) {
		out = append(out, specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Hard: defaultNofile, Soft: defaultNofile})
	}
	if !slices.ContainsFunc(out, func(x specs.POSIXRlimit) bool { return x.Type == "RLIMIT_NPROC" }) {
		n := h.pidMax
		if n == 0 {
			n = pidMaxLimit
		}
		out = append(out, specs.POSIXRlimit{Type: "RLIMIT_NPROC", Hard: n, Soft: n})
	}
	clamped := clampRlimits(out, h.canRaiseRlimits, h.getrlimit, h.nrOpen)
	for i, rl := range clamped {
		if userSet[rl.Type] && rl != out[i] {
			logrus.Warnf("%s lowered from %d:%d to %d:%d: the limit cannot be raised above the caller's hard limit without CAP_SYS_RESOURCE",
				rl.Type, out[i].Soft, out[i].Hard, rl.Soft, rl.Hard)
		}
	}
	return clamped, nil
}

func sortedResourceNames() []string {
	names := make([]string, 0, len(rlimitResources))
	for n := range rlimitResources {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// clampRlimits lowers limits the runtime could not set, which would make it fail ("setrlimit
// RLIMIT_NOFILE: Operation not permitted", as podman does on such hosts). Raising a hard limit above the
// caller's needs CAP_SYS_RESOURCE in the initial user namespace; without it (rootless, or a host that
// drops it from the bounding set) every hard limit is capped at the caller's hard limit. RLIMIT_NOFILE is
// also capped at fs.nr_open, which not even CAP_SYS_RESOURCE can pass. A soft limit above its (new) hard
// limit comes down to it. Unknown types and limits that cannot be read are left alone.
func clampRlimits(limits []specs.POSIXRlimit, canRaise bool, getrlimit func(int) (unix.Rlimit, error), nrOpen uint64) []specs.POSIXRlimit {
	out := make([]specs.POSIXRlimit, len(limits))
	for i, rl := range limits {
		if res, known := rlimitResources[rl.Type]; known && !canRaise && getrlimit != nil {
			if cur, err := getrlimit(res); err == nil && rl.Hard > cur.Max {
				rl.Hard = cur.Max
			}
		}
		if rl.Type == "RLIMIT_NOFILE" && nrOpen > 0 && rl.Hard > nrOpen {
			rl.Hard = nrOpen
		}
		if rl.Soft > rl.Hard {
			rl.Soft = rl.Hard
		}
		out[i] = rl
	}
	return out
}
