package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPullFromRegistry: pull by full name (also with --tls-verify=false), by
// short name through unqualified-search-registries and through an alias.
func TestPullFromRegistry(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		e = e.Isolated(t)
		for _, args := range [][]string{
			{"pull", BusyboxRef},
			{"pull", "--tls-verify=false", BusyboxRef},
			{"pull", "skiff/busybox"}, // unqualified-search-registries
			{"pull", "aliased"},       // [aliases] in registries.conf
		} {
			r := e.RunOK(t, args...)
			// stdout is the image ID alone; progress goes to stderr.
			if got := strings.TrimSpace(r.Stdout); got != Busybox.ID {
				t.Fatalf("%s: stdout %q, want the image ID %s", strings.Join(args, " "), got, Busybox.ID)
			}
			if got := e.ImageNames(t); len(got) != 1 || got[0] != BusyboxRef {
				t.Fatalf("images after %s = %q, want [%s]", strings.Join(args, " "), got, BusyboxRef)
			}
			if got := e.ImageID(t, BusyboxRef); got != Busybox.ID {
				t.Fatalf("image ID %s, want %s", got, Busybox.ID)
			}
			e.RunOK(t, "rmi", BusyboxRef)
			if got := e.RunOK(t, "images", "-q").Lines(); len(got) != 0 {
				t.Fatalf("images after rmi = %q", got)
			}
		}
		// -q prints the ID and nothing else, on stdout and stderr.
		r := e.RunOK(t, "pull", "-q", "skiff/busybox")
		if strings.TrimSpace(r.Stdout) != Busybox.ID {
			t.Fatalf("pull -q stdout = %q", r.Stdout)
		}
		for _, l := range nonEmptyLines(r.Stderr) {
			if !isLogLine(l) {
				t.Fatalf("pull -q printed progress on stderr: %q", l)
			}
		}
	})
}

// TestPullLocalTransports: oci: layout directories and docker-archive: files.
func TestPullLocalTransports(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		e = e.Isolated(t)
		r := e.RunOK(t, "pull", "oci:"+Busybox.Dir+":latest")
		if got := strings.TrimSpace(r.Stdout); got != Busybox.ID {
			t.Fatalf("pull oci: stdout %q, want %s", got, Busybox.ID)
		}
		// An oci: image has no name of its own: it is named after its path.
		want := "localhost" + Busybox.Dir + ":latest"
		if got := e.ImageNames(t); len(got) != 1 || got[0] != want {
			t.Fatalf("images after pull oci: = %q, want [%s]", got, want)
		}
		checkLayoutImage(t, e, want, Busybox)

		archive := filepath.Join(e.Dir, "busybox.tar")
		e.RunOK(t, "tag", want, BusyboxRef)
		e.RunOK(t, "save", "-o", archive, BusyboxRef)
		e.RunOK(t, "rmi", "-a")
		r = e.RunOK(t, "pull", "docker-archive:"+archive)
		if got := strings.TrimSpace(r.Stdout); got != Busybox.ID {
			t.Fatalf("pull docker-archive: stdout %q, want %s", got, Busybox.ID)
		}
		if got := e.ImageNames(t); len(got) != 1 || got[0] != BusyboxRef {
			t.Fatalf("images after pull docker-archive: = %q, want the archive's name [%s]", got, BusyboxRef)
		}
		checkLayoutImage(t, e, BusyboxRef, Busybox)
	})
}

// checkLayoutImage: ref in e is the image of layout l (ID, layers, config).
func checkLayoutImage(t *testing.T, e *Env, ref string, l *Layout) {
	t.Helper()
	img := e.InspectImage(t, ref)
	if img["Id"] != l.ID {
		t.Fatalf("%s: Id %v, want %s", ref, img["Id"], l.ID)
	}
	if got := toStrings(mapGet(img, "RootFS", "Layers")); strings.Join(got, ",") != strings.Join(l.Config.RootFS.DiffIDs, ",") {
		t.Fatalf("%s: RootFS.Layers %q, want %q", ref, got, l.Config.RootFS.DiffIDs)
	}
	if got := toStringMap(img["Labels"]); got["org.skiff.test"] != l.Config.Config.Labels["org.skiff.test"] {
		t.Fatalf("%s: Labels %v", ref, got)
	}
}

// TestImageErrors: failures exit 125 with one "Error: " line and change nothing.
func TestImageErrors(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		e = e.Isolated(t)
		e.PullBusybox(t)
		before := e.RunOK(t, "images", "-q", "--no-trunc").Stdout

		AssertOneLineError(t, e.Run(t, "pull", "--tls-verify=false", Registry+"/skiff/nope:latest"), 125, "manifest unknown")
		AssertOneLineError(t, e.Run(t, "pull", "bad::ref"), 125, "invalid reference format")
		r := e.Run(t, "image", "inspect", "nope-not-here")
		AssertOneLineError(t, r, 125, "nope-not-here: image not known")
		if out := strings.TrimSpace(r.Stdout); out != "" && out != "[]" {
			t.Fatalf("image inspect of an unknown image printed %q on stdout", out)
		}
		// One known, one unknown: the known one is printed, the exit code is 125.
		r = e.Run(t, "image", "inspect", "--format", "{{.Id}}", BusyboxRef, "nope-not-here")
		AssertOneLineError(t, r, 125, "image not known")
		if strings.TrimSpace(r.Stdout) != Busybox.ID {
			t.Fatalf("image inspect KNOWN UNKNOWN: stdout %q, want the known one's ID", r.Stdout)
		}
		// Not an archive: load lists what it tried (continuation lines).
		AssertError(t, e.Run(t, "load", "-i", "/etc/hostname"), 125)
		AssertError(t, e.Run(t, "load", "-i", filepath.Join(e.Dir, "does-not-exist.tar")), 125)
		if after := e.RunOK(t, "images", "-q", "--no-trunc").Stdout; after != before {
			t.Fatalf("failed commands changed the image list:\nbefore %q\nafter  %q", before, after)
		}
		e.RunOK(t, "images")
	})
}

// TestInterruptedPull: a pull killed with SIGKILL half-way leaves no broken
// image, and the next pull of the same image works.
func TestInterruptedPull(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		e = e.Isolated(t)
		if got := e.RunOK(t, "images", "-q").Lines(); len(got) != 0 {
			t.Fatalf("fresh store lists %q", got)
		}
		// Kill once the copy has begun; if a pull is fast enough to finish
		// first, try again killing sooner.
		killed := false
		for _, delay := range []time.Duration{300 * time.Millisecond, 50 * time.Millisecond, 0} {
			if killed = killPullMidway(t, e, BigRef, delay); killed {
				break
			}
			e.RunOK(t, "rmi", "-a")
		}
		if !killed {
			t.Fatalf("every pull of %s finished before it could be killed; the test proves nothing", BigRef)
		}

		// Nothing half there: no image at all, or the whole image.
		if ids := e.RunOK(t, "images", "-a", "-q", "--no-trunc").Lines(); len(ids) > 1 || (len(ids) == 1 && ids[0] != "sha256:"+Big.ID) {
			t.Fatalf("after the killed pull, images -a lists %q; want nothing or the complete %s", ids, Big.ID)
		}
		if Contains(e.ImageNames(t), BigRef) {
			checkLayoutImage(t, e, BigRef, Big)
		} else {
			e.MustFail(t, 125, "image", "inspect", BigRef)
		}
		r := e.RunOK(t, "pull", BigRef)
		if got := strings.TrimSpace(r.Stdout); got != Big.ID {
			t.Fatalf("second pull: stdout %q, want %s", got, Big.ID)
		}
		checkLayoutImage(t, e, BigRef, Big)
		WantContains(t, e.ImageNames(t), BigRef, "images after the second pull")
		e.RunOK(t, "rmi", BigRef)
		e.PullBusybox(t)
	})
}

// killPullMidway starts `pull ref` and SIGKILLs it (with all it started)
// delay after the copy begins: the first "Copying blob" line, the storage
// growing, or 700ms, whichever comes first. It reports whether the pull was
// killed (false: it had already finished).
func killPullMidway(t *testing.T, e *Env, ref string, delay time.Duration) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e.Timeout)
	defer cancel()
	// A killed pull leaves its temp files behind (containers/image stages
	// blobs in $TMPDIR, default /var/tmp): keep them in the test's dir.
	// The store must have been used before without TMPDIR: podman records
	// its runtime paths, which follow TMPDIR when XDG_RUNTIME_DIR is unset,
	// in its database on first use, and a pause process registered under
	// the test's dir would outlive the suite.
	ke := *e
	ke.ExtraEnv = append(append([]string(nil), e.ExtraEnv...), "TMPDIR="+e.MkdirOwned(t, Unique("tmp")))
	cmd := ke.Command(ctx, "pull", ref)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	base := dirSize(e.Dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), "Copying blob") {
				once = true
				close(started)
			}
		}
	}()
	timeout := time.After(700 * time.Millisecond)
wait:
	for {
		select {
		case <-started:
			break wait
		case <-timeout:
			break wait
		case <-time.After(20 * time.Millisecond):
			if dirSize(e.Dir) > base+1<<20 {
				break wait
			}
		}
	}
	time.Sleep(delay)
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		t.Logf("pull finished before the kill (delay %v)", delay)
		return false
	case errors.As(err, &ee) && ee.Exited():
		t.Fatalf("the pull failed on its own before the kill: %v", err)
	}
	t.Logf("pull killed after delay %v: %v", delay, err)
	return true
}

// TestPush: push to the registry under a new name, then pull it back in the
// other mode's storage.
func TestPush(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		id := e.PullBusybox(t)
		pushed := Registry + "/skiff/" + Unique("pushed-"+e.Mode) + ":latest"
		e.RunOK(t, "push", "--tls-verify=false", BusyboxRef, pushed)

		other := ModeEnv("rootless")
		if e.Rootless() {
			other = ModeEnv("root")
		}
		other = other.Isolated(t)
		r := other.RunOK(t, "pull", pushed)
		if got := strings.TrimSpace(r.Stdout); got != id {
			t.Fatalf("pulled back %s: ID %q, want %s", pushed, got, id)
		}
		checkLayoutImage(t, other, pushed, Busybox)

		// And the pushing side: rmi + pull.
		e.RunOK(t, "tag", BusyboxRef, pushed)
		e.RunOK(t, "rmi", pushed)
		e.RunOK(t, "pull", pushed)
		if got := e.ImageID(t, pushed); got != id {
			t.Fatalf("rmi + pull %s: ID %s, want %s", pushed, got, id)
		}
		e.RunOK(t, "rmi", pushed)
		e.Must125(t, "push", "--tls-verify=false", "nope-not-here", Registry+"/skiff/nope:latest")
	})
}

// TestLoginLogout: login stores credentials in --authfile and logout removes
// them; against a registry with htpasswd auth, wrong passwords are refused
// and push/pull need the login.
func TestLoginLogout(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		authfile := filepath.Join(e.Dir, Unique("auth")+".json")
		// The registry has no auth: any credentials are accepted.
		r := e.RunOK(t, "login", "--username", "u", "--password", "p", "--tls-verify=false", "--authfile", authfile, Registry)
		if !strings.Contains(r.Stdout, "Login Succeeded!") {
			t.Fatalf("login should print %q:\n%s", "Login Succeeded!", r)
		}
		if got := authEntry(t, authfile, Registry); got != "u:p" {
			t.Fatalf("auth file entry for %s = %q, want u:p", Registry, got)
		}
		if st, err := os.Stat(authfile); err == nil && st.Mode().Perm()&0o077 != 0 {
			t.Errorf("auth file mode %v: credentials must not be readable by others", st.Mode().Perm())
		}
		r = e.RunOK(t, "logout", "--authfile", authfile, Registry)
		if !strings.Contains(r.Stdout, "Removed login credentials for "+Registry) {
			t.Fatalf("logout should print %q:\n%s", "Removed login credentials for "+Registry, r)
		}
		if got := authEntry(t, authfile, Registry); got != "" {
			t.Fatalf("after logout the auth file still has %q", got)
		}
		AssertOneLineError(t, e.Run(t, "logout", "--authfile", authfile, Registry), 125, "not logged into "+Registry)
	})
}

// TestLoginAuthRegistry needs htpasswd (apache2-utils) for a registry with auth.
func TestLoginAuthRegistry(t *testing.T) {
	htpasswdBin, err := exec.LookPath("htpasswd")
	if err != nil {
		t.Skip("htpasswd (apache2-utils) is not installed: cannot run a registry with auth")
	}
	const addr = "127.0.0.1:5001"
	dir := filepath.Join(SuiteDir, "registry-auth")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pwfile := filepath.Join(dir, "htpasswd")
	if out, err := exec.Command(htpasswdBin, "-Bbc", pwfile, "alice", "s3cret").CombinedOutput(); err != nil {
		t.Fatalf("htpasswd: %v: %s", err, out)
	}
	reg, err := StartRegistry(addr, dir, pwfile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Stop)

	ForEachMode(t, func(t *testing.T, e *Env) {
		e.PullBusybox(t)
		authfile := filepath.Join(e.Dir, Unique("auth")+".json")
		if err := os.WriteFile(authfile, []byte(`{"auths":{}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chown(authfile, e.UID, -1)
		target := addr + "/private/" + Unique("img-"+e.Mode) + ":1"

		AssertOneLineError(t, e.Run(t, "push", "--tls-verify=false", "--authfile", authfile, BusyboxRef, target), 125, "authentication required")
		r := e.Run(t, "login", "--username", "alice", "--password", "wrong", "--tls-verify=false", "--authfile", authfile, addr)
		AssertOneLineError(t, r, 125, "invalid username/password")
		if got := authEntry(t, authfile, addr); got != "" {
			t.Fatalf("a refused login was stored: %q", got)
		}
		r = e.RunStdin(t, strings.NewReader("s3cret\n"), "login", "--username", "alice", "--password-stdin", "--tls-verify=false", "--authfile", authfile, addr)
		if r.Code != 0 || !strings.Contains(r.Stdout, "Login Succeeded!") {
			t.Fatalf("login with --password-stdin:\n%s", r)
		}
		if got := authEntry(t, authfile, addr); got != "alice:s3cret" {
			t.Fatalf("auth file entry = %q, want alice:s3cret", got)
		}
		e.RunOK(t, "push", "--tls-verify=false", "--authfile", authfile, BusyboxRef, target)
		WantNotContains(t, e.ImageNames(t), target, "images after push (push adds no local name)")
		if got := strings.TrimSpace(e.RunOK(t, "pull", "--tls-verify=false", "--authfile", authfile, target).Stdout); got != Busybox.ID {
			t.Fatalf("pull of the pushed image: %q, want %s", got, Busybox.ID)
		}
		e.RunOK(t, "rmi", target)
		r = e.RunOK(t, "logout", "--authfile", authfile, "--all")
		if got := authEntry(t, authfile, addr); got != "" {
			t.Fatalf("after logout --all the auth file still has %q", got)
		}
		AssertOneLineError(t, e.Run(t, "pull", "--tls-verify=false", "--authfile", authfile, target), 125, "authentication required")
		// --creds works without a login.
		e.RunOK(t, "pull", "--tls-verify=false", "--creds", "alice:s3cret", target)
		e.RunOK(t, "rmi", target)
	})
}

// authEntry decodes the "auth" of registry in a containers auth.json ("" if none).
func authEntry(t *testing.T, path, registry string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("auth file: %v", err)
	}
	var f struct {
		Auths map[string]struct {
			Auth string `json:"auth"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("auth file %s is not JSON: %v\n%s", path, err, data)
	}
	a, ok := f.Auths[registry]
	if !ok {
		return ""
	}
	dec, err := base64.StdEncoding.DecodeString(a.Auth)
	if err != nil {
		t.Fatalf("auth of %s is not base64: %q", registry, a.Auth)
	}
	return string(dec)
}

// dirSize is the total size of regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}
