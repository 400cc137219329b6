package libpod

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/skiffcontainers/skiff/libpod/state"
	"golang.org/x/sys/unix"
)

// writeEtcFiles writes the container's /etc/hosts, /etc/hostname and /etc/resolv.conf into its run dir and
// returns the bind mounts that put them in place.
func (c *Container) writeEtcFiles(hostname string) ([]specs.Mount, error) {
	dir := c.RunDir()
	hosts := hostsFile(c.Config.NetworkMode, hostname, c.Config.Name)
	resolv, err := resolvConf(c.Config.NetworkMode)
	if err != nil {
		return nil, err
	}
	files := []struct{ name, dest, content string }{
		{"hosts", "/etc/hosts", hosts},
		{"hostname", "/etc/hostname", hostname + "\n"},
		{"resolv.conf", "/etc/resolv.conf", resolv},
	}
	var mounts []specs.Mount
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, []byte(f.content), 0o644); err != nil {
			return nil, err
		}
		mounts = append(mounts, specs.Mount{Destination: f.dest, Type: "bind", Source: path, Options: []string{"rbind", "rprivate", "rw"}})
	}
	return mounts, nil
}

func hostsFile(network, hostname, name string) string {
	var b strings.Builder
	if network == "host" {
		if data, err := os.ReadFile("/etc/hosts"); err == nil {
			b.Write(data)
			if len(data) > 0 && data[len(data)-1] != '\n' {
				b.WriteByte('\n')
			}
		}
	} else {
		b.WriteString("127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n")
		b.WriteString("::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n")
	}
	names := hostname
	if name != "" && name != hostname {
		names += " " + name
	}
	fmt.Fprintf(&b, "127.0.1.1\t%s\n", names)
	return b.String()
}

// resolvConf is the host's resolv.conf; in a private network namespace the host's loopback resolvers
// cannot be reached, so they are dropped.
func resolvConf(network string) (string, error) {
	data, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		if os.IsNotExist(err) {
			return "", nil
		}
		return "", err
	}
	if network == "host" {
		return string(data), nil
	}
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" && (strings.HasPrefix(f[1], "127.") || f[1] == "::1") {
			continue
		}
		b.WriteString(line + "\n")
	}
	return b.String(), nil
}

func writeJSONFile(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return state.WriteFileAtomic(path, data, 0o600)
}

// findShim looks for skiff-shim beside the skiff binary, then in $PATH and the libexec directories.
func findShim() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "skiff-shim")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("skiff-shim"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/libexec/skiff/skiff-shim", "/usr/local/libexec/skiff/skiff-shim"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("skiff-shim not found beside skiff, in $PATH or /usr/libexec/skiff: reinstall skiff")
}

// cleanupCommand is what the shim execs when the container exits: this skiff, with the global flags that
// select this store, running `container cleanup`.
func (r *Runtime) cleanupCommand(id string) []string {
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	args := []string{exe}
	o := r.opts
	if o.Storage.Root != "" {
		args = append(args, "--root", o.Storage.Root)
	}
	if o.Storage.RunRoot != "" {
		args = append(args, "--runroot", o.Storage.RunRoot)
	}
	if o.Storage.Driver != "" {
		args = append(args, "--storage-driver", o.Storage.Driver)
	}
	for _, so := range o.Storage.DriverOpts {
		args = append(args, "--storage-opt", so)
	}
	if o.OCIRuntime != "" {
		args = append(args, "--runtime", o.OCIRuntime)
	}
	return append(args, "container", "cleanup", id)
}

func cgroupV2() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}
