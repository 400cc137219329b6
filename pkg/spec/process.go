package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/skiffcontainers/skiff/pkg/env"
)

// defaultPath is podman's PATH for containers whose image sets none.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// processArgs is podman's entrypoint/cmd merge: the entrypoint (the user's, else the image's; [""] counts
// as none), then the user's command, or the image's Cmd when the user gave neither a command nor an
// entrypoint. --init puts catatonit in front.
func processArgs(o *Options) ([]string, error) {
	entrypoint := o.ImageConfig.Entrypoint
	userEntrypoint := o.Entrypoint != nil && len(*o.Entrypoint) > 0
	if o.Entrypoint != nil {
		entrypoint = *o.Entrypoint
	}
	var args []string
	if len(entrypoint) != 1 || entrypoint[0] != "" {
		args = append(args, entrypoint...)
	}
	command := o.Command
	if len(command) == 0 && !userEntrypoint {
		command = o.ImageConfig.Cmd
	}
	args = append(args, command...)
	if len(args) == 0 {
		return nil, invalidArg(errors.New("no command or entrypoint provided, and no CMD or ENTRYPOINT from image"))
	}
	if o.Init {
		args = append([]string{ContainerInitPath, "--"}, args...)
	}
	return args, nil
}

// workingDir is -w, else the image's WORKDIR, else /.
func workingDir(o *Options) (string, error) {
	if o.WorkDir != "" {
		if !filepath.IsAbs(o.WorkDir) {
			return "", invalidArgf("invalid working directory %q: must be an absolute path", o.WorkDir)
		}
		return filepath.Clean(o.WorkDir), nil
	}
	if wd := o.ImageConfig.WorkingDir; wd != "" {
		return filepath.Join("/", wd), nil
	}
	return "/", nil
}

// containerHostname is the name the container sees: its own with a private UTS namespace, the host's with
// --uts=host, and none known when it joins another namespace.
func containerHostname(o *Options, h *hostInfo) string {
	switch {
	case isPrivate(o.Namespaces.UTS):
		return o.Hostname
	case o.Namespaces.UTS == "host" && h.hostname != nil:
		if name, err := h.hostname(); err == nil {
			return name
		}
	}
	return ""
}

// processEnv layers the environment like podman: PATH and container=podman (podman's value, not "skiff":
// systemd and other tools detect the container manager by it), containers.conf's env, the
// image's, TERM=xterm for a terminal, the host's (--env-host), then the user's; later layers win and a
// variable keeps the position where it first appeared. HOSTNAME and HOME (from passwd) are added when
// still unset.
func processEnv(o *Options, hostname, home string) ([]string, error) {
	defaults := o.DefaultEnv
	if defaults == nil {
		defaults = []string{defaultPath}
	}
	// Image variables are data, not requests to look anything up on the host: a bare KEY is KEY=.
	image := make([]string, 0, len(o.ImageConfig.Env))
	for _, kv := range o.ImageConfig.Env {
		if !strings.Contains(kv, "=") {
			kv += "="
		}
		image = append(image, kv)
	}
	merged := env.Merge([]string{defaultPath, "container=podman"}, defaults, image)
	// podman 5 adds TERM only for a terminal (podman 4's containers.conf default env had it always).
	if o.Terminal && !hasEnv(merged, "TERM") {
		merged = append(merged, "TERM=xterm")
	}
	if o.EnvHost {
		merged = env.Merge(merged, os.Environ())
	}
	user, err := env.Parse(o.Env)
	if err != nil {
		return nil, invalidArg(err)
	}
	merged = env.Merge(merged, user)
	if hostname != "" && !hasEnv(merged, "HOSTNAME") {
		merged = append(merged, "HOSTNAME="+hostname)
	}
	if home != "" && !hasEnv(merged, "HOME") {
		merged = append(merged, "HOME="+home)
	}
	return merged, nil
}

func hasEnv(list []string, key string) bool {
	for _, kv := range list {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}
