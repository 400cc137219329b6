package spec

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"go.podman.io/common/pkg/config"
	"go.podman.io/common/pkg/seccomp"
	"go.podman.io/common/pkg/signal"
	"go.podman.io/common/pkg/sysctl"
)

// maskedPaths returns the paths hidden from the container and those made read-only: containers/common's
// defaults unless privileged, minus --security-opt unmask, plus mask. (The list is the one of the
// go.podman.io/common skiff links; podman 4.3 also masked /sys/dev/block, which common dropped because
// it only holds symlinks into /sys/devices and masking it broke lsblk.)
func maskedPaths(o *Options, h *hostInfo) (masked, readonly []string, err error) {
	if !o.Privileged {
		for _, p := range config.DefaultMaskedPaths() {
			if shouldMask(p, o.Unmask) {
				masked = append(masked, p)
			}
		}
		for _, p := range config.DefaultReadOnlyPaths {
			if shouldMask(p, o.Unmask) {
				readonly = append(readonly, p)
			}
		}
		if o.Rootless && !canMountSysfs(o) {
			// The host's /sys is bound in: hide the kernel's knobs as its own sysfs would not show them.
			masked = append(masked, "/sys/kernel")
		}
	}
	for _, p := range o.Mask {
		if p == "" {
			continue
		}
		if !path.IsAbs(p) {
			return nil, nil, invalidArgf("invalid mask path %q: must be absolute", p)
		}
		if !slices.Contains(masked, p) {
			masked = append(masked, p)
		}
	}
	return masked, readonly, nil
}

// shouldMask: unmask entries are globs (several may be joined with ':'), or ALL.
func shouldMask(p string, unmask []string) bool {
	for _, u := range unmask {
		if strings.EqualFold(u, "all") {
			return false
		}
		for _, pattern := range strings.Split(u, ":") {
			if ok, err := filepath.Match(pattern, p); err == nil && ok {
				return false
			}
		}
	}
	return true
}

// seccompProfile: containers/common's default profile (its syscalls conditional on capabilities follow
// s's bounding set, so this runs after the capabilities are set), none for "unconfined" or for a
// privileged container that did not name a profile, else the JSON profile at the given path.
func seccompProfile(o *Options, s *specs.Spec) (*specs.LinuxSeccomp, error) {
	switch {
	case o.SeccompProfile == "unconfined":
		return nil, nil
	case o.SeccompProfile == "":
		if o.Privileged {
			return nil, nil
		}
		p, err := seccomp.GetDefaultProfile(s)
		if err != nil {
			return nil, fmt.Errorf("loading the default seccomp profile: %w", err)
		}
		return p, nil
	}
	body, err := os.ReadFile(o.SeccompProfile)
	if err != nil {
		return nil, invalidArgf("opening seccomp profile failed: %w", err)
	}
	p, err := seccomp.LoadProfileFromBytes(body, s)
	if err != nil {
		return nil, invalidArgf("loading seccomp profile (%s) failed: %w", o.SeccompProfile, err)
	}
	return p, nil
}

// defaultSysctls is containers.conf's built-in default_sysctls: unprivileged ICMP sockets for root only.
var defaultSysctls = map[string]string{"net.ipv4.ping_group_range": "0 0"}

// sysctls are containers.conf's defaults (skipped silently for a namespace shared with the host) and the
// user's (an error for a namespace shared with the host, as podman). Only namespaced sysctls are allowed.
func sysctls(o *Options) (map[string]string, error) {
	out := map[string]string{}
	hostIPC, hostNet, hostUTS := o.Namespaces.IPC == "host", o.Namespaces.Net == "host", o.Namespaces.UTS == "host"
	defaults := o.DefaultSysctls
	if defaults == nil {
		defaults = defaultSysctls
	}
	for _, k := range slices.Sorted(maps.Keys(defaults)) {
		switch {
		case hostIPC && strings.HasPrefix(k, "fs.mqueue."),
			hostNet && strings.HasPrefix(k, "net."),
			hostUTS && (k == "kernel.domainname" || k == "kernel.hostname"):
			logrus.Infof("Sysctl %s=%s ignored in containers.conf, since the namespace is shared with the host", k, defaults[k])
			continue
		}
		out[k] = defaults[k]
	}
	for _, k := range slices.Sorted(maps.Keys(o.Sysctls)) {
		v := o.Sysctls[k]
		switch {
		case hostIPC && strings.HasPrefix(k, "fs.mqueue."):
			return nil, invalidArgf("sysctl %s=%s can't be set since IPC Namespace set to host", k, v)
		case hostNet && strings.HasPrefix(k, "net."):
			return nil, invalidArgf("sysctl %s=%s can't be set since Network Namespace set to host", k, v)
		case hostUTS && (k == "kernel.domainname" || k == "kernel.hostname"):
			return nil, invalidArgf("sysctl %s=%s can't be set since UTS Namespace set to host", k, v)
		}
		// kernel.hostname and kernel.domainname belong to the UTS namespace; podman's CLI accepts them.
		if k != "kernel.domainname" && k != "kernel.hostname" {
			if _, err := sysctl.Validate([]string{k + "=" + v}); err != nil {
				return nil, invalidArg(err)
			}
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// namespaces lists the namespaces to create or join, in podman's order. A host namespace is not listed.
func namespaces(o *Options, h *hostInfo) ([]specs.LinuxNamespace, error) {
	var out []specs.LinuxNamespace
	add := func(t specs.LinuxNamespaceType, mode string) {
		if mode == "host" {
			return
		}
		p, _ := strings.CutPrefix(mode, "ns:")
		if p == mode {
			p = ""
		}
		out = append(out, specs.LinuxNamespace{Type: t, Path: p})
	}
	add(specs.PIDNamespace, o.Namespaces.PID)
	add(specs.NetworkNamespace, o.Namespaces.Net)
	add(specs.IPCNamespace, o.Namespaces.IPC)
	add(specs.UTSNamespace, o.Namespaces.UTS)
	out = append(out, specs.LinuxNamespace{Type: specs.MountNamespace})
	if o.IDMappings != nil {
		if len(o.IDMappings.UIDMap) == 0 || len(o.IDMappings.GIDMap) == 0 {
			return nil, invalidArgf("a user namespace needs both a uid and a gid map")
		}
		out = append(out, specs.LinuxNamespace{Type: specs.UserNamespace})
	}
	cgroup := o.Namespaces.Cgroup
	if cgroup == "" {
		// podman's default: private on cgroup v2; on v1 a cgroup namespace hides nothing useful and
		// breaks tools that read /proc/self/cgroup against the host's hierarchy.
		cgroup = "host"
		if h.cgroup2 {
			cgroup = "private"
		}
	}
	add(specs.CgroupNamespace, cgroup)
	return out, nil
}

// annotations are podman's: the manager (libpod, so that tools recognising podman containers recognise
// skiff's), TTY, init and privileged markers, then the caller's, and the stop signal as a number.
func annotations(o *Options, keepGroups bool) (map[string]string, error) {
	out := map[string]string{
		AnnotationManager:    AnnotationManagerLibpod,
		AnnotationTTY:        strconv.FormatBool(o.Terminal),
		AnnotationInit:       podmanBool(o.Init),
		AnnotationPrivileged: podmanBool(o.Privileged),
	}
	maps.Copy(out, o.Annotations)
	if keepGroups {
		out[AnnotationKeepGroups] = "1"
	}
	sig, err := stopSignal(o)
	if err != nil {
		return nil, err
	}
	out[AnnotationStopSignal] = strconv.Itoa(sig)
	return out, nil
}

func podmanBool(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

// stopSignal is --stop-signal, else the image's STOPSIGNAL, else SIGTERM, as a number.
func stopSignal(o *Options) (int, error) {
	raw := o.StopSignal
	if raw == "" {
		raw = o.ImageConfig.StopSignal
	}
	if raw == "" {
		return 15, nil
	}
	sig, err := signal.ParseSignalNameOrNumber(raw)
	if err != nil {
		return 0, invalidArg(err)
	}
	return int(sig), nil
}
