// Package e2e runs the real skiff binary end to end, each test as root and as
// the rootless user skiffuser, against a private registry on 127.0.0.1:5000.
// The same tests run against podman as the reference implementation:
//
//	SKIFF_TEST_BINARY=podman go test -count=1 -v ./test/e2e/
//
// This file is the harness: TestMain (users, test images, registry, temp
// dirs), the Env type that runs the binary in a mode, and shared assertions.
package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"
)

const (
	// RootlessUser has the subordinate range subuidLine in /etc/subuid and /etc/subgid.
	RootlessUser = "skiffuser"
	// NoSubUser has no subuid/subgid lines: the single-mapping fallback.
	NoSubUser  = "skiffnosub"
	subidStart = 200000
	subidCount = 65536

	// Registry is the only registry the tests talk to, started by TestMain.
	Registry = "127.0.0.1:5000"
	// BusyboxRef is the test image (test/testimage) as pushed to Registry.
	BusyboxRef = Registry + "/skiff/busybox:latest"
	// BigRef is the multi-layer big test image (-big-mb 60) in Registry.
	BigRef = Registry + "/skiff/big:latest"

	cmdPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

	// DefaultTimeout bounds each command so a hang fails one test, not the suite.
	DefaultTimeout = 2 * time.Minute
)

var (
	// Binary is the engine under test: $SKIFF_TEST_BINARY or <repo>/bin/skiff.
	Binary string
	// RepoRoot is the repository root (test/e2e/../..).
	RepoRoot string
	// SuiteDir holds every temp file of this run: /tmp/skiff-e2e-*/.
	SuiteDir string
	// Busybox and Big describe the test images as built by test/testimage.
	Busybox, Big *Layout

	modeEnvs = map[string]*Env{}
	isoSeq   struct {
		sync.Mutex
		n int
	}
)

// IsPodman tells whether the suite runs against podman (the oracle).
func IsPodman() bool { return filepath.Base(Binary) == "podman" }

// SkipIfPodman skips a test only when running against podman, for a podman
// bug or host quirk that skiff must not copy; reason says which.
func SkipIfPodman(t *testing.T, reason string) {
	t.Helper()
	if IsPodman() {
		t.Skip("podman oracle: " + reason)
	}
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "e2e: "+format+"\n", args...)
		return 1
	}
	if os.Geteuid() != 0 {
		return fail("must run as root: the tests run the binary as root and, through runuser, as %s", RootlessUser)
	}
	wd, err := os.Getwd()
	if err != nil {
		return fail("%v", err)
	}
	RepoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	if _, err := os.Stat(filepath.Join(RepoRoot, "go.mod")); err != nil {
		return fail("cannot find the repo root from %s (expected test/e2e): %v", wd, err)
	}
	Binary = os.Getenv("SKIFF_TEST_BINARY")
	if Binary == "" {
		Binary = filepath.Join(RepoRoot, "bin", "skiff")
	}
	if !strings.Contains(Binary, "/") {
		p, err := exec.LookPath(Binary)
		if err != nil {
			return fail("SKIFF_TEST_BINARY=%s not found in PATH", Binary)
		}
		Binary = p
	}
	if st, err := os.Stat(Binary); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return fail("binary %s not found or not executable: run make build (or set SKIFF_TEST_BINARY)", Binary)
	}
	for _, tool := range []string{"runuser", "skopeo", "docker-registry"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fail("%s is not installed: run hack/setup.sh", tool)
		}
	}
	// One suite at a time per machine: they share 127.0.0.1:5000 and the
	// rootless users' pause processes.
	lock, err := os.OpenFile("/tmp/skiff-e2e.lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fail("%v", err)
	}
	defer lock.Close()
	if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		fmt.Fprintln(os.Stderr, "e2e: waiting for another e2e run on this machine to finish (/tmp/skiff-e2e.lock)")
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
			return fail("locking /tmp/skiff-e2e.lock: %v", err)
		}
	}
	if err := ensureUsers(); err != nil {
		return fail("creating test users: %v", err)
	}

	SuiteDir, err = os.MkdirTemp("/tmp", "skiff-e2e-")
	if err != nil {
		return fail("%v", err)
	}
	if err := os.Chmod(SuiteDir, 0o755); err != nil {
		return fail("%v", err)
	}
	keep := os.Getenv("SKIFF_TEST_KEEP") != ""
	defer func() {
		if keep {
			fmt.Fprintf(os.Stderr, "e2e: SKIFF_TEST_KEEP set, leaving %s\n", SuiteDir)
			return
		}
		if err := RemoveTree(SuiteDir); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: cleanup: %v\n", err)
		}
	}()

	if err := buildTestImages(); err != nil {
		return fail("building test images: %v", err)
	}
	reg, err := StartRegistry(Registry, filepath.Join(SuiteDir, "registry"), "")
	if err != nil {
		return fail("%v", err)
	}
	defer reg.Stop()
	for ref, dir := range map[string]string{BusyboxRef: Busybox.Dir, BigRef: Big.Dir} {
		if err := skopeoCopy("oci:"+dir+":latest", "docker://"+ref); err != nil {
			return fail("pushing %s: %v", ref, err)
		}
	}

	for _, mode := range []string{"root", "rootless"} {
		e, err := newEnv(mode, filepath.Join(SuiteDir, mode))
		if err != nil {
			return fail("setting up %s env: %v", mode, err)
		}
		modeEnvs[mode] = e
	}
	code := m.Run()

	// Stop the pause processes the rootless runs left behind (they would
	// otherwise outlive the suite and pin its namespaces).
	for _, u := range []string{RootlessUser, NoSubUser} {
		e, err := newUserEnv(u, filepath.Join(SuiteDir, "migrate-"+u))
		if err == nil {
			e.runCtx(context.Background(), nil, []string{"system", "migrate"})
		}
	}
	return code
}

// ensureUsers creates skiffuser and skiffnosub the way hack/setup.sh does.
func ensureUsers() error {
	for _, u := range []string{RootlessUser, NoSubUser} {
		if _, err := user.Lookup(u); err == nil {
			continue
		}
		if out, err := exec.Command("useradd", "-m", "-s", "/bin/bash", u).CombinedOutput(); err != nil {
			return fmt.Errorf("useradd %s: %v: %s", u, err, out)
		}
	}
	want := fmt.Sprintf("%s:%d:%d", RootlessUser, subidStart, subidCount)
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		data, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		var lines []string
		changed := false
		for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			switch {
			case l == "":
				continue
			case l == want:
			case strings.HasPrefix(l, RootlessUser+":"), strings.HasPrefix(l, NoSubUser+":"):
				changed = true
				continue
			}
			lines = append(lines, l)
		}
		has := false
		for _, l := range lines {
			has = has || l == want
		}
		if !has {
			lines = append(lines, want)
			changed = true
		}
		if changed {
			if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// buildTestImages makes sure test/testimage/out/busybox exists and builds the
// big image into the suite dir, then copies both where the rootless user can
// read them.
func buildTestImages() error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	gen := filepath.Join(SuiteDir, "testimage")
	build := exec.Command(goBin, "build", "-o", gen, "./test/testimage")
	build.Dir = RepoRoot
	build.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./test/testimage: %v\n%s", err, out)
	}
	out := filepath.Join(RepoRoot, "test", "testimage", "out", "busybox")
	if _, err := os.Stat(filepath.Join(out, "index.json")); err != nil {
		if b, err := exec.Command(gen, "-o", out).CombinedOutput(); err != nil {
			return fmt.Errorf("testimage -o %s: %v\n%s", out, err, b)
		}
	}
	imgDir := filepath.Join(SuiteDir, "images")
	if err := os.MkdirAll(imgDir, 0o755); err != nil {
		return err
	}
	bb := filepath.Join(imgDir, "busybox")
	if b, err := exec.Command("cp", "-a", out, bb).CombinedOutput(); err != nil {
		return fmt.Errorf("cp: %v: %s", err, b)
	}
	big := filepath.Join(imgDir, "big")
	if b, err := exec.Command(gen, "-big-mb", "60", "-o", big).CombinedOutput(); err != nil {
		return fmt.Errorf("testimage -big-mb 60: %v\n%s", err, b)
	}
	exec.Command("chmod", "-R", "a+rX", imgDir).Run()
	if Busybox, err = ReadLayout(bb); err != nil {
		return err
	}
	if Big, err = ReadLayout(big); err != nil {
		return err
	}
	return nil
}

func skopeoCopy(src, dst string) error {
	out, err := exec.Command("skopeo", "copy", "--dest-tls-verify=false", src, dst).CombinedOutput()
	if err != nil {
		return fmt.Errorf("skopeo copy %s %s: %v\n%s", src, dst, err, out)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Registry

// RegistryProc is a docker-registry (distribution 2.x) serving on loopback.
type RegistryProc struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRegistry runs Debian's docker-registry on addr with storage in dir. A
// non-empty htpasswd file turns on basic auth.
func StartRegistry(addr, dir, htpasswd string) (*RegistryProc, error) {
	if l, err := net.Listen("tcp", addr); err != nil {
		if resp, herr := http.Get("http://" + addr + "/v2/"); herr == nil {
			resp.Body.Close()
			return nil, fmt.Errorf("%s is already taken by a registry (a previous run? hack/registry.sh?): stop it first", addr)
		}
		return nil, fmt.Errorf("%s is taken by another process: %v", addr, err)
	} else {
		l.Close()
	}
	if err := os.MkdirAll(filepath.Join(dir, "storage"), 0o755); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n",
		filepath.Join(dir, "storage"), addr)
	if htpasswd != "" {
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: skiff-e2e\n    path: %s\n", htpasswd)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command("docker-registry", "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &RegistryProc{Addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(r.done) }()
	want := http.StatusOK
	if htpasswd != "" {
		want = http.StatusUnauthorized
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			log, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			return nil, fmt.Errorf("docker-registry exited early:\n%s", log)
		default:
		}
		if resp, err := http.Get("http://" + addr + "/v2/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return r, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.Stop()
	return nil, fmt.Errorf("docker-registry did not answer on http://%s/v2/ within 15s", addr)
}

// Stop kills the registry (only the process this harness started).
func (r *RegistryProc) Stop() {
	if r == nil || r.cmd.Process == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
	}
}

// ---------------------------------------------------------------------------
// OCI layouts of the test images, to know the expected IDs and digests.

// Layout is what the tests need to know about an OCI layout's image.
type Layout struct {
	Dir            string
	ManifestDigest string // sha256:...
	ID             string // config digest without "sha256:": the image ID
	Config         struct {
		Created      time.Time `json:"created"`
		Architecture string    `json:"architecture"`
		OS           string    `json:"os"`
		Config       struct {
			Cmd        []string          `json:"Cmd"`
			Env        []string          `json:"Env"`
			WorkingDir string            `json:"WorkingDir"`
			Labels     map[string]string `json:"Labels"`
		} `json:"config"`
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
		History []struct {
			Created    time.Time `json:"created"`
			CreatedBy  string    `json:"created_by"`
			EmptyLayer bool      `json:"empty_layer"`
		} `json:"history"`
	}
}

// ReadLayout reads the first manifest of the OCI layout in dir.
func ReadLayout(dir string) (*Layout, error) {
	blob := func(digest string, v any) error {
		algo, hex, _ := strings.Cut(digest, ":")
		data, err := os.ReadFile(filepath.Join(dir, "blobs", algo, hex))
		if err != nil {
			return err
		}
		return json.Unmarshal(data, v)
	}
	var idx struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &idx); err != nil || len(idx.Manifests) == 0 {
		return nil, fmt.Errorf("%s/index.json: no manifest (%v)", dir, err)
	}
	l := &Layout{Dir: dir, ManifestDigest: idx.Manifests[0].Digest}
	var man struct {
		Config struct{ Digest string } `json:"config"`
	}
	if err := blob(l.ManifestDigest, &man); err != nil {
		return nil, err
	}
	l.ID = strings.TrimPrefix(man.Config.Digest, "sha256:")
	if err := blob(man.Config.Digest, &l.Config); err != nil {
		return nil, err
	}
	return l, nil
}

// ---------------------------------------------------------------------------
// Env: the binary in one mode with its own storage.

// Env runs the binary as root or as a rootless user, with private storage.
type Env struct {
	Mode           string // "root" or "rootless"
	User           string // "" for root
	UID            int
	Dir            string // private dir, owned by User; commands run in it
	GraphRoot      string
	RunRoot        string
	StorageConf    string
	RegistriesConf string
	ExtraEnv       []string // added to every command's environment
	Timeout        time.Duration
}

// Rootless tells whether e runs the binary as a non-root user.
func (e *Env) Rootless() bool { return e.User != "" }

func newEnv(mode, dir string) (*Env, error) {
	switch mode {
	case "root":
		return newUserEnv("", dir)
	case "rootless":
		return newUserEnv(RootlessUser, dir)
	}
	return nil, fmt.Errorf("unknown mode %q", mode)
}

// newUserEnv sets up dir with storage.conf and registries.conf for user ("" =
// root). Rootless dirs are owned by the user; their parents are 0755.
func newUserEnv(userName, dir string) (*Env, error) {
	e := &Env{Mode: "root", User: userName, Dir: dir, Timeout: DefaultTimeout}
	uid, gid := 0, 0
	if userName != "" {
		e.Mode = "rootless"
		u, err := user.Lookup(userName)
		if err != nil {
			return nil, err
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	e.UID = uid
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for d := filepath.Dir(dir); strings.HasPrefix(d, SuiteDir); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	e.GraphRoot = filepath.Join(dir, "graph")
	e.RunRoot = filepath.Join(dir, "run")
	e.StorageConf = filepath.Join(dir, "storage.conf")
	e.RegistriesConf = filepath.Join(dir, "registries.conf")
	// rootless_storage_path: containers/storage ignores graphroot for a
	// non-root user unless the file is the user's own storage.conf; podman
	// honours rootless_storage_path. No driver: the engine picks.
	storageConf := fmt.Sprintf("[storage]\ngraphroot = %q\nrunroot = %q\nrootless_storage_path = %q\n",
		e.GraphRoot, e.RunRoot, e.GraphRoot)
	registriesConf := fmt.Sprintf(`unqualified-search-registries = [%q]

[[registry]]
location = %q
insecure = true

[aliases]
"aliased" = "%s/skiff/busybox"
`, Registry, Registry, Registry)
	for path, content := range map[string]string{e.StorageConf: storageConf, e.RegistriesConf: registriesConf} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return e, nil
}

// ModeEnv returns the suite-wide Env of mode ("root" or "rootless"), whose
// storage is shared by all tests: use unique names, and Isolated for tests
// that change or count everything (rmi -a, prune, images -q).
func ModeEnv(mode string) *Env { return modeEnvs[mode] }

// ForEachMode runs fn as subtests "root" and "rootless".
func ForEachMode(t *testing.T, fn func(t *testing.T, e *Env)) {
	t.Helper()
	for _, mode := range []string{"root", "rootless"} {
		t.Run(mode, func(t *testing.T) { fn(t, modeEnvs[mode]) })
	}
}

// Isolated returns a copy of e with its own fresh, empty storage, removed when
// the test ends.
func (e *Env) Isolated(t *testing.T) *Env {
	t.Helper()
	isoSeq.Lock()
	isoSeq.n++
	n := isoSeq.n
	isoSeq.Unlock()
	dir := filepath.Join(SuiteDir, "iso", fmt.Sprintf("%s-%d", e.Mode, n))
	ne, err := newUserEnv(e.User, dir)
	if err != nil {
		t.Fatalf("isolated env: %v", err)
	}
	ne.ExtraEnv = append([]string(nil), e.ExtraEnv...)
	t.Cleanup(func() {
		if os.Getenv("SKIFF_TEST_KEEP") == "" {
			if err := RemoveTree(dir); err != nil {
				t.Logf("cleanup: %v", err)
			}
		}
	})
	return ne
}

// RemoveTree unmounts whatever is mounted under dir (a root engine's overlay
// driver leaves its home bind-mounted on itself) and removes dir.
func RemoveTree(dir string) error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var mounts []string
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		// Field 5 is the mount point, with octal escapes for blanks.
		mp := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			mounts = append(mounts, mp)
		}
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	for _, mp := range mounts {
		if err := syscall.Unmount(mp, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			return fmt.Errorf("unmount %s: %w", mp, err)
		}
	}
	return os.RemoveAll(dir)
}

// MkdirOwned makes a directory in e.Dir owned by e's user and returns it.
func (e *Env) MkdirOwned(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(e.Dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, e.UID, -1); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Result is the outcome of one command.
type Result struct {
	Args           []string
	Stdout, Stderr string
	Code           int // exit code; -1 if killed or not started
}

func (r Result) String() string {
	return fmt.Sprintf("$ %s\n[exit %d]\n--- stdout:\n%s--- stderr:\n%s", strings.Join(r.Args, " "), r.Code, r.Stdout, r.Stderr)
}

// Lines returns the non-empty lines of stdout.
func (r Result) Lines() []string { return nonEmptyLines(r.Stdout) }

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// Env returns the environment of a command: a clean login-like environment
// (no XDG_RUNTIME_DIR, as after su) plus the config files and ExtraEnv.
func (e *Env) Env() []string {
	home, name := "/root", "root"
	if e.Rootless() {
		home, name = "/home/"+e.User, e.User
	}
	env := []string{"HOME=" + home, "USER=" + name, "LOGNAME=" + name, cmdPath,
		"CONTAINERS_STORAGE_CONF=" + e.StorageConf,
		"CONTAINERS_REGISTRIES_CONF=" + e.RegistriesConf}
	return append(env, e.ExtraEnv...)
}

// Command builds the command that runs the binary with args in e, in its own
// process group so that it can be killed with everything it started.
func (e *Env) Command(ctx context.Context, args ...string) *exec.Cmd {
	argv := append([]string{"env", "-i"}, e.Env()...)
	argv = append(argv, Binary)
	argv = append(argv, args...)
	if e.Rootless() {
		argv = append([]string{"runuser", "-u", e.User, "--"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = e.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (e *Env) runCtx(ctx context.Context, stdin io.Reader, args []string) Result {
	cmd := e.Command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &stdout, &stderr, stdin
	err := cmd.Run()
	r := Result{Args: append([]string{filepath.Base(Binary)}, args...), Code: -1}
	var ee *exec.ExitError
	switch {
	case err == nil:
		r.Code = 0
	case errors.As(err, &ee) && ee.Exited():
		r.Code = ee.ExitCode()
	case ctx.Err() != nil:
		stderr.WriteString(fmt.Sprintf("\n[e2e: killed after timeout: %v]\n", ctx.Err()))
	default:
		stderr.WriteString(fmt.Sprintf("\n[e2e: %v]\n", err))
	}
	r.Stdout, r.Stderr = stdout.String(), stderr.String()
	return r
}

// Run runs the binary with args and returns the result, whatever it is.
func (e *Env) Run(t *testing.T, args ...string) Result {
	t.Helper()
	return e.RunStdin(t, nil, args...)
}

// RunStdin is Run with stdin.
func (e *Env) RunStdin(t *testing.T, stdin io.Reader, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e.Timeout)
	defer cancel()
	start := time.Now()
	r := e.runCtx(ctx, stdin, args)
	t.Logf("[%s] $ %s  (exit %d, %.1fs)", e.Mode, strings.Join(r.Args, " "), r.Code, time.Since(start).Seconds())
	if r.Code == -1 {
		t.Fatalf("command did not finish:\n%s", r)
	}
	return r
}

// RunOK runs the binary and fails the test unless it exits 0.
func (e *Env) RunOK(t *testing.T, args ...string) Result {
	t.Helper()
	r := e.Run(t, args...)
	if r.Code != 0 {
		t.Fatalf("command failed:\n%s", r)
	}
	return r
}

// Out runs the binary successfully and returns stdout without surrounding space.
func (e *Env) Out(t *testing.T, args ...string) string {
	t.Helper()
	return strings.TrimSpace(e.RunOK(t, args...).Stdout)
}

// MustFail runs the binary, expects exit code want and an error message (see
// AssertError), and returns the result.
func (e *Env) MustFail(t *testing.T, want int, args ...string) Result {
	t.Helper()
	r := e.Run(t, args...)
	AssertError(t, r, want)
	return r
}

// Must125 is MustFail with podman's generic error exit code.
func (e *Env) Must125(t *testing.T, args ...string) Result {
	t.Helper()
	return e.MustFail(t, 125, args...)
}

// isLogLine tells whether a stderr line is a logrus-style log line
// (time="..." level=warning msg="..."), which podman prints besides errors.
func isLogLine(l string) bool {
	return strings.HasPrefix(l, "time=\"") && strings.Contains(l, " level=")
}

// ErrorLine returns the one stderr line starting "Error: ".
func ErrorLine(t *testing.T, r Result) string {
	t.Helper()
	var found []string
	for _, l := range strings.Split(r.Stderr, "\n") {
		if strings.HasPrefix(l, "Error: ") {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one stderr line starting %q, got %d:\n%s", "Error: ", len(found), r)
	}
	return found[0]
}

// AssertError checks the exit code and that stderr has exactly one line
// starting "Error: ", followed only by indented continuation lines or log lines.
func AssertError(t *testing.T, r Result, code int) string {
	t.Helper()
	if r.Code != code {
		t.Fatalf("want exit code %d, got %d:\n%s", code, r.Code, r)
	}
	line := ErrorLine(t, r)
	after := false
	for _, l := range strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n") {
		if l == line {
			after = true
			continue
		}
		if after && l != "" && !isLogLine(l) && l[0] != ' ' && l[0] != '\t' {
			t.Fatalf("stderr goes on after the Error: line with %q:\n%s", l, r)
		}
	}
	return line
}

// AssertOneLineError is AssertError where the message must be a single line.
func AssertOneLineError(t *testing.T, r Result, code int, substr string) {
	t.Helper()
	line := AssertError(t, r, code)
	rest := r.Stderr[strings.Index(r.Stderr, line)+len(line):]
	for _, l := range nonEmptyLines(rest) {
		if !isLogLine(l) {
			t.Fatalf("error message is not one line (%q follows):\n%s", l, r)
		}
	}
	if !strings.Contains(line, substr) {
		t.Fatalf("error line %q does not mention %q", line, substr)
	}
}

// ---------------------------------------------------------------------------
// Shared steps and checks

var uniqSeq struct {
	sync.Mutex
	n int
}

// Unique returns a name unique in this suite run, e.g. "tagged-7": the
// registry and the per-mode storages live as long as the suite.
func Unique(prefix string) string {
	uniqSeq.Lock()
	defer uniqSeq.Unlock()
	uniqSeq.n++
	return fmt.Sprintf("%s-%d", prefix, uniqSeq.n)
}

// PullBusybox pulls the test image from the registry and returns its ID.
func (e *Env) PullBusybox(t *testing.T) string {
	t.Helper()
	e.RunOK(t, "pull", "-q", BusyboxRef)
	id := e.ImageID(t, BusyboxRef)
	if id != Busybox.ID {
		t.Fatalf("pulled %s has ID %s, want the config digest %s", BusyboxRef, id, Busybox.ID)
	}
	return id
}

// ImageID returns the full ID of image (image inspect --format {{.Id}}).
func (e *Env) ImageID(t *testing.T, image string) string {
	t.Helper()
	return e.Out(t, "image", "inspect", "--format", "{{.Id}}", image)
}

// ImageNames lists "repository:tag" of all images (images --format).
func (e *Env) ImageNames(t *testing.T, extra ...string) []string {
	t.Helper()
	args := append([]string{"images", "--format", "{{.Repository}}:{{.Tag}}"}, extra...)
	return e.RunOK(t, args...).Lines()
}

// InspectImage returns the parsed `image inspect` JSON of one image.
func (e *Env) InspectImage(t *testing.T, image string) map[string]any {
	t.Helper()
	r := e.RunOK(t, "image", "inspect", image)
	var arr []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &arr); err != nil {
		t.Fatalf("image inspect output is not a JSON array: %v\n%s", err, r)
	}
	if len(arr) != 1 {
		t.Fatalf("image inspect %s: want 1 object, got %d", image, len(arr))
	}
	return arr[0]
}

// Contains tells whether list has s.
func Contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// WantContains fails the test unless list has s.
func WantContains(t *testing.T, list []string, s, what string) {
	t.Helper()
	if !Contains(list, s) {
		t.Fatalf("%s: want %q in %q", what, s, list)
	}
}

// WantNotContains fails the test if list has s.
func WantNotContains(t *testing.T, list []string, s, what string) {
	t.Helper()
	if Contains(list, s) {
		t.Fatalf("%s: want no %q in %q", what, s, list)
	}
}

// TarFile is one regular file or directory (name ends in "/") of WriteTar.
type TarFile struct {
	Name    string
	Content string
}

// WriteTar writes an uncompressed tarball of files to path, readable by
// everyone, with its mtime set to mtime (import takes the image's Created
// from it).
func WriteTar(t *testing.T, path string, mtime time.Time, files ...TarFile) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.Name, Mode: 0o644, ModTime: mtime, Typeflag: tar.TypeReg, Size: int64(len(f.Content))}
		if strings.HasSuffix(f.Name, "/") {
			h.Mode, h.Typeflag, h.Size = 0o755, tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.Content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// ImportImage imports a one-file tarball (content makes the image distinct,
// mtime sets its Created) as name ("" = dangling) and returns its ID.
func (e *Env) ImportImage(t *testing.T, name, content string, mtime time.Time, changes ...string) string {
	t.Helper()
	path := filepath.Join(e.Dir, Unique("rootfs")+".tar")
	WriteTar(t, path, mtime, TarFile{Name: "data/"}, TarFile{Name: "data/file", Content: content})
	args := []string{"import", "-q"}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	args = append(args, path)
	if name != "" {
		args = append(args, name)
	}
	out := e.Out(t, args...)
	id := strings.TrimPrefix(out, "sha256:")
	if len(id) != 64 {
		t.Fatalf("import printed %q, want sha256:<64 hex>", out)
	}
	return id
}

// Table lays out rows the way podman's tables are: text/tabwriter with
// minwidth 12, tabwidth 2, padding 2, blanks.
func Table(rows [][]string) string {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 12, 2, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	return buf.String()
}

// TarEntries reads the named files of a tar archive (others are listed with
// empty content) and returns name -> content.
func TarEntries(t *testing.T, path string, want ...string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s is not a tar archive: %v", path, err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		out[name] = ""
		if Contains(want, name) {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			out[name] = string(b)
		}
	}
}

// sha256File returns the hex sha256 of a file.
func sha256File(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
