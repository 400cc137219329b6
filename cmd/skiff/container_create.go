package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/docker/go-units"
	"github.com/skiffcontainers/skiff/libpod"
	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/pkg/env"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// createFlags are the flags create and run share, podman's spelling.
type createFlags struct {
	pull          pullFlags
	pullPolicy    string
	name          string
	interactive   bool
	tty           bool
	rm            bool
	env           []string
	envFile       []string
	envHost       bool
	entrypoint    string
	workdir       string
	user          string
	groupAdd      []string
	hostname      string
	labels        []string
	labelFile     []string
	annotations   []string
	cidfile       string
	privileged    bool
	capAdd        []string
	capDrop       []string
	securityOpt   []string
	readOnly      bool
	readOnlyTmpfs bool
	init          bool
	initPath      string
	stopSignal    string
	stopTimeout   uint
	tz            string
	ulimits       []string
	userns        string
	uidmap        []string
	gidmap        []string
	replace       bool
	logDriver     string
	logOpts       []string
	network       string
	pid           string
	ipc           string
	uts           string
	shmSize       string
	sysctls       []string
	conmonPidfile string
	runtime       string
	quiet         bool
}

func (f *createFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.name, "name", "", "Assign a name to the container")
	fl.BoolVarP(&f.interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	fl.BoolVarP(&f.tty, "tty", "t", false, "Allocate a pseudo-TTY for container")
	fl.BoolVar(&f.rm, "rm", false, "Remove container (and pod if created) after exit")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "Set environment variables in container")
	fl.StringArrayVar(&f.envFile, "env-file", nil, "Read in a file of environment variables")
	fl.BoolVar(&f.envHost, "env-host", false, "Use all current host environment variables in container")
	fl.StringVar(&f.entrypoint, "entrypoint", "", "Overwrite the default ENTRYPOINT of the image")
	fl.StringVarP(&f.workdir, "workdir", "w", "", "Working directory inside the container")
	fl.StringVarP(&f.user, "user", "u", "", "Username or UID (format: <name|uid>[:<group|gid>])")
	fl.StringArrayVar(&f.groupAdd, "group-add", nil, "Add additional groups to the primary container process")
	fl.StringVarP(&f.hostname, "hostname", "h", "", "Set container hostname")
	fl.Bool("help", false, "Help for this command") // -h is --hostname here, as in podman
	fl.StringArrayVarP(&f.labels, "label", "l", nil, "Set metadata on container")
	fl.StringArrayVar(&f.labelFile, "label-file", nil, "Read in a line delimited file of labels")
	fl.StringArrayVar(&f.annotations, "annotation", nil, "Add annotations to container (key=value)")
	fl.StringVar(&f.cidfile, "cidfile", "", "Write the container ID to the file")
	fl.StringVar(&f.pullPolicy, "pull", "missing", "Pull image policy (\"always\"|\"missing\"|\"never\"|\"newer\")")
	fl.BoolVar(&f.privileged, "privileged", false, "Give extended privileges to container")
	fl.StringArrayVar(&f.capAdd, "cap-add", nil, "Add capabilities to the container")
	fl.StringArrayVar(&f.capDrop, "cap-drop", nil, "Drop capabilities from the container")
	fl.StringArrayVar(&f.securityOpt, "security-opt", nil, "Security Options")
	fl.BoolVar(&f.readOnly, "read-only", false, "Make containers root filesystem read-only")
	fl.BoolVar(&f.readOnlyTmpfs, "read-only-tmpfs", true, "When running containers in read-only mode mount a read-write tmpfs on /run, /tmp and /var/tmp")
	fl.BoolVar(&f.init, "init", false, "Run an init binary inside the container that forwards signals and reaps processes")
	fl.StringVar(&f.initPath, "init-path", "", "Path to the container-init binary")
	fl.StringVar(&f.stopSignal, "stop-signal", "", "Signal to stop a container. Default is SIGTERM")
	fl.UintVar(&f.stopTimeout, "stop-timeout", 10, "Timeout (in seconds) that containers stopped by user command have to exit. If exceeded, the container will be forcibly stopped via SIGKILL")
	fl.StringVar(&f.tz, "tz", "", "Set timezone in container")
	fl.StringArrayVar(&f.ulimits, "ulimit", nil, "Ulimit options")
	fl.StringVar(&f.userns, "userns", "", "User namespace to use")
	fl.StringArrayVar(&f.uidmap, "uidmap", nil, "UID map to use for the user namespace")
	fl.StringArrayVar(&f.gidmap, "gidmap", nil, "GID map to use for the user namespace")
	fl.BoolVar(&f.replace, "replace", false, "If a container with the same name exists, replace it")
	fl.StringVar(&f.logDriver, "log-driver", "", "Logging driver for the container")
	fl.StringArrayVar(&f.logOpts, "log-opt", nil, "Logging driver options")
	fl.StringVar(&f.network, "network", "", "Connect a container to a network")
	fl.StringVar(&f.network, "net", "", "Connect a container to a network")
	_ = fl.MarkHidden("net")
	fl.StringVar(&f.pid, "pid", "", "PID namespace to use")
	fl.StringVar(&f.ipc, "ipc", "", "IPC namespace to use")
	fl.StringVar(&f.uts, "uts", "", "UTS namespace to use")
	fl.StringVar(&f.shmSize, "shm-size", "64m", "Size of /dev/shm (format: <number>[<unit>], where unit = b (bytes), k (kibibytes), m (mebibytes), or g (gibibytes))")
	fl.StringArrayVar(&f.sysctls, "sysctl", nil, "Sysctl options")
	fl.StringVar(&f.conmonPidfile, "conmon-pidfile", "", "Path to the file that will receive the PID of the shim (podman's conmon)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "Suppress output information when pulling images")
	fl.StringVar(&f.pull.platform, "platform", "", "Specify the platform for selecting the image")
	fl.StringVar(&f.pull.arch, "arch", "", "use ARCH instead of the architecture of the machine for choosing images")
	fl.StringVar(&f.pull.os, "os", "", "use OS instead of the running OS for choosing images")
	fl.StringVar(&f.pull.variant, "variant", "", "Use VARIANT instead of the running architecture variant for choosing images")
	fl.BoolVar(&f.pull.tlsVerify, "tls-verify", true, "Require HTTPS and verify certificates when contacting registries")
	fl.StringVar(&f.pull.authfile, "authfile", "", "Path of the authentication file")
	fl.StringVar(&f.pull.certDir, "cert-dir", "", "Path to a directory containing TLS certificates and keys")
	fl.StringVar(&f.pull.creds, "creds", "", "Credentials (USERNAME:PASSWORD) to use for authenticating to a registry")
}

// options turns the flags and IMAGE [COMMAND [ARG...]] into the engine's create options.
func (f *createFlags) options(cmd *cobra.Command, args []string) (libpod.CreateOptions, error) {
	o := libpod.CreateOptions{
		Name:          f.name,
		Image:         args[0],
		Pull:          f.pullPolicy,
		Remove:        f.rm,
		LogDriver:     f.logDriver,
		CidFile:       f.cidfile,
		ShimPidFile:   f.conmonPidfile,
		Replace:       f.replace,
		StopSignal:    f.stopSignal,
		Network:       f.network,
		CreateCommand: os.Args,
	}
	if f.replace && f.name == "" {
		return o, fmt.Errorf("cannot replace container without --name being set: %w", define.ErrInvalidArg)
	}
	if cmd.Flags().Changed("stop-timeout") {
		t := f.stopTimeout
		o.StopTimeout = &t
	}
	po, err := f.pull.options(cmd)
	if err != nil {
		return o, err
	}
	po.Progress = nil
	o.PullOptions = po
	if !f.quiet {
		o.PullProgress = os.Stderr
	}
	s := &o.Spec
	s.Command = args[1:]
	if cmd.Flags().Changed("entrypoint") {
		ep := parseEntrypoint(f.entrypoint)
		s.Entrypoint = &ep
	}
	if s.Env, err = env.FromFlags(f.env, f.envFile); err != nil {
		return o, fmt.Errorf("%w: %w", err, define.ErrInvalidArg)
	}
	s.EnvHost = f.envHost
	s.WorkDir = f.workdir
	s.User = f.user
	s.GroupAdd = f.groupAdd
	s.Hostname = f.hostname
	s.Terminal = f.tty
	s.Stdin = f.interactive
	s.Privileged = f.privileged
	s.CapAdd = f.capAdd
	s.CapDrop = f.capDrop
	s.ReadOnly = f.readOnly
	s.ReadOnlyTmpfs = f.readOnly && f.readOnlyTmpfs
	s.Init = f.init
	s.InitPath = f.initPath
	s.Ulimits = f.ulimits
	s.Tz = f.tz
	s.StopSignal = f.stopSignal
	if err := f.securityOptions(s); err != nil {
		return o, err
	}
	if f.shmSize != "" {
		n, err := units.RAMInBytes(f.shmSize)
		if err != nil || n <= 0 {
			return o, fmt.Errorf("invalid --shm-size %q: %w", f.shmSize, define.ErrInvalidArg)
		}
		s.ShmSize = n
	}
	if s.Sysctls, err = keyValues(f.sysctls, "sysctl"); err != nil {
		return o, err
	}
	if o.Labels, err = labels(f.labels, f.labelFile); err != nil {
		return o, err
	}
	if o.Annotations, err = keyValues(f.annotations, "annotation"); err != nil {
		return o, err
	}
	for _, opt := range f.logOpts {
		k, v, _ := strings.Cut(opt, "=")
		switch k {
		case "max-size":
			n, err := units.FromHumanSize(v)
			if err != nil {
				return o, fmt.Errorf("invalid --log-opt max-size %q: %w", v, define.ErrInvalidArg)
			}
			o.LogMaxSize = n
		case "path":
			o.LogPath = v
		case "tag", "max-file":
		default:
			return o, fmt.Errorf("unknown --log-opt %q: supported are path, max-size, tag: %w", opt, define.ErrInvalidArg)
		}
	}
	for flag, val := range map[string]string{"pid": f.pid, "ipc": f.ipc, "uts": f.uts} {
		if err := checkNamespaceMode(flag, val); err != nil {
			return o, err
		}
	}
	s.Namespaces.PID, s.Namespaces.IPC, s.Namespaces.UTS = nsMode(f.pid), nsMode(f.ipc), nsMode(f.uts)
	switch f.network {
	case "", "none", "host", "private":
	default:
		if !strings.HasPrefix(f.network, "ns:") {
			return o, fmt.Errorf("network mode %q is not supported yet: use none, host, private or ns:PATH: %w", f.network, define.ErrInvalidArg)
		}
	}
	if err := f.userNamespace(s); err != nil {
		return o, err
	}
	return o, nil
}

// parseEntrypoint accepts a JSON array or a plain string, as podman does; "" means no entrypoint.
func parseEntrypoint(v string) []string {
	var arr []string
	if err := json.Unmarshal([]byte(v), &arr); err == nil {
		return arr
	}
	if v == "" {
		return []string{}
	}
	return []string{v}
}

func (f *createFlags) securityOptions(s *libpod.SpecOptions) error {
	for _, opt := range f.securityOpt {
		k, v, hasValue := strings.Cut(opt, "=")
		if !hasValue {
			k, v, hasValue = strings.Cut(opt, ":")
		}
		switch {
		case k == "no-new-privileges" && (!hasValue || v == "true"):
			s.NoNewPrivileges = true
		case k == "no-new-privileges" && v == "false":
		case k == "seccomp":
			s.SeccompProfile = v
		case k == "label" && (v == "disable" || strings.HasPrefix(v, "type:") || strings.HasPrefix(v, "level:") || v == "nested"):
			// No SELinux on this platform; accepted for compatibility.
		case k == "mask":
			s.Mask = append(s.Mask, strings.Split(v, ":")...)
		case k == "unmask":
			s.Unmask = append(s.Unmask, strings.Split(v, ":")...)
		case k == "apparmor":
		default:
			return fmt.Errorf("invalid --security-opt %q: %w", opt, define.ErrInvalidArg)
		}
	}
	return nil
}

func (f *createFlags) userNamespace(s *libpod.SpecOptions) error {
	switch {
	case f.userns == "" || f.userns == "host":
		if len(f.uidmap) > 0 || len(f.gidmap) > 0 {
			m, err := libpod.ParseIDMaps(f.uidmap, f.gidmap)
			if err != nil {
				return err
			}
			s.IDMappings = m
		}
		return nil
	case f.userns == "keep-id" || strings.HasPrefix(f.userns, "keep-id:"):
		m, user, err := libpod.KeepIDMappings()
		if err != nil {
			return err
		}
		s.IDMappings = m
		if s.User == "" {
			s.User = user
		}
		return nil
	case f.userns == "nomap":
		// The maps are computed (libpod.NoMapMappings) but the root filesystem would have to be chowned into
		// them by containers/storage's ID-mapped layers, which skiff does not set up yet.
		return fmt.Errorf("--userns=nomap is not supported yet by skiff (use keep-id or host): %w", define.ErrInvalidArg)
	}
	return fmt.Errorf("unsupported --userns %q: use host, keep-id or nomap: %w", f.userns, define.ErrInvalidArg)
}

func checkNamespaceMode(flag, v string) error {
	switch {
	case v == "" || v == "host" || v == "private" || strings.HasPrefix(v, "ns:"):
		return nil
	case flag == "ipc" && (v == "shareable" || v == "none"):
		return nil
	}
	return fmt.Errorf("invalid --%s %q: use host, private or ns:PATH: %w", flag, v, define.ErrInvalidArg)
}

func nsMode(v string) string {
	if v == "" {
		return "private"
	}
	return v
}

func keyValues(values []string, what string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, v := range values {
		k, val, _ := strings.Cut(v, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid %s %q: want KEY=VALUE: %w", what, v, define.ErrInvalidArg)
		}
		out[k] = val
	}
	return out, nil
}

func labels(values, files []string) (map[string]string, error) {
	var all []string
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("label file: %w", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line != "" && !strings.HasPrefix(line, "#") {
				all = append(all, line)
			}
		}
	}
	return keyValues(append(all, values...), "label")
}
