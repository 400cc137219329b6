package libpod

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/skiffcontainers/skiff/rootless"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"golang.org/x/sys/unix"
)

// Info is `skiff info`: podman's document, with podman's JSON keys, so that --format templates written for
// podman ({{.Host.OCIRuntime.Name}}, {{.Store.GraphRoot}}) work unchanged.
type Info struct {
	Host       HostInfo       `json:"host"`
	Store      StoreInfo      `json:"store"`
	Registries map[string]any `json:"registries"`
	Plugins    Plugins        `json:"plugins"`
	Version    VersionInfo    `json:"version"`
}

// HostInfo describes the machine and the helpers skiff uses.
type HostInfo struct {
	Arch              string          `json:"arch"`
	CgroupManager     string          `json:"cgroupManager"`
	CgroupVersion     string          `json:"cgroupVersion"`
	CgroupControllers []string        `json:"cgroupControllers"`
	Conmon            ComponentInfo   `json:"conmon"`
	CPUs              int             `json:"cpus"`
	Distribution      Distribution    `json:"distribution"`
	EventLogger       string          `json:"eventLogger"`
	Hostname          string          `json:"hostname"`
	IDMappings        IDMappings      `json:"idMappings"`
	Kernel            string          `json:"kernel"`
	LogDriver         string          `json:"logDriver"`
	MemFree           int64           `json:"memFree"`
	MemTotal          int64           `json:"memTotal"`
	NetworkBackend    string          `json:"networkBackend"`
	OCIRuntime        ComponentInfo   `json:"ociRuntime"`
	OS                string          `json:"os"`
	RemoteSocket      RemoteSocket    `json:"remoteSocket"`
	ServiceIsRemote   bool            `json:"serviceIsRemote"`
	Security          SecurityInfo    `json:"security"`
	Slirp4NetNS       SlirpInfo       `json:"slirp4netns"`
	Pasta             ComponentInfo   `json:"pasta"`
	SwapFree          int64           `json:"swapFree"`
	SwapTotal         int64           `json:"swapTotal"`
	Uptime            string          `json:"uptime"`
	Linkmode          string          `json:"linkmode"`
	RuntimeDir        string          `json:"runtimeDir"`
	PauseProcess      map[string]bool `json:"pauseProcess,omitempty"`
}

// ComponentInfo names a helper binary.
type ComponentInfo struct {
	Name    string `json:"name,omitempty"`
	Package string `json:"package"`
	Path    string `json:"path"`
	Version string `json:"version"`
}

// SlirpInfo is podman's slirp4netns entry.
type SlirpInfo struct {
	Executable string `json:"executable"`
	Package    string `json:"package"`
	Version    string `json:"version"`
}

// Distribution is read from /etc/os-release.
type Distribution struct {
	Distribution string `json:"distribution"`
	Version      string `json:"version"`
	Codename     string `json:"codename,omitempty"`
}

// IDMappings are the rootless user namespace's maps.
type IDMappings struct {
	GIDMap []IDMap `json:"gidmap"`
	UIDMap []IDMap `json:"uidmap"`
}

// IDMap is one line of uid_map or gid_map.
type IDMap struct {
	ContainerID int `json:"container_id"`
	HostID      int `json:"host_id"`
	Size        int `json:"size"`
}

// RemoteSocket is always absent: skiff has no service.
type RemoteSocket struct {
	Path   string `json:"path"`
	Exists bool   `json:"exists,omitempty"`
}

// SecurityInfo is podman's security entry.
type SecurityInfo struct {
	AppArmorEnabled     bool   `json:"apparmorEnabled"`
	DefaultCapabilities string `json:"capabilities"`
	Rootless            bool   `json:"rootless"`
	SECCOMPEnabled      bool   `json:"seccompEnabled"`
	SECCOMPProfilePath  string `json:"seccompProfilePath"`
	SELinuxEnabled      bool   `json:"selinuxEnabled"`
}

// StoreInfo describes containers/storage.
type StoreInfo struct {
	ConfigFile         string            `json:"configFile"`
	ContainerStore     ContainerStore    `json:"containerStore"`
	GraphDriverName    string            `json:"graphDriverName"`
	GraphOptions       map[string]any    `json:"graphOptions"`
	GraphRoot          string            `json:"graphRoot"`
	GraphRootAllocated uint64            `json:"graphRootAllocated"`
	GraphRootUsed      uint64            `json:"graphRootUsed"`
	GraphStatus        map[string]string `json:"graphStatus"`
	ImageCopyTmpDir    string            `json:"imageCopyTmpDir"`
	ImageStore         ImageStore        `json:"imageStore"`
	RunRoot            string            `json:"runRoot"`
	VolumePath         string            `json:"volumePath"`
}

// ContainerStore counts containers by state.
type ContainerStore struct {
	Number  int `json:"number"`
	Paused  int `json:"paused"`
	Running int `json:"running"`
	Stopped int `json:"stopped"`
}

// ImageStore counts images.
type ImageStore struct {
	Number int `json:"number"`
}

// Plugins lists the drivers skiff offers.
type Plugins struct {
	Volume        []string `json:"volume"`
	Network       []string `json:"network"`
	Log           []string `json:"log"`
	Authorization []string `json:"authorization"`
}

// VersionInfo is the version block of `skiff version` and `skiff info`.
type VersionInfo struct {
	APIVersion string
	Version    string
	GoVersion  string
	GitCommit  string
	BuiltTime  string
	Built      int64
	OsArch     string
	Os         string
}

// NewVersionInfo describes this build; it needs no runtime, so `skiff version` stays cheap.
func NewVersionInfo(version, gitCommit string, built int64) VersionInfo {
	bt := time.Unix(built, 0).Format(time.ANSIC)
	return VersionInfo{
		APIVersion: version, Version: version, GoVersion: runtime.Version(), GitCommit: gitCommit,
		BuiltTime: bt, Built: built, OsArch: runtime.GOOS + "/" + runtime.GOARCH, Os: runtime.GOOS,
	}
}

// Info gathers the host, store and registry facts.
func (r *Runtime) Info(v VersionInfo) (*Info, error) {
	info := &Info{Version: v}
	r.hostInfo(&info.Host)
	if err := r.storeInfo(&info.Store); err != nil {
		return nil, err
	}
	info.Registries = registriesInfo()
	info.Plugins = Plugins{Volume: []string{"local"}, Network: []string{"bridge"}, Log: []string{"k8s-file", "none", "passthrough"}}
	return info, nil
}

func (r *Runtime) hostInfo(h *HostInfo) {
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	h.Arch = runtime.GOARCH
	h.OS = runtime.GOOS
	h.Kernel = unix.ByteSliceToString(uts.Release[:])
	h.Hostname, _ = os.Hostname()
	h.CPUs = runtime.NumCPU()
	h.CgroupManager = r.Config.Engine.CgroupManager
	if rootless.IsRootless() || h.CgroupManager == "" {
		h.CgroupManager = "cgroupfs"
	}
	h.CgroupVersion, h.CgroupControllers = cgroupInfo()
	h.EventLogger = r.Config.Engine.EventsLogger
	h.LogDriver = r.Config.Containers.LogDriver
	if h.LogDriver == "" || h.LogDriver == "journald" {
		h.LogDriver = "k8s-file"
	}
	h.NetworkBackend = "skiff"
	h.Distribution = readOSRelease()
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		unit := int64(si.Unit)
		h.MemTotal, h.MemFree = int64(si.Totalram)*unit, int64(si.Freeram)*unit
		h.SwapTotal, h.SwapFree = int64(si.Totalswap)*unit, int64(si.Freeswap)*unit
		h.Uptime = (time.Duration(si.Uptime) * time.Second).String()
	}
	h.Linkmode = "dynamic"
	h.Security = SecurityInfo{
		Rootless:            rootless.IsRootless(),
		SECCOMPEnabled:      true,
		SECCOMPProfilePath:  r.Config.Containers.SeccompProfile,
		DefaultCapabilities: strings.Join(r.Config.Containers.DefaultCapabilities.Get(), ","),
	}
	h.OCIRuntime = r.ociRuntimeInfo()
	if exe, err := os.Executable(); err == nil {
		shim := filepath.Join(filepath.Dir(exe), "skiff-shim")
		h.Conmon = ComponentInfo{Path: shim, Version: "skiff-shim " + r.Version()}
	}
	if p, err := exec.LookPath("slirp4netns"); err == nil {
		h.Slirp4NetNS = SlirpInfo{Executable: p, Version: firstLine(p, "--version")}
	}
	if p, err := exec.LookPath("pasta"); err == nil {
		h.Pasta = ComponentInfo{Path: p, Version: firstLine(p, "--version")}
	}
	h.RuntimeDir, _ = rootless.RuntimeDir()
	if rootless.IsRootless() {
		h.IDMappings = IDMappings{UIDMap: readIDMap("/proc/self/uid_map"), GIDMap: readIDMap("/proc/self/gid_map")}
	}
}

// Version is the skiff version the runtime reports to helpers.
func (r *Runtime) Version() string { return skiffVersion }

// skiffVersion is set by the CLI at start-up.
var skiffVersion = "unknown"

// SetVersion records the CLI's version for the engine's reports.
func SetVersion(v string) { skiffVersion = v }

// ociRuntimeInfo finds the configured OCI runtime the way podman does: a path, or a name looked up in
// containers.conf's runtime table and then in $PATH.
func (r *Runtime) ociRuntimeInfo() ComponentInfo {
	name := r.Config.Engine.OCIRuntime
	if name == "" {
		name = "crun"
	}
	path := ""
	if strings.Contains(name, "/") {
		path = name
		name = filepath.Base(name)
	} else {
		for _, p := range r.Config.Engine.OCIRuntimes[name] {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
		if path == "" {
			path, _ = exec.LookPath(name)
		}
	}
	ci := ComponentInfo{Name: name, Path: path}
	if path != "" {
		if out, err := exec.Command(path, "--version").Output(); err == nil {
			ci.Version = strings.TrimSpace(string(out))
		}
	}
	return ci
}

func (r *Runtime) storeInfo(s *StoreInfo) error {
	s.ConfigFile = storageConfFile()
	s.GraphDriverName = r.Store.GraphDriverName()
	s.GraphRoot = r.Store.GraphRoot()
	s.RunRoot = r.Store.RunRoot()
	s.GraphOptions = map[string]any{}
	for _, o := range r.Store.GraphOptions() {
		k, v, _ := strings.Cut(o, "=")
		s.GraphOptions[k] = v
	}
	s.GraphStatus = map[string]string{}
	if status, err := r.Store.Status(); err == nil {
		for _, kv := range status {
			s.GraphStatus[kv[0]] = kv[1]
		}
	}
	var st unix.Statfs_t
	if unix.Statfs(s.GraphRoot, &st) == nil {
		s.GraphRootAllocated = st.Blocks * uint64(st.Bsize)
		s.GraphRootUsed = (st.Blocks - st.Bfree) * uint64(st.Bsize)
	}
	s.ImageCopyTmpDir = r.Config.Engine.ImageCopyTmpDir
	s.VolumePath = filepath.Join(s.GraphRoot, "volumes")
	images, err := r.Store.Images()
	if err != nil {
		return err
	}
	s.ImageStore.Number = len(images)
	return nil
}

func storageConfFile() string {
	if p := os.Getenv("CONTAINERS_STORAGE_CONF"); p != "" {
		return p
	}
	if rootless.IsRootless() {
		if home, err := os.UserHomeDir(); err == nil {
			p := filepath.Join(home, ".config/containers/storage.conf")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	for _, p := range []string{"/etc/containers/storage.conf", "/usr/share/containers/storage.conf"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func registriesInfo() map[string]any {
	out := map[string]any{}
	regs, err := sysregistriesv2.GetRegistries(nil)
	if err == nil {
		for _, reg := range regs {
			out[reg.Prefix] = reg
		}
	}
	if search, err := sysregistriesv2.UnqualifiedSearchRegistries(nil); err == nil && len(search) > 0 {
		out["search"] = search
	}
	return out
}

func cgroupInfo() (string, []string) {
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		data, _ := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
		return "v2", strings.Fields(string(data))
	}
	var ctrls []string
	f, err := os.Open("/proc/cgroups")
	if err != nil {
		return "v1", nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 4 && !strings.HasPrefix(fields[0], "#") && fields[3] == "1" {
			ctrls = append(ctrls, fields[0])
		}
	}
	return "v1", ctrls
}

func readOSRelease() Distribution {
	var d Distribution
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return d
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"`)
		switch k {
		case "ID":
			d.Distribution = v
		case "VERSION_ID":
			d.Version = v
		case "VERSION_CODENAME":
			d.Codename = v
		}
	}
	return d
}

func readIDMap(path string) []IDMap {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []IDMap
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var m IDMap
		if n, _ := fmt.Sscan(line, &m.ContainerID, &m.HostID, &m.Size); n == 3 {
			out = append(out, m)
		}
	}
	return out
}

func firstLine(path string, args ...string) string {
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
