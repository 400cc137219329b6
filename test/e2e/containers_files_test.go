package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// RunToFile runs the binary with stdout into a new file at path owned by
// e's user, and returns the result (Stdout empty) and the file's content.
// Rootless podman reopens /dev/stdout for `cp CTR:PATH -` and `export`,
// which a user cannot do for a pipe another user (the harness) created.
func (e *Env) RunToFile(t *testing.T, path string, args ...string) (Result, []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Chown(e.UID, -1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.Timeout)
	defer cancel()
	cmd := e.Command(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = f, &stderr
	err = cmd.Run()
	f.Close()
	r := Result{Args: append([]string{filepath.Base(Binary)}, args...), Stderr: stderr.String()}
	if ee, ok := err.(interface{ ExitCode() int }); ok && err != nil {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	t.Logf("[%s] $ %s >%s  (exit %d)", e.Mode, strings.Join(r.Args, " "), path, r.Code)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return r, data
}

// tarNames lists the entries of a tar stream (without "./"), with the
// content of regular files.
func tarNames(t *testing.T, data []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not a tar stream (%d bytes): %v", len(data), err)
		}
		b, _ := io.ReadAll(tr)
		out[strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")] = string(b)
	}
}

// TestContainerCp: host to container, container to host, directories, tar
// on stdin and stdout, a created container, errors.
func TestContainerCp(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		name := e.Sleeper(t, "cp")
		dir := e.MkdirOwned(t, Unique("cpdir"))
		hostFile := filepath.Join(dir, "hostfile")
		if err := os.WriteFile(hostFile, []byte("hostdata\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chown(hostFile, e.UID, -1)

		WantOut(t, e.Run(t, "cp", hostFile, name+":/tmp/inctr"), "")
		WantOut(t, e.Run(t, "exec", name, "cat", "/tmp/inctr"), "hostdata")
		// Into a directory: keeps the base name.
		e.RunOK(t, "cp", hostFile, name+":/tmp/")
		WantOut(t, e.Run(t, "exec", name, "cat", "/tmp/hostfile"), "hostdata")

		e.RunOK(t, "exec", name, "sh", "-c", "echo ctrdata > /tmp/out; mkdir -p /tmp/d/sub; echo deep > /tmp/d/sub/f")
		out := filepath.Join(dir, "out")
		WantOut(t, e.Run(t, "cp", name+":/tmp/out", out), "")
		data, err := os.ReadFile(out)
		if err != nil || string(data) != "ctrdata\n" {
			t.Fatalf("cp CTR:/tmp/out HOST: %q, %v", data, err)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(out, &st); err != nil || int(st.Uid) != e.UID {
			t.Fatalf("cp CTR:/tmp/out HOST: the host file belongs to uid %d, want the user's %d", st.Uid, e.UID)
		}
		e.RunOK(t, "cp", name+":/tmp/d", filepath.Join(dir, "dcopy"))
		if data, err := os.ReadFile(filepath.Join(dir, "dcopy", "sub", "f")); err != nil || string(data) != "deep\n" {
			t.Fatalf("cp of a directory: dcopy/sub/f = %q, %v", data, err)
		}

		// "-": a tar stream on stdout and from stdin.
		r, tarData := e.RunToFile(t, filepath.Join(dir, "out.tar"), "cp", name+":/tmp/out", "-")
		WantExit(t, r, 0)
		if got := tarNames(t, tarData); !reflect.DeepEqual(got, map[string]string{"out": "ctrdata\n"}) {
			t.Fatalf("cp CTR:/tmp/out -: tar entries %q, want out", got)
		}
		var in bytes.Buffer
		tw := tar.NewWriter(&in)
		tw.WriteHeader(&tar.Header{Name: "fromtar", Mode: 0o644, Size: 8, Typeflag: tar.TypeReg})
		tw.Write([]byte("tardata\n"))
		tw.Close()
		WantExit(t, e.RunStdin(t, &in, "cp", "-", name+":/tmp"), 0)
		WantOut(t, e.Run(t, "exec", name, "cat", "/tmp/fromtar"), "tardata")

		// A container that is not running.
		created := e.NewCtr(t, "cpcreated", nil, "cat", "/copied")
		e.RunOK(t, "cp", hostFile, created+":/copied")
		WantOut(t, e.Run(t, "start", "--attach", created), "hostdata")

		AssertOneLineError(t, e.Run(t, "cp", name+":/nonexistent", dir), 125, `"/nonexistent" could not be found on container `+name)
		AssertOneLineError(t, e.Run(t, "cp", filepath.Join(dir, "nonexistent"), name+":/tmp"), 125, "nonexistent")
	})
}

// TestContainerDiffExportCommit: diff lists what a container changed; export
// is a tarball of its filesystem; commit makes an image of it.
func TestContainerDiffExportCommit(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		name := e.Sleeper(t, "diff")
		e.RunOK(t, "exec", name, "sh", "-c", "echo ctrdata > /tmp/out; mkdir /newdir; rm /etc/group")

		got := e.RunOK(t, "diff", name).Lines()
		sort.Strings(got)
		want := []string{"A /newdir", "A /tmp/out", "C /etc", "C /tmp", "D /etc/group"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("diff: %q, want (in any order) %q", got, want)
		}
		r := e.RunOK(t, "diff", "--format", "json", name)
		var doc map[string][]string
		if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
			t.Fatalf("diff --format json: %v\n%s", err, r)
		}
		for _, v := range doc {
			sort.Strings(v)
		}
		wantDoc := map[string][]string{"changed": {"/etc", "/tmp"}, "added": {"/newdir", "/tmp/out"}, "deleted": {"/etc/group"}}
		if !reflect.DeepEqual(doc, wantDoc) {
			t.Fatalf("diff --format json: %v, want %v (in any order)", doc, wantDoc)
		}

		// export: the whole filesystem with the changes.
		dir := e.MkdirOwned(t, Unique("export"))
		exp := filepath.Join(dir, "exp.tar")
		WantOut(t, e.Run(t, "export", "-o", exp, name), "")
		entries := TarEntries(t, exp, "tmp/out")
		for _, f := range []string{"bin/busybox", "etc/passwd", "tmp/out", "newdir/"} {
			if _, ok := entries[f]; !ok {
				t.Errorf("export -o: no %s in the tarball", f)
			}
		}
		if entries["tmp/out"] != "ctrdata\n" {
			t.Errorf("export -o: tmp/out = %q", entries["tmp/out"])
		}
		if _, ok := entries["etc/group"]; ok {
			t.Errorf("export -o: etc/group was deleted but is in the tarball")
		}
		r, data := e.RunToFile(t, filepath.Join(dir, "stdout.tar"), "export", name)
		WantExit(t, r, 0)
		if names := tarNames(t, data); names["tmp/out"] != "ctrdata\n" {
			t.Errorf("export to stdout: tmp/out = %q (%d entries)", names["tmp/out"], len(names))
		}

		// commit: -m needs the docker format; --change sets the CMD.
		img := "localhost/" + Unique("committed") + ":1"
		t.Cleanup(func() { e.runCtx(context.Background(), nil, []string{"rmi", "-f", img}) })
		AssertOneLineError(t, e.Run(t, "commit", "-q", "-m", "msg", name, img), 125, "messages are only compatible with the docker image format (-f docker)")
		r = e.RunOK(t, "commit", "-q", "-f", "docker", "-m", "msg", "--change", `CMD=["cat","/tmp/out"]`, name, img)
		imgID := strings.TrimPrefix(strings.TrimSpace(r.Stdout), "sha256:")
		if len(imgID) != 64 || e.ImageID(t, img) != imgID {
			t.Fatalf("commit -q printed %q, want the new image's ID %s", r.Stdout, e.ImageID(t, img))
		}
		if got := e.Out(t, "image", "inspect", "--format", "{{.Comment}}|{{.Config.Cmd}}", img); got != "msg|[cat /tmp/out]" {
			t.Fatalf("committed image Comment|Cmd = %q, want %q", got, "msg|[cat /tmp/out]")
		}
		WantOut(t, e.RunCtr(t, img), "ctrdata")
		WantExit(t, e.RunCtr(t, img, "test", "-e", "/etc/group"), 1)
		// The container keeps running through the commit.
		if got := e.CtrState(t, name); got != "running" {
			t.Fatalf("after commit the container is %q", got)
		}
	})
}

// TestContainerMount: mount gives the container's root on the host (root;
// rootless only inside unshare), umount releases it.
func TestContainerMount(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		name := e.Sleeper(t, "mount")
		id := e.Inspect(t, name, "{{.Id}}")
		e.RunOK(t, "exec", name, "sh", "-c", "echo ctrdata > /tmp/out")
		bin := filepath.Base(Binary)
		if e.Rootless() {
			r := e.Run(t, "mount", name)
			AssertOneLineError(t, r, 125, `cannot run command "`+bin+` mount" in rootless mode, must execute `+"`"+bin+` unshare`+"`"+` first`)
			r = e.RunOK(t, "unshare", "sh", "-c", `m=$("$0" mount "$1") && cat "$m/tmp/out" && "$0" mount && "$0" umount "$1"`, Binary, name)
			lines := r.Lines()
			if len(lines) < 3 || lines[0] != "ctrdata" || lines[len(lines)-1] != name {
				t.Fatalf("in unshare: mount, cat, mount (list), umount printed %q, want ctrdata, the list, %s", lines, name)
			}
			listed := false
			for _, l := range lines[1 : len(lines)-1] {
				listed = listed || strings.HasPrefix(l, id[:12]+"  /")
			}
			if !listed {
				t.Fatalf("in unshare: mount (list) %q has no %q", lines[1:len(lines)-1], id[:12]+"  <path>")
			}
			return
		}
		mp := e.Out(t, "mount", name)
		data, err := os.ReadFile(filepath.Join(mp, "tmp", "out"))
		if err != nil || string(data) != "ctrdata\n" {
			t.Fatalf("mount printed %q: tmp/out there is %q, %v", mp, data, err)
		}
		// The list has every mounted container (running ones too).
		WantContains(t, e.RunOK(t, "mount").Lines(), id[:12]+"  "+mp, "mount (list)")
		WantContains(t, e.RunOK(t, "mount", "--notruncate").Lines(), id+"  "+mp, "mount --notruncate (list)")
		WantOut(t, e.Run(t, "umount", name), name)
		// A stopped container is unmounted.
		e.RunOK(t, "stop", "-t", "0", name)
		for _, l := range e.RunOK(t, "mount").Lines() {
			if strings.HasPrefix(l, id[:12]) {
				t.Fatalf("mount (list) after umount and stop still has %q", l)
			}
		}
	})
}

// TestContainerTop: top with podman's default columns and with descriptors.
func TestContainerTop(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		name := e.Sleeper(t, "top")
		lines := e.RunOK(t, "top", name).Lines()
		if len(lines) != 2 {
			t.Fatalf("top: want a header and one process, got %q", lines)
		}
		if got := strings.Fields(lines[0]); !reflect.DeepEqual(got, []string{"USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"}) {
			t.Fatalf("top header %q", lines[0])
		}
		if f := strings.Fields(lines[1]); len(f) != 9 || f[0] != "root" || f[1] != "1" || f[2] != "0" || f[5] != "?" || f[7] != "sleep" || f[8] != "1000" {
			t.Fatalf("top row %q, want root 1 0 ... ? ... sleep 1000", lines[1])
		}
		lines = e.RunOK(t, "top", name, "pid", "comm", "args", "user").Lines()
		if len(lines) != 2 || !reflect.DeepEqual(strings.Fields(lines[0]), []string{"PID", "COMMAND", "COMMAND", "USER"}) ||
			!reflect.DeepEqual(strings.Fields(lines[1]), []string{"1", "sleep", "sleep", "1000", "root"}) {
			t.Fatalf("top CTR pid comm args user: %q", lines)
		}
		// A second process shows up.
		e.RunOK(t, "exec", "-d", name, "sleep", "999")
		var rows []string
		for i := 0; i < 50; i++ {
			if rows = e.RunOK(t, "top", name, "args").Lines(); len(rows) == 3 {
				break
			}
		}
		if len(rows) != 3 || strings.TrimSpace(rows[1]) != "sleep 1000" || strings.TrimSpace(rows[2]) != "sleep 999" {
			t.Fatalf("top CTR args with an exec'd process: %q", rows)
		}
		e.RunOK(t, "stop", "-t", "0", name)
		AssertOneLineError(t, e.Run(t, "top", name), 125, "top can only be used on running containers")
	})
}

// TestContainerPrune: container prune removes every container that is not
// running and prints their IDs.
func TestContainerPrune(t *testing.T) {
	ForEachIsolatedCtrMode(t, func(t *testing.T, e *Env) {
		running := e.Sleeper(t, "prunerun")
		exited := Unique("pruneexit")
		e.Forget(t, exited)
		e.RunOK(t, "run", "--name", exited, "--network", "none", BusyboxRef, "true")
		created := e.NewCtr(t, "prunecreated", nil, "true")
		want := []string{e.Inspect(t, exited, "{{.Id}}"), e.Inspect(t, created, "{{.Id}}")}
		sort.Strings(want)
		got := e.RunOK(t, "container", "prune", "-f").Lines()
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("container prune -f printed %q, want the IDs %q", got, want)
		}
		if names := e.PsNames(t, "-a"); !reflect.DeepEqual(names, []string{running}) {
			t.Fatalf("ps -a after prune: %q, want only %s", names, running)
		}
		if got := e.RunOK(t, "container", "prune", "-f").Stdout; got != "" {
			t.Fatalf("a second prune printed %q", got)
		}
	})
}
