// Package spec turns a container's options into its OCI runtime spec (config.json) with podman's secure
// defaults: capabilities, seccomp, masked and read-only paths, rlimits, mounts and namespaces.
//
// The reference is podman 4.3 (the e2e oracle on the build hosts) and, for the defaults that live in
// go.podman.io/common (capabilities, masked paths, seccomp profile, default env), the common version skiff
// links against. Where skiff deliberately differs, the comment at the spot says why.
package spec

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/skiffcontainers/skiff/libpod/define"
)

// Options are the inputs of one container's spec. The engine persists them with the container and fills in
// Rootfs, Mounts, CgroupsPath and Rootless at every start. Zero values mean podman's defaults.
type Options struct {
	Rootfs      string            // the mounted rootfs; users and groups are resolved in its /etc/passwd and /etc/group
	ImageConfig ociv1.ImageConfig // Entrypoint, Cmd, Env, User, WorkingDir, StopSignal from the image
	Command     []string          // COMMAND [ARG...]: replaces the image's Cmd when non-empty
	Entrypoint  *[]string         // --entrypoint: nil means the image's; an empty slice means none
	Env         []string          // -e and --env-file: KEY=VALUE, or KEY (or KEY*) taken from the host's environment
	EnvHost     bool              // --env-host
	WorkDir     string            // -w; must be absolute
	User        string            // -u user[:group], names or ids; empty means the image's USER
	GroupAdd    []string          // --group-add: names, ids or "keep-groups"
	Hostname    string            // the container's hostname; the engine passes the short ID by default
	Terminal    bool              // -t
	Stdin       bool              // -i: not part of the spec (the shim holds stdin); kept here for the engine

	Privileged      bool
	CapAdd, CapDrop []string // "ALL" supported; with or without the CAP_ prefix, any case
	NoNewPrivileges bool
	SeccompProfile  string   // "" is containers/common's default profile, "unconfined" none, else a JSON file
	Mask, Unmask    []string // --security-opt mask= / unmask= (paths, globs for unmask, "ALL")
	ReadOnly        bool     // --read-only
	ReadOnlyTmpfs   bool     // --read-only-tmpfs: podman's flag defaults to true; only used with ReadOnly
	Init            bool     // --init: catatonit as PID 1
	InitPath        string   // --init-path; "" finds catatonit on the host
	Ulimits         []string // --ulimit name=soft[:hard], or "host"
	ShmSize         int64    // bytes of /dev/shm; 0 means 64 MiB
	Tz              string   // --tz: "local" or an IANA zone name
	StopSignal      string   // --stop-signal; "" means the image's, then SIGTERM
	Umask           string   // --umask in octal; "" means 0022

	Namespaces  Namespaces
	IDMappings  *IDMappings       // --uidmap/--gidmap/--userns=keep-id: a new user namespace with these maps
	Mounts      []specs.Mount     // the engine's mounts (etc files, volumes); they replace defaults at the same path
	Annotations map[string]string // --annotation and the engine's own
	Labels      map[string]string // only io.containers.capabilities is read (it narrows the capabilities)
	CgroupsPath string            // "" for none
	Rootless    bool              // the engine runs in the rootless user namespace
	Sysctls     map[string]string // --sysctl

	// Defaults from containers.conf; nil means go.podman.io/common's built-in defaults.
	DefaultEnv          []string          // [containers] env
	DefaultCapabilities []string          // [containers] default_capabilities
	DefaultSysctls      map[string]string // [containers] default_sysctls (podman: net.ipv4.ping_group_range=0 0)
	DefaultUlimits      []string          // [containers] default_ulimits; --ulimit overrides per type
}

// Namespaces are the container's namespace modes: "" or "private" for a new one, "host" to share the
// host's, "ns:PATH" to join an existing one. Net also takes "none" (a new namespace with only lo); IPC
// takes "shareable" (private) and "none" (private, without /dev/shm). Cgroup "" is private on cgroup v2
// and host on v1, as in podman.
type Namespaces struct {
	Net, PID, IPC, UTS, Cgroup string
}

// IDMappings are the maps of a new user namespace, in the ids of the namespace skiff runs in.
type IDMappings struct {
	UIDMap, GIDMap []specs.LinuxIDMapping
}

// Annotations skiff writes, with podman's names so that tools reading config.json see the same thing.
const (
	AnnotationManager       = "io.container.manager"
	AnnotationManagerLibpod = "libpod" // podman-compatible: tools key on it to recognise podman-style containers
	AnnotationTTY           = "io.kubernetes.cri-o.TTY"
	AnnotationInit          = "io.podman.annotations.init"
	AnnotationPrivileged    = "io.podman.annotations.privileged"
	AnnotationStopSignal    = "org.opencontainers.image.stopSignal"
	AnnotationKeepGroups    = "run.oci.keep_original_groups" // crun: keep the caller's supplementary groups
)

// OCIVersion is the ociVersion written to config.json. It is podman 4's, not the runtime-spec module's
// 1.3.0: crun before 1.9 refuses any version that does not contain "1.0" ("unknown version specified"),
// and every field skiff writes was already in 1.0.2.
const OCIVersion = "1.0.2-dev"

// ContainerInitPath is where --init's binary is mounted in the container, as in podman.
const ContainerInitPath = "/run/podman-init"

// DefaultShmSize is the size of /dev/shm when Options.ShmSize is 0.
const DefaultShmSize = 64 << 20

// kindError keeps a message exactly as podman prints it while still matching a define.Err* kind and the
// underlying cause with errors.Is.
type kindError struct {
	err  error
	kind error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.err, e.kind} }

func invalidArg(err error) error { return &kindError{err: err, kind: define.ErrInvalidArg} }

func invalidArgf(format string, a ...any) error { return invalidArg(fmt.Errorf(format, a...)) }

// Generate returns the OCI runtime spec for o. It reads the rootfs's /etc/passwd and /etc/group and a few
// facts about the calling process (capability bounding set, rlimits, user namespace), never writes.
func Generate(o *Options) (*specs.Spec, error) {
	if o == nil {
		return nil, errors.New("spec: nil options")
	}
	return generate(o, probeHost(o.Rootless))
}

func generate(o *Options, h *hostInfo) (*specs.Spec, error) {
	if err := validate(o); err != nil {
		return nil, err
	}
	s := &specs.Spec{
		Version: OCIVersion,
		Root:    &specs.Root{Path: o.Rootfs, Readonly: o.ReadOnly},
		Process: &specs.Process{Terminal: o.Terminal},
		Linux:   &specs.Linux{CgroupsPath: o.CgroupsPath},
	}
	if o.IDMappings != nil {
		s.Linux.UIDMappings = o.IDMappings.UIDMap
		s.Linux.GIDMappings = o.IDMappings.GIDMap
	}

	u, err := resolveProcessUser(o, h)
	if err != nil {
		return nil, err
	}
	umask, err := parseUmask(o.Umask)
	if err != nil {
		return nil, err
	}
	s.Process.User = specs.User{UID: u.uid, GID: u.gid, AdditionalGids: u.additionalGids, Umask: &umask}

	if s.Process.Args, err = processArgs(o); err != nil {
		return nil, err
	}
	if s.Process.Cwd, err = workingDir(o); err != nil {
		return nil, err
	}
	hostname := containerHostname(o, h)
	if isPrivate(o.Namespaces.UTS) {
		s.Hostname = hostname
	}
	if s.Process.Env, err = processEnv(o, hostname, u.home); err != nil {
		return nil, err
	}
	if s.Process.Capabilities, err = processCapabilities(o, u.uid, h); err != nil {
		return nil, err
	}
	if s.Process.Rlimits, err = processRlimits(o, h); err != nil {
		return nil, err
	}
	s.Process.NoNewPrivileges = o.NoNewPrivileges

	if s.Mounts, err = mounts(o, h); err != nil {
		return nil, err
	}
	if s.Linux.Namespaces, err = namespaces(o, h); err != nil {
		return nil, err
	}
	if !inUserNS(o) && !o.Privileged {
		// Deny every device in the devices cgroup; the runtime allows its default devices on top.
		s.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}
	}
	if s.Linux.MaskedPaths, s.Linux.ReadonlyPaths, err = maskedPaths(o, h); err != nil {
		return nil, err
	}
	if s.Linux.Seccomp, err = seccompProfile(o, s); err != nil {
		return nil, err
	}
	if s.Linux.Sysctl, err = sysctls(o); err != nil {
		return nil, err
	}
	if s.Annotations, err = annotations(o, u.keepGroups); err != nil {
		return nil, err
	}
	return s, nil
}

func validate(o *Options) error {
	if o.ShmSize < 0 {
		return invalidArgf("invalid shm size %d: must be positive", o.ShmSize)
	}
	for _, ns := range []struct{ name, mode string }{
		{"network", o.Namespaces.Net}, {"pid", o.Namespaces.PID}, {"ipc", o.Namespaces.IPC},
		{"uts", o.Namespaces.UTS}, {"cgroup", o.Namespaces.Cgroup},
	} {
		switch ns.mode {
		case "", "private", "host":
			continue
		case "none":
			if ns.name == "network" || ns.name == "ipc" {
				continue
			}
		case "shareable":
			if ns.name == "ipc" {
				continue
			}
		}
		if p, ok := strings.CutPrefix(ns.mode, "ns:"); ok {
			if !filepath.IsAbs(p) {
				return invalidArgf("invalid %s namespace %q: the path must be absolute", ns.name, ns.mode)
			}
			continue
		}
		return invalidArgf("invalid %s namespace mode %q", ns.name, ns.mode)
	}
	return nil
}

// isPrivate reports whether a namespace mode asks for a new namespace.
func isPrivate(mode string) bool {
	switch mode {
	case "", "private", "none", "shareable":
		return true
	}
	return false
}

// inUserNS reports whether the container's processes run in a user namespace other than the initial one:
// either skiff itself is rootless or the container gets its own.
func inUserNS(o *Options) bool { return o.Rootless || o.IDMappings != nil }
