package libpod

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/skiffcontainers/skiff/pkg/spec"
)

// InspectContainerData is podman's container inspect document (the fields skiff knows; the names and
// nesting are podman's so that templates like {{.State.Status}} or {{.HostConfig.AutoRemove}} work).
type InspectContainerData struct {
	ID              string                 `json:"Id"`
	Created         time.Time              `json:"Created"`
	Path            string                 `json:"Path"`
	Args            []string               `json:"Args"`
	State           *InspectState          `json:"State"`
	Image           string                 `json:"Image"`
	ImageDigest     string                 `json:"ImageDigest"`
	ImageName       string                 `json:"ImageName"`
	Rootfs          string                 `json:"Rootfs"`
	Pod             string                 `json:"Pod"`
	ResolvConfPath  string                 `json:"ResolvConfPath"`
	HostnamePath    string                 `json:"HostnamePath"`
	HostsPath       string                 `json:"HostsPath"`
	StaticDir       string                 `json:"StaticDir"`
	OCIConfigPath   string                 `json:"OCIConfigPath,omitempty"`
	OCIRuntime      string                 `json:"OCIRuntime,omitempty"`
	ConmonPidFile   string                 `json:"ConmonPidFile"`
	PidFile         string                 `json:"PidFile"`
	Name            string                 `json:"Name"`
	RestartCount    int32                  `json:"RestartCount"`
	Driver          string                 `json:"Driver"`
	MountLabel      string                 `json:"MountLabel"`
	ProcessLabel    string                 `json:"ProcessLabel"`
	AppArmorProfile string                 `json:"AppArmorProfile"`
	EffectiveCaps   []string               `json:"EffectiveCaps"`
	BoundingCaps    []string               `json:"BoundingCaps"`
	ExecIDs         []string               `json:"ExecIDs"`
	GraphDriver     *InspectGraphDriver    `json:"GraphDriver"`
	Mounts          []InspectMount         `json:"Mounts"`
	Dependencies    []string               `json:"Dependencies"`
	NetworkSettings map[string]any         `json:"NetworkSettings"`
	Namespace       string                 `json:"Namespace"`
	IsInfra         bool                   `json:"IsInfra"`
	IsService       bool                   `json:"IsService"`
	Config          *InspectContainerConf  `json:"Config"`
	HostConfig      *InspectContainerHost  `json:"HostConfig"`
	SizeRw          *int64                 `json:"SizeRw,omitempty"`
	SizeRootFs      int64                  `json:"SizeRootFs,omitempty"`
	Extra           map[string]interface{} `json:"-"`
}

// InspectState is .State.
type InspectState struct {
	OciVersion     string             `json:"OciVersion"`
	Status         string             `json:"Status"`
	Running        bool               `json:"Running"`
	Paused         bool               `json:"Paused"`
	Restarting     bool               `json:"Restarting"`
	OOMKilled      bool               `json:"OOMKilled"`
	Dead           bool               `json:"Dead"`
	Pid            int                `json:"Pid"`
	ConmonPid      int                `json:"ConmonPid,omitempty"`
	ExitCode       int32              `json:"ExitCode"`
	Error          string             `json:"Error"`
	StartedAt      time.Time          `json:"StartedAt"`
	FinishedAt     time.Time          `json:"FinishedAt"`
	Health         HealthCheckResults `json:"Health"`
	CheckpointedAt time.Time          `json:"CheckpointedAt"`
	RestoredAt     time.Time          `json:"RestoredAt"`
}

// HealthCheckResults is .State.Health.
type HealthCheckResults struct {
	Status        string `json:"Status"`
	FailingStreak int    `json:"FailingStreak"`
	Log           []any  `json:"Log"`
}

// InspectGraphDriver is .GraphDriver.
type InspectGraphDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
}

// InspectMount is one entry of .Mounts.
type InspectMount struct {
	Type        string   `json:"Type"`
	Name        string   `json:"Name,omitempty"`
	Source      string   `json:"Source"`
	Destination string   `json:"Destination"`
	Driver      string   `json:"Driver"`
	Mode        string   `json:"Mode"`
	Options     []string `json:"Options"`
	RW          bool     `json:"RW"`
	Propagation string   `json:"Propagation"`
}

// InspectContainerConf is .Config.
type InspectContainerConf struct {
	Hostname      string              `json:"Hostname"`
	Domainname    string              `json:"Domainname"`
	User          string              `json:"User"`
	AttachStdin   bool                `json:"AttachStdin"`
	AttachStdout  bool                `json:"AttachStdout"`
	AttachStderr  bool                `json:"AttachStderr"`
	Tty           bool                `json:"Tty"`
	OpenStdin     bool                `json:"OpenStdin"`
	StdinOnce     bool                `json:"StdinOnce"`
	Env           []string            `json:"Env"`
	Cmd           []string            `json:"Cmd"`
	Image         string              `json:"Image"`
	Volumes       map[string]struct{} `json:"Volumes"`
	WorkingDir    string              `json:"WorkingDir"`
	Entrypoint    []string            `json:"Entrypoint"`
	OnBuild       *string             `json:"OnBuild"`
	Labels        map[string]string   `json:"Labels"`
	Annotations   map[string]string   `json:"Annotations"`
	StopSignal    uint                `json:"StopSignal"`
	CreateCommand []string            `json:"CreateCommand,omitempty"`
	Timezone      string              `json:"Timezone,omitempty"`
	Umask         string              `json:"Umask"`
	StopTimeout   uint                `json:"StopTimeout"`
	Timeout       uint                `json:"Timeout"`
}

// InspectContainerHost is .HostConfig.
type InspectContainerHost struct {
	Binds           []string          `json:"Binds"`
	CgroupManager   string            `json:"CgroupManager"`
	Devices         []any             `json:"Devices"`
	CgroupMode      string            `json:"CgroupMode"`
	ContainerIDFile string            `json:"ContainerIDFile"`
	LogConfig       *InspectLogConfig `json:"LogConfig"`
	NetworkMode     string            `json:"NetworkMode"`
	PortBindings    map[string]any    `json:"PortBindings"`
	RestartPolicy   *RestartPolicy    `json:"RestartPolicy"`
	AutoRemove      bool              `json:"AutoRemove"`
	VolumeDriver    string            `json:"VolumeDriver"`
	VolumesFrom     []string          `json:"VolumesFrom"`
	CapAdd          []string          `json:"CapAdd"`
	CapDrop         []string          `json:"CapDrop"`
	Dns             []string          `json:"Dns"`
	DnsOptions      []string          `json:"DnsOptions"`
	DnsSearch       []string          `json:"DnsSearch"`
	ExtraHosts      []string          `json:"ExtraHosts"`
	GroupAdd        []string          `json:"GroupAdd"`
	IpcMode         string            `json:"IpcMode"`
	Cgroup          string            `json:"Cgroup"`
	Cgroups         string            `json:"Cgroups"`
	Links           []string          `json:"Links"`
	OomScoreAdj     int               `json:"OomScoreAdj"`
	PidMode         string            `json:"PidMode"`
	Privileged      bool              `json:"Privileged"`
	PublishAllPorts bool              `json:"PublishAllPorts"`
	ReadonlyRootfs  bool              `json:"ReadonlyRootfs"`
	SecurityOpt     []string          `json:"SecurityOpt"`
	Tmpfs           map[string]string `json:"Tmpfs"`
	UTSMode         string            `json:"UTSMode"`
	UsernsMode      string            `json:"UsernsMode"`
	ShmSize         int64             `json:"ShmSize"`
	Runtime         string            `json:"Runtime"`
	Ulimits         []InspectUlimit   `json:"Ulimits"`
	Init            bool              `json:"Init,omitempty"`
}

// InspectLogConfig is .HostConfig.LogConfig.
type InspectLogConfig struct {
	Type   string            `json:"Type"`
	Config map[string]string `json:"Config"`
	Path   string            `json:"Path"`
	Tag    string            `json:"Tag"`
	Size   string            `json:"Size"`
}

// RestartPolicy is .HostConfig.RestartPolicy.
type RestartPolicy struct {
	Name              string `json:"Name"`
	MaximumRetryCount uint   `json:"MaximumRetryCount"`
}

// InspectUlimit is one --ulimit.
type InspectUlimit struct {
	Name string `json:"Name"`
	Soft int64  `json:"Soft"`
	Hard int64  `json:"Hard"`
}

// Inspect builds the container's inspect document.
func (c *Container) Inspect(withSize bool) (*InspectContainerData, error) {
	cmd := c.Command()
	d := &InspectContainerData{
		ID:            c.Config.ID,
		Created:       c.Config.Created,
		Image:         c.Config.ImageID,
		ImageName:     c.Config.ImageName,
		Name:          c.Config.Name,
		Rootfs:        "",
		Driver:        c.rt.Store.GraphDriverName(),
		OCIRuntime:    c.Config.OCIRuntime,
		RestartCount:  int32(c.State.RestartCount),
		EffectiveCaps: []string{},
		BoundingCaps:  []string{},
		ExecIDs:       []string{},
		Mounts:        []InspectMount{},
		Dependencies:  []string{},
		NetworkSettings: map[string]any{
			"EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
			"GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": "", "Bridge": "", "SandboxID": "",
			"HairpinMode": false, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0, "Ports": map[string]any{},
			"SandboxKey": "",
		},
	}
	if len(cmd) > 0 {
		d.Path = cmd[0]
		d.Args = cmd[1:]
	}
	if d.Args == nil {
		d.Args = []string{}
	}
	runDir := c.RunDir()
	if c.State.Status == StatusRunning || c.State.Status == StatusPaused || c.State.Status == StatusCreated && c.State.Pid > 0 {
		d.ResolvConfPath = filepath.Join(runDir, "resolv.conf")
		d.HostnamePath = filepath.Join(runDir, "hostname")
		d.HostsPath = filepath.Join(runDir, "hosts")
		d.OCIConfigPath = filepath.Join(runDir, "config.json")
		d.PidFile = filepath.Join(runDir, "pidfile")
		d.ConmonPidFile = filepath.Join(runDir, "shim.pid")
		if c.Config.ShimPidFile != "" {
			d.ConmonPidFile = c.Config.ShimPidFile
		}
	}
	d.StaticDir, _ = c.rt.Store.ContainerDirectory(c.Config.ID)
	if img, err := c.rt.Store.Image(c.Config.ImageID); err == nil {
		d.ImageDigest = string(img.Digest)
	}
	st := &InspectState{
		OciVersion: specs.Version,
		Status:     c.State.Status,
		Running:    c.State.Status == StatusRunning,
		Paused:     c.State.Status == StatusPaused,
		OOMKilled:  c.State.OOMKilled,
		Pid:        c.State.Pid,
		ConmonPid:  c.State.ShimPid,
		ExitCode:   int32(c.State.ExitCode),
		Error:      c.State.Error,
		StartedAt:  c.State.StartedAt,
		FinishedAt: c.State.FinishedAt,
	}
	d.State = st
	if c.State.Mountpoint != "" {
		d.Rootfs = ""
		d.GraphDriver = &InspectGraphDriver{Name: d.Driver, Data: map[string]string{"MergedDir": c.State.Mountpoint}}
	} else {
		d.GraphDriver = &InspectGraphDriver{Name: d.Driver, Data: map[string]string{}}
	}
	if cfg, err := c.ociSpec(); err == nil && cfg.Process != nil && cfg.Process.Capabilities != nil {
		d.EffectiveCaps = cfg.Process.Capabilities.Effective
		d.BoundingCaps = cfg.Process.Capabilities.Bounding
	} else {
		d.BoundingCaps = c.expectedCaps()
		d.EffectiveCaps = d.BoundingCaps
	}
	s := c.Config.Spec
	env := s.ImageConfig.Env
	if cfg, err := c.ociSpec(); err == nil && cfg.Process != nil {
		env = cfg.Process.Env
	} else {
		env = append(append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, env...), s.Env...)
	}
	entry := s.ImageConfig.Entrypoint
	if s.Entrypoint != nil {
		entry = *s.Entrypoint
	}
	cmdArgs := s.Command
	if len(cmdArgs) == 0 && (s.Entrypoint == nil || len(*s.Entrypoint) == 0) {
		cmdArgs = s.ImageConfig.Cmd
	}
	workdir := s.WorkDir
	if workdir == "" {
		workdir = s.ImageConfig.WorkingDir
	}
	if workdir == "" {
		workdir = "/"
	}
	user := s.User
	if user == "" {
		user = s.ImageConfig.User
	}
	hostname := s.Hostname
	if hostname == "" {
		hostname = c.hostname()
	}
	d.Config = &InspectContainerConf{
		Hostname:      hostname,
		User:          user,
		AttachStdin:   s.Stdin,
		AttachStdout:  true,
		AttachStderr:  true,
		Tty:           s.Terminal,
		OpenStdin:     s.Stdin,
		Env:           env,
		Cmd:           cmdArgs,
		Image:         c.Config.ImageName,
		WorkingDir:    workdir,
		Entrypoint:    entry,
		Labels:        c.Config.Labels,
		Annotations:   c.Config.Annotations,
		StopSignal:    signalNumber(c.Config.StopSignal),
		CreateCommand: c.Config.CreateCommand,
		Timezone:      s.Tz,
		Umask:         "0022",
		StopTimeout:   c.Config.StopTimeout,
	}
	if d.Config.Labels == nil {
		d.Config.Labels = map[string]string{}
	}
	if d.Config.Annotations == nil {
		d.Config.Annotations = map[string]string{}
	}
	logSize := ""
	if c.Config.LogMaxSize > 0 {
		logSize = units.HumanSize(float64(c.Config.LogMaxSize))
	}
	d.HostConfig = &InspectContainerHost{
		Binds:           []string{},
		CgroupMode:      "host",
		ContainerIDFile: c.Config.CidFile,
		LogConfig:       &InspectLogConfig{Type: c.Config.LogDriver, Config: nil, Path: c.Config.LogPath, Size: logSize},
		NetworkMode:     networkModeName(c.Config.NetworkMode),
		PortBindings:    map[string]any{},
		RestartPolicy:   &RestartPolicy{Name: "", MaximumRetryCount: 0},
		AutoRemove:      c.Config.Remove,
		VolumesFrom:     []string{},
		CgroupManager:   "cgroupfs",
		Devices:         []any{},
		Dns:             []string{},
		DnsOptions:      []string{},
		DnsSearch:       []string{},
		ExtraHosts:      []string{},
		GroupAdd:        nonNil(s.GroupAdd),
		IpcMode:         s.Namespaces.IPC,
		Cgroups:         "default",
		Links:           []string{},
		PidMode:         s.Namespaces.PID,
		Privileged:      s.Privileged,
		ReadonlyRootfs:  s.ReadOnly,
		SecurityOpt:     []string{},
		Tmpfs:           map[string]string{},
		UTSMode:         s.Namespaces.UTS,
		UsernsMode:      "",
		ShmSize:         s.ShmSize,
		Runtime:         "oci",
		Ulimits:         []InspectUlimit{},
		Init:            s.Init,
	}
	d.HostConfig.CapAdd, d.HostConfig.CapDrop = capDelta(d.BoundingCaps)
	if d.HostConfig.ShmSize == 0 {
		d.HostConfig.ShmSize = 65536000
	}
	if withSize {
		if rw, err := c.rt.Store.ContainerSize(c.Config.ID); err == nil {
			d.SizeRw = &rw
			if img, err := c.rt.Store.ImageSize(c.Config.ImageID); err == nil {
				d.SizeRootFs = img + rw
			}
		}
	}
	return d, nil
}

// ociSpec reads the spec written at the last start.
func (c *Container) ociSpec() (*specs.Spec, error) {
	data, err := os.ReadFile(filepath.Join(c.RunDir(), "config.json"))
	if err != nil {
		return nil, err
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func networkModeName(mode string) string {
	switch mode {
	case "", "private", "none":
		return "none"
	}
	return mode
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

var signalNumbers = map[string]uint{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8, "KILL": 9, "USR1": 10,
	"SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16, "CHLD": 17, "CONT": 18,
	"STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26,
	"PROF": 27, "WINCH": 28, "IO": 29, "PWR": 30, "SYS": 31,
}

func signalNumber(s string) uint {
	return signalNumbers[strings.TrimPrefix(strings.ToUpper(s), "SIG")]
}

// dockerDefaultCaps is Docker's default capability set, which podman's inspect reports CapAdd and CapDrop
// against (so a default podman container "drops" AUDIT_WRITE, MKNOD and NET_RAW).
var dockerDefaultCaps = []string{
	"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_MKNOD",
	"CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
}

func capDelta(bounding []string) (add, drop []string) {
	have := map[string]bool{}
	for _, c := range bounding {
		have[c] = true
	}
	def := map[string]bool{}
	add, drop = []string{}, []string{}
	for _, c := range dockerDefaultCaps {
		def[c] = true
		if !have[c] {
			drop = append(drop, c)
		}
	}
	for _, c := range bounding {
		if !def[c] {
			add = append(add, c)
		}
	}
	sort.Strings(add)
	return add, drop
}

// expectedCaps is the bounding set a container that has not started yet will get: containers.conf's
// defaults with --cap-add and --cap-drop applied (privileged: the caller's whole set).
func (c *Container) expectedCaps() []string {
	s := c.Config.Spec
	if s.Privileged {
		return spec.BoundingCapabilities()
	}
	set := map[string]bool{}
	norm := func(n string) string {
		n = strings.ToUpper(n)
		if !strings.HasPrefix(n, "CAP_") {
			n = "CAP_" + n
		}
		return n
	}
	for _, cp := range c.rt.Config.Containers.DefaultCapabilities.Get() {
		set[norm(cp)] = true
	}
	for _, cp := range s.CapDrop {
		if strings.EqualFold(cp, "all") {
			set = map[string]bool{}
			continue
		}
		delete(set, norm(cp))
	}
	for _, cp := range s.CapAdd {
		if strings.EqualFold(cp, "all") {
			for _, b := range spec.BoundingCapabilities() {
				set[b] = true
			}
			continue
		}
		set[norm(cp)] = true
	}
	out := make([]string, 0, len(set))
	for cp := range set {
		out = append(out, cp)
	}
	sort.Strings(out)
	return out
}
