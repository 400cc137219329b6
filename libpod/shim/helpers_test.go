package shim_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skiffcontainers/skiff/libpod/shim"
)

// The tests run real containers: crun as root, a busybox rootfs, the shim built from ./cmd/skiff-shim.

var (
	setupOnce sync.Once
	setupErr  string // skip reason or failure
	setupFail bool
	shimBin   string
	crunPath  string
	rootfs    string
	workDir   string // short, so that socket paths fit
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		cliHelper()
		return
	}
	code := m.Run()
	if workDir != "" {
		// Leftover runtime state of failed tests: delete it before removing the directory.
		if out, err := exec.Command(crunPath, "--root", filepath.Join(workDir, "rtroot"), "list", "-q").Output(); err == nil {
			for _, id := range strings.Fields(string(out)) {
				_ = exec.Command(crunPath, "--root", filepath.Join(workDir, "rtroot"), "delete", "-f", id).Run()
			}
		}
		os.RemoveAll(workDir)
	}
	os.Exit(code)
}

func setup(t *testing.T) {
	t.Helper()
	setupOnce.Do(func() {
		if os.Geteuid() != 0 {
			setupErr = "needs root: runs real containers with crun"
			return
		}
		// SKIFF_SHIM_TEST_RUNTIME=runc runs the suite with another runtime.
		rt := os.Getenv("SKIFF_SHIM_TEST_RUNTIME")
		if rt == "" {
			rt = "crun"
		}
		p, err := exec.LookPath(rt)
		if err != nil {
			setupErr = rt + " is not installed (apt-get install " + rt + ")"
			return
		}
		crunPath = p
		busybox := "/bin/busybox"
		if out, err := exec.Command("file", "-L", busybox).Output(); err == nil && !strings.Contains(string(out), "statically linked") {
			setupErr = "/bin/busybox is not static (apt-get install busybox-static)"
			return
		} else if _, err := os.Stat(busybox); err != nil {
			setupErr = "no /bin/busybox (apt-get install busybox-static)"
			return
		}
		if workDir, err = os.MkdirTemp("/tmp", "skt"); err != nil {
			setupErr, setupFail = err.Error(), true
			return
		}
		shimBin = filepath.Join(workDir, "skiff-shim")
		_, file, _, _ := runtime.Caller(0)
		repo := filepath.Join(filepath.Dir(file), "..", "..")
		build := exec.Command("go", "build", "-o", shimBin, "./cmd/skiff-shim")
		build.Dir = repo
		build.Env = append(os.Environ(), "GOTOOLCHAIN=local")
		if out, err := build.CombinedOutput(); err != nil {
			setupErr, setupFail = "building skiff-shim: "+err.Error()+"\n"+string(out), true
			return
		}
		rootfs = filepath.Join(workDir, "rootfs")
		for _, d := range []string{"bin", "proc", "dev", "sys", "tmp", "etc"} {
			if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
				setupErr, setupFail = err.Error(), true
				return
			}
		}
		data, err := os.ReadFile(busybox)
		if err == nil {
			err = os.WriteFile(filepath.Join(rootfs, "bin", "busybox"), data, 0o755)
		}
		if err != nil {
			setupErr, setupFail = err.Error(), true
			return
		}
		for _, app := range []string{"sh", "echo", "cat", "sleep", "tty", "stty", "printf", "seq", "kill", "head", "true", "false", "env", "yes", "dd", "tail", "tr"} {
			_ = os.Symlink("busybox", filepath.Join(rootfs, "bin", app))
		}
	})
	if setupErr != "" {
		if setupFail {
			t.Fatal(setupErr)
		}
		t.Skip(setupErr)
	}
}

type ctr struct {
	t      *testing.T
	id     string
	runDir string
	bundle string
	cfg    shim.Config
	proc   *shim.Process
}

// newCtr makes a bundle running args; mutate cfg before spawn.
func newCtr(t *testing.T, terminal bool, args ...string) *ctr {
	t.Helper()
	setup(t)
	var b [32]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	dir, err := os.MkdirTemp(workDir, "c")
	if err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(dir, "r")
	if err := os.Mkdir(runDir, 0o700); err != nil {
		t.Fatal(err)
	}
	spec := map[string]any{
		"ociVersion": "1.0.2",
		"process": map[string]any{
			"terminal":        terminal,
			"user":            map[string]any{"uid": 0, "gid": 0},
			"args":            args,
			"env":             []string{"PATH=/bin", "TERM=xterm"},
			"cwd":             "/",
			"rlimits":         []map[string]any{{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}},
			"noNewPrivileges": true,
		},
		"root":     map[string]any{"path": rootfs, "readonly": true},
		"hostname": "skiff-test",
		"mounts": []map[string]any{
			{"destination": "/proc", "type": "proc", "source": "proc"},
			{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "nodev", "mode=1777"}},
		},
		"linux": map[string]any{
			"namespaces": []map[string]any{{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}},
		},
	}
	data, _ := json.MarshalIndent(spec, "", " ")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	c := &ctr{t: t, id: id, runDir: runDir, bundle: dir}
	c.cfg = shim.Config{
		ID:          id,
		Runtime:     crunPath,
		RuntimeArgs: []string{"--root", filepath.Join(workDir, "rtroot")},
		Bundle:      dir,
		RunDir:      runDir,
		LogDriver:   "k8s-file",
		LogPath:     filepath.Join(dir, "ctr.log"),
		Terminal:    terminal,
	}
	t.Cleanup(c.cleanup)
	return c
}

// editSpec changes the bundle's config.json.
func (c *ctr) editSpec(edit func(spec map[string]any)) {
	c.t.Helper()
	path := filepath.Join(c.bundle, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		c.t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		c.t.Fatal(err)
	}
	edit(spec)
	data, _ = json.MarshalIndent(spec, "", " ")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *ctr) spawn() {
	c.t.Helper()
	p, err := shim.Spawn(shimBin, c.cfg)
	if err != nil {
		c.t.Fatalf("Spawn: %v", err)
	}
	c.proc = p
}

func (c *ctr) runtime(verb string, args ...string) error {
	full := append([]string{"--root", filepath.Join(workDir, "rtroot"), verb}, args...)
	out, err := exec.Command(crunPath, full...).CombinedOutput()
	if err != nil {
		c.t.Logf("crun %s: %v: %s", verb, err, out)
	}
	return err
}

func (c *ctr) start() {
	c.t.Helper()
	if err := c.runtime("start", c.id); err != nil {
		c.t.Fatal("crun start failed")
	}
}

func (c *ctr) wait(timeout time.Duration) *shim.ExitInfo {
	c.t.Helper()
	ctx, cancel := contextWithTimeout(timeout)
	defer cancel()
	info, err := shim.WaitExit(ctx, c.runDir)
	if err != nil {
		c.t.Fatalf("WaitExit: %v", err)
	}
	return info
}

func (c *ctr) logText() string {
	data, err := os.ReadFile(c.cfg.LogPath)
	if err != nil {
		c.t.Fatal(err)
	}
	return string(data)
}

func (c *ctr) cleanup() {
	_ = exec.Command(crunPath, "--root", filepath.Join(workDir, "rtroot"), "delete", "-f", c.id).Run()
	if c.proc != nil {
		// A shim still supervising means a failed test: do not leave it behind.
		if _, err := shim.ReadExit(c.runDir); err != nil {
			_ = syscall.Kill(c.proc.ShimPID, syscall.SIGKILL)
		}
	}
}
