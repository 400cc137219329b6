package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestVersion: --format with a template and json.
func TestVersion(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		v := e.Out(t, "version", "--format", "{{.Client.Version}}")
		if v == "" || strings.ContainsAny(v, " \n") {
			t.Fatalf("version --format {{.Client.Version}} = %q, want one word", v)
		}
		r := e.RunOK(t, "version", "--format", "json")
		var doc struct {
			Client map[string]any
		}
		if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
			t.Fatalf("version --format json: %v\n%s", err, r)
		}
		if doc.Client["Version"] != v {
			t.Fatalf("json Client.Version = %v, want %q", doc.Client["Version"], v)
		}
		for _, k := range []string{"APIVersion", "GoVersion", "OsArch", "Os", "Built", "BuiltTime", "GitCommit"} {
			if _, ok := doc.Client[k]; !ok {
				t.Errorf("version json Client has no %q: %v", k, doc.Client)
			}
		}
		if doc.Client["OsArch"] != "linux/amd64" && !strings.HasPrefix(fmt.Sprint(doc.Client["OsArch"]), "linux/") {
			t.Errorf("Client.OsArch = %v", doc.Client["OsArch"])
		}
		// The plain output is "Key: value" lines.
		plain := e.RunOK(t, "version").Stdout
		if !strings.Contains(plain, "Version:") || !strings.Contains(plain, v) {
			t.Errorf("version output has no Version: %s line:\n%s", v, plain)
		}
	})
}

// TestInfo: --format templates and the JSON document, whose keys are
// podman's (host/store/registries/plugins/version, camelCase inside).
func TestInfo(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		e = e.Isolated(t)
		e.PullBusybox(t)
		if got := e.Out(t, "info", "--format", "{{.Store.GraphRoot}}"); got != e.GraphRoot {
			t.Errorf("Store.GraphRoot = %q, want the storage.conf graphroot %q", got, e.GraphRoot)
		}
		driver := e.Out(t, "info", "--format", "{{.Store.GraphDriverName}}")
		if driver != "overlay" && driver != "vfs" {
			t.Errorf("Store.GraphDriverName = %q, want overlay or vfs", driver)
		}
		rt := e.Out(t, "info", "--format", "{{.Host.OCIRuntime.Name}}")
		if _, err := exec.LookPath(rt); rt == "" || err != nil {
			t.Errorf("Host.OCIRuntime.Name = %q: not an installed runtime", rt)
		}
		if got := e.Out(t, "info", "--format", "{{.Host.Security.Rootless}}"); got != strconv.FormatBool(e.Rootless()) {
			t.Errorf("Host.Security.Rootless = %q in %s mode", got, e.Mode)
		}

		r := e.RunOK(t, "info", "--format", "json")
		var info map[string]any
		if err := json.Unmarshal([]byte(r.Stdout), &info); err != nil {
			t.Fatalf("info --format json: %v\n%s", err, r)
		}
		for _, k := range []string{"host", "store", "registries", "plugins", "version"} {
			if _, ok := info[k]; !ok {
				t.Errorf("info json has no top-level %q (keys %q)", k, keys(info))
			}
		}
		check := func(got, want any, path ...string) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("info json %s = %#v, want %#v", strings.Join(path, "."), got, want)
			}
		}
		get := func(path ...string) any { return mapGet(info, path...) }
		check(get("host", "security", "rootless"), e.Rootless(), "host", "security", "rootless")
		check(get("store", "graphRoot"), e.GraphRoot, "store", "graphRoot")
		check(get("store", "graphDriverName"), driver, "store", "graphDriverName")
		check(get("store", "configFile"), e.StorageConf, "store", "configFile")
		check(get("store", "imageStore", "number"), 1.0, "store", "imageStore", "number")
		check(get("host", "ociRuntime", "name"), rt, "host", "ociRuntime", "name")
		check(get("host", "os"), "linux", "host", "os")
		check(toStrings(get("registries", "search")), []string{Registry}, "registries", "search")
		check(get("version", "Version"), e.Out(t, "version", "--format", "{{.Client.Version}}"), "version", "Version")
		for _, k := range []string{"arch", "cgroupVersion", "cgroupManager", "kernel", "hostname", "memTotal", "cpus", "idMappings", "logDriver"} {
			if _, ok := get("host").(map[string]any)[k]; !ok {
				t.Errorf("info json host has no %q", k)
			}
		}
		for _, k := range []string{"runRoot", "volumePath", "containerStore"} {
			if _, ok := get("store").(map[string]any)[k]; !ok {
				t.Errorf("info json store has no %q", k)
			}
		}

		// idMappings: the subordinate range when rootless, null as root.
		uidmap, _ := get("host", "idMappings", "uidmap").([]any)
		if e.Rootless() {
			want := []any{
				map[string]any{"container_id": 0.0, "host_id": float64(e.UID), "size": 1.0},
				map[string]any{"container_id": 1.0, "host_id": float64(subidStart), "size": float64(subidCount)},
			}
			check(uidmap, want, "host", "idMappings", "uidmap")
			check(get("host", "idMappings", "gidmap"), want, "host", "idMappings", "gidmap")
		} else if len(uidmap) != 0 {
			t.Errorf("info json host.idMappings.uidmap = %v as root, want null", uidmap)
		}

		// The default output is YAML with the same keys.
		plain := e.RunOK(t, "info").Stdout
		for _, want := range []string{"host:", "store:", "  graphRoot: " + e.GraphRoot, "    rootless: " + strconv.FormatBool(e.Rootless())} {
			if !strings.Contains(plain, want+"\n") {
				t.Errorf("info (YAML) has no line %q", want)
			}
		}
	})
}

// uidMap parses /proc/self/uid_map output into [inside outside count] rows.
func uidMap(t *testing.T, out string) [][3]int {
	t.Helper()
	var rows [][3]int
	for _, l := range nonEmptyLines(out) {
		f := strings.Fields(l)
		if len(f) != 3 {
			t.Fatalf("bad uid_map line %q", l)
		}
		var row [3]int
		for i, s := range f {
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("bad uid_map line %q", l)
			}
			row[i] = n
		}
		rows = append(rows, row)
	}
	return rows
}

// TestRootlessPauseProcess: rootless commands share one user namespace (the
// pause process keeps it), mapped with the subordinate range; system migrate
// restarts it and unshare still works.
func TestRootlessPauseProcess(t *testing.T) {
	// Isolated: system migrate also touches the containers of its store.
	e := ModeEnv("rootless").Isolated(t)
	ns1 := e.Out(t, "unshare", "readlink", "/proc/self/ns/user")
	ns2 := e.Out(t, "unshare", "readlink", "/proc/self/ns/user")
	if !strings.HasPrefix(ns1, "user:[") || ns1 != ns2 {
		t.Fatalf("two unshare runs see user namespaces %q and %q: want the same (pause process)", ns1, ns2)
	}
	hostNS, err := exec.Command("readlink", "/proc/self/ns/user").Output()
	if err != nil {
		t.Fatal(err)
	}
	if ns1 == strings.TrimSpace(string(hostNS)) {
		t.Fatalf("unshare ran in the host user namespace %s", ns1)
	}
	want := [][3]int{{0, e.UID, 1}, {1, subidStart, subidCount}}
	for _, f := range []string{"/proc/self/uid_map", "/proc/self/gid_map"} {
		if got := uidMap(t, e.Out(t, "unshare", "cat", f)); !reflect.DeepEqual(got, want) {
			t.Errorf("unshare cat %s = %v, want %v", f, got, want)
		}
	}
	if got := e.Out(t, "unshare", "id", "-u"); got != "0" {
		t.Errorf("unshare id -u = %q, want 0", got)
	}

	e.RunOK(t, "system", "migrate")
	ns3 := e.Out(t, "unshare", "readlink", "/proc/self/ns/user")
	if !strings.HasPrefix(ns3, "user:[") || ns3 == strings.TrimSpace(string(hostNS)) {
		t.Fatalf("after system migrate, unshare is in %q", ns3)
	}
	if got := uidMap(t, e.Out(t, "unshare", "cat", "/proc/self/uid_map")); !reflect.DeepEqual(got, want) {
		t.Errorf("after system migrate: uid_map = %v, want %v", got, want)
	}
	if ns4 := e.Out(t, "unshare", "readlink", "/proc/self/ns/user"); ns4 != ns3 {
		t.Errorf("after system migrate the namespace is not kept: %q then %q", ns3, ns4)
	}
}

// TestRootlessNoSubuid: a user without /etc/subuid lines gets a single
// mapping and a warning naming /etc/subuid.
func TestRootlessNoSubuid(t *testing.T) {
	ne, err := newUserEnv(NoSubUser, filepath.Join(SuiteDir, Unique("nosub")))
	if err != nil {
		t.Fatal(err)
	}
	// Start from no pause process, so that the namespace is set up (and the
	// warning printed) by the command under test.
	ne.RunOK(t, "system", "migrate")
	r := ne.RunOK(t, "unshare", "cat", "/proc/self/uid_map")
	if got, want := uidMap(t, r.Stdout), [][3]int{{0, ne.UID, 1}}; !reflect.DeepEqual(got, want) {
		t.Errorf("uid_map = %v, want the single mapping %v", got, want)
	}
	if !strings.Contains(r.Stderr, "/etc/subuid") {
		t.Errorf("no warning mentioning /etc/subuid on stderr:\n%s", r)
	}
	if got := ne.Out(t, "unshare", "id", "-u"); got != "0" {
		t.Errorf("unshare id -u = %q, want 0", got)
	}
	ne.RunOK(t, "system", "migrate")
}
