package e2e

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestContainerInspect: the inspect JSON of a running, an exited and a
// created --rm container: podman's keys and values.
func TestContainerInspect(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		run := e.Sleeper(t, "insp", "--label", "e2e.k=v", "-e", "FOO=bar")
		c := e.InspectCtr(t, run)

		for _, k := range []string{"Id", "Created", "Path", "Args", "State", "Image", "ImageDigest", "ImageName", "Rootfs", "Pod",
			"ResolvConfPath", "HostnamePath", "HostsPath", "StaticDir", "OCIConfigPath", "OCIRuntime", "ConmonPidFile", "PidFile",
			"Name", "RestartCount", "Driver", "MountLabel", "ProcessLabel", "AppArmorProfile", "EffectiveCaps", "BoundingCaps",
			"ExecIDs", "GraphDriver", "Mounts", "Dependencies", "NetworkSettings", "Namespace", "IsInfra", "IsService",
			"Config", "HostConfig"} {
			if _, ok := c[k]; !ok {
				t.Errorf("inspect has no top-level %q (keys %q)", k, keys(c))
			}
		}
		state, _ := c["State"].(map[string]any)
		for _, k := range []string{"OciVersion", "Status", "Running", "Paused", "Restarting", "OOMKilled", "Dead", "Pid",
			"ConmonPid", "ExitCode", "Error", "StartedAt", "FinishedAt", "Health", "CheckpointedAt", "RestoredAt"} {
			if _, ok := state[k]; !ok {
				t.Errorf("inspect .State has no %q (keys %q)", k, keys(state))
			}
		}
		config, _ := c["Config"].(map[string]any)
		for _, k := range []string{"Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "Tty",
			"OpenStdin", "StdinOnce", "Env", "Cmd", "Image", "Volumes", "WorkingDir", "Entrypoint", "OnBuild", "Labels",
			"Annotations", "StopSignal", "CreateCommand", "Umask", "Timeout", "StopTimeout"} {
			if _, ok := config[k]; !ok {
				t.Errorf("inspect .Config has no %q (keys %q)", k, keys(config))
			}
		}
		host, _ := c["HostConfig"].(map[string]any)
		for _, k := range []string{"Binds", "CgroupManager", "ContainerIDFile", "LogConfig", "NetworkMode", "PortBindings",
			"RestartPolicy", "AutoRemove", "CapAdd", "CapDrop", "Dns", "ExtraHosts", "IpcMode", "PidMode", "Privileged",
			"ReadonlyRootfs", "SecurityOpt", "UTSMode", "ShmSize", "Devices", "Ulimits"} {
			if _, ok := host[k]; !ok {
				t.Errorf("inspect .HostConfig has no %q (keys %q)", k, keys(host))
			}
		}

		id, _ := c["Id"].(string)
		check := func(got, want any, what string) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("inspect %s = %#v, want %#v", what, got, want)
			}
		}
		check(len(id), 64, "len(.Id)")
		check(c["Name"], run, ".Name")
		check(c["Image"], Busybox.ID, ".Image")
		check(c["ImageName"], BusyboxRef, ".ImageName")
		check(c["ImageDigest"], Busybox.ManifestDigest, ".ImageDigest")
		check(c["Path"], "sleep", ".Path")
		check(toStrings(c["Args"]), []string{"1000"}, ".Args")
		check(c["RestartCount"], float64(0), ".RestartCount")
		check(c["IsInfra"], false, ".IsInfra")
		check(state["Status"], "running", ".State.Status")
		check(state["Running"], true, ".State.Running")
		check(state["Paused"], false, ".State.Paused")
		check(state["ExitCode"], float64(0), ".State.ExitCode")
		check(state["Error"], "", ".State.Error")
		check(toStrings(config["Cmd"]), []string{"sleep", "1000"}, ".Config.Cmd")
		check(config["Image"], BusyboxRef, ".Config.Image")
		check(config["Hostname"], id[:12], ".Config.Hostname")
		check(config["WorkingDir"], orDefault(Busybox.Config.Config.WorkingDir, "/"), ".Config.WorkingDir")
		check(config["Tty"], false, ".Config.Tty")
		check(config["User"], "", ".Config.User")
		check(config["StopSignal"], float64(15), ".Config.StopSignal")
		check(config["StopTimeout"], float64(10), ".Config.StopTimeout")
		check(host["AutoRemove"], false, ".HostConfig.AutoRemove")
		check(host["NetworkMode"], "none", ".HostConfig.NetworkMode")
		check(host["Privileged"], false, ".HostConfig.Privileged")
		check(host["ReadonlyRootfs"], false, ".HostConfig.ReadonlyRootfs")
		check(toStrings(host["CapDrop"]), []string{"CAP_AUDIT_WRITE", "CAP_MKNOD", "CAP_NET_RAW"}, ".HostConfig.CapDrop")
		wantCaps := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
			"CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"}
		check(toStrings(c["EffectiveCaps"]), wantCaps, ".EffectiveCaps")
		check(toStrings(c["BoundingCaps"]), wantCaps, ".BoundingCaps")
		check(mapGet(c, "HostConfig", "LogConfig", "Type"), "k8s-file", ".HostConfig.LogConfig.Type")
		check(mapGet(c, "HostConfig", "RestartPolicy", "Name"), "", ".HostConfig.RestartPolicy.Name")
		check(mapGet(c, "GraphDriver", "Name"), c["Driver"], ".GraphDriver.Name")
		check(c["Driver"], e.Out(t, "info", "--format", "{{.Store.GraphDriverName}}"), ".Driver (info's graph driver)")
		check(c["OCIRuntime"], e.Out(t, "info", "--format", "{{.Host.OCIRuntime.Name}}"), ".OCIRuntime (info's runtime)")

		env := toStrings(config["Env"])
		WantContains(t, env, Busybox.Config.Config.Env[0], ".Config.Env")
		WantContains(t, env, "FOO=bar", ".Config.Env")
		WantContains(t, env, "HOSTNAME="+id[:12], ".Config.Env")
		labels := toStringMap(config["Labels"])
		if labels["e2e.k"] != "v" {
			t.Errorf(".Config.Labels = %v, want e2e.k=v", labels)
		}
		for k, v := range Busybox.Config.Config.Labels {
			if labels[k] != v {
				t.Errorf(".Config.Labels = %v, want the image's %s=%s", labels, k, v)
			}
		}
		if cc := toStrings(config["CreateCommand"]); len(cc) < 3 || cc[1] != "run" || cc[len(cc)-1] != "1000" {
			t.Errorf(".Config.CreateCommand = %q, want the run command line", cc)
		}

		// The pids are live host processes: the container's runs the command.
		pid, _ := state["Pid"].(float64)
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/cmdline")
		if pid <= 0 || err != nil || string(cmdline) != "sleep\x001000\x00" {
			t.Errorf(".State.Pid = %v: /proc/<pid>/cmdline %q (%v), want sleep 1000", pid, cmdline, err)
		}
		conmon, _ := state["ConmonPid"].(float64)
		if _, err := os.Stat("/proc/" + strconv.Itoa(int(conmon))); conmon <= 0 || conmon == pid || err != nil {
			t.Errorf(".State.ConmonPid = %v: want a live process that is not the container's (%v)", conmon, err)
		}
		created := parseTime(t, c["Created"])
		started := parseTime(t, state["StartedAt"])
		if time.Since(created) > 2*time.Minute || started.Before(created) {
			t.Errorf(".Created %v, .State.StartedAt %v: want recent, started after created", created, started)
		}
		if fin := parseTime(t, state["FinishedAt"]); !fin.IsZero() {
			t.Errorf(".State.FinishedAt of a running container = %v, want the zero time", fin)
		}

		// Templates see the same document; several containers give a line each.
		exited := Unique("inspexit")
		e.Forget(t, exited)
		WantExit(t, e.Run(t, "run", "--name", exited, "--network", "none", "-u", "65534", "-w", "/etc", BusyboxRef, "sh", "-c", "exit 4"), 4)
		rm := Unique("insprm")
		e.Forget(t, rm)
		e.RunOK(t, "create", "--rm", "--name", rm, "--network", "none", BusyboxRef, "true")
		got := e.RunOK(t, "container", "inspect", "--format",
			"{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{.State.Pid}} {{.State.ConmonPid}} {{.HostConfig.AutoRemove}} {{.Config.User}} {{.Config.WorkingDir}}",
			run, exited, rm).Lines()
		want := []string{
			run + " running 0 " + strconv.Itoa(int(pid)) + " " + strconv.Itoa(int(conmon)) + " false  " + orDefault(Busybox.Config.Config.WorkingDir, "/"),
			exited + " exited 4 0 0 false 65534 /etc",
			rm + " created 0 0 0 true  " + orDefault(Busybox.Config.Config.WorkingDir, "/"),
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("inspect --format of three containers:\n%q\nwant\n%q", got, want)
		}
		x := e.InspectCtr(t, exited)
		xs, _ := x["State"].(map[string]any)
		if fin, st := parseTime(t, xs["FinishedAt"]), parseTime(t, xs["StartedAt"]); fin.IsZero() || fin.Before(st) {
			t.Errorf("exited container: StartedAt %v FinishedAt %v", st, fin)
		}
		if got := e.Inspect(t, exited, "{{json .Config.Cmd}}"); got != `["sh","-c","exit 4"]` {
			t.Errorf(`{{json .Config.Cmd}} = %s, want ["sh","-c","exit 4"]`, got)
		}

		// inspect --type container; generic inspect finds containers too.
		if got := e.Out(t, "inspect", "--type", "container", "--format", "{{.Id}}", run); got != id {
			t.Errorf("inspect --type container: %q", got)
		}
		if got := e.Out(t, "inspect", "--format", "{{.Id}}", run); got != id {
			t.Errorf("inspect NAME: %q", got)
		}
		if got := e.Out(t, "container", "inspect", "--format", "{{.Name}}", id[:12]); got != run {
			t.Errorf("container inspect SHORT-ID: %q", got)
		}
		r := e.Run(t, "inspect", "--type", "image", run)
		AssertOneLineError(t, r, 125, run+": image not known")
		r = e.Run(t, "inspect", "--type", "bogus", run)
		AssertOneLineError(t, r, 125, `invalid type "bogus": must be "image", "container", "pod", "network", "volume", or "all"`)
		// One known, one unknown: the known one is printed, then the error.
		r = e.Run(t, "container", "inspect", "--format", "{{.Name}}", run, "nope")
		AssertOneLineError(t, r, 125, "no such container nope")
		if strings.TrimSpace(r.Stdout) != run {
			t.Errorf("inspect of a known and an unknown container printed %q, want %q", r.Stdout, run)
		}
	})
}
