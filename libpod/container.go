package libpod

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/libpod/shim"
	"github.com/skiffcontainers/skiff/libpod/state"
	"go.podman.io/storage"
)

const kindContainer = "containers"

// Container statuses, podman's words.
const (
	StatusCreated = "created"
	// StatusInitialized: the runtime created the container (init), its process has not started.
	StatusInitialized = "initialized"
	StatusRunning     = "running"
	StatusPaused      = "paused"
	StatusExited      = "exited"
	StatusStopped     = "stopped"
)

// ContainerConfig is what create decided; it does not change afterwards (but for the name).
type ContainerConfig struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Image         string            `json:"image"`     // as the user named it
	ImageID       string            `json:"imageId"`   // the storage image
	ImageName     string            `json:"imageName"` // the resolved name
	CreateCommand []string          `json:"createCommand,omitempty"`
	Created       time.Time         `json:"created"`
	Spec          SpecOptions       `json:"spec"`
	Labels        map[string]string `json:"labels,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	StopSignal    string            `json:"stopSignal,omitempty"`
	StopTimeout   uint              `json:"stopTimeout"`
	Remove        bool              `json:"remove,omitempty"`
	LogDriver     string            `json:"logDriver"`
	LogPath       string            `json:"logPath,omitempty"`
	LogMaxSize    int64             `json:"logMaxSize,omitempty"`
	OCIRuntime    string            `json:"ociRuntime"`
	NetworkMode   string            `json:"networkMode"`
	CidFile       string            `json:"cidFile,omitempty"`
	ShimPidFile   string            `json:"conmonPidFile,omitempty"` // --conmon-pidfile: where the shim's pid is written
	Rootless      bool              `json:"rootless,omitempty"`
}

// ContainerState is what changes while the container lives.
type ContainerState struct {
	Status       string    `json:"status"`
	Pid          int       `json:"pid,omitempty"`
	ShimPid      int       `json:"shimPid,omitempty"`
	ExitCode     int       `json:"exitCode"`
	OOMKilled    bool      `json:"oomKilled,omitempty"`
	StartedAt    time.Time `json:"startedAt,omitempty"`
	FinishedAt   time.Time `json:"finishedAt,omitempty"`
	Mountpoint   string    `json:"mountpoint,omitempty"`
	Error        string    `json:"error,omitempty"`
	RestartCount int       `json:"restartCount,omitempty"`
	// Exited before the CLI that started it cleaned up: the shim's exit file says so.
	CleanedUp bool `json:"cleanedUp,omitempty"`
}

// Container is one container: its stored document and the runtime it belongs to.
type Container struct {
	Config ContainerConfig `json:"config"`
	State  ContainerState  `json:"state"`
	rt     *Runtime
	// orphaned: the shim died without an exit file; the container's processes run unsupervised.
	orphaned bool
}

// ID is the 64-hex ID.
func (c *Container) ID() string { return c.Config.ID }

// Name is the container's unique name.
func (c *Container) Name() string { return c.Config.Name }

// IsRunning reports whether the container's process exists: running or paused.
func (c *Container) IsRunning() bool {
	return c.State.Status == StatusRunning || c.State.Status == StatusPaused
}

// RunDir is the container's private run directory: the shim's config, attach socket, pidfile and exit
// file, and the bundle. It lives under the runtime directory so that its socket paths stay well under the
// 108 bytes a unix socket path may have.
func (c *Container) RunDir() string { return filepath.Join(c.rt.runBase, "c", c.Config.ID) }

// LookupContainer finds a container by name, ID or unique ID prefix.
func (r *Runtime) LookupContainer(ref string) (*Container, error) {
	id, err := r.state.Lookup(kindContainer, ref)
	if err != nil {
		return nil, containerLookupError(ref, err)
	}
	c, err := r.loadContainer(id)
	if err == nil && c.orphaned {
		c.reapOrphan()
	}
	return c, err
}

// reapOrphan stops a container whose shim died: nothing would record its exit or clean it up, so it is
// killed and cleaned up now, and its record says why.
func (c *Container) reapOrphan() {
	l, err := c.rt.state.LockObject(kindContainer, c.Config.ID, true)
	if err != nil {
		return
	}
	defer l.Unlock()
	if rt, err := c.rt.ociRuntime(c.Config.OCIRuntime); err == nil {
		_ = rt.Delete(c.Config.ID, true)
	}
	_, _ = c.rt.Store.Unmount(c.Config.ID, false)
	c.State.Mountpoint = ""
	c.State.ShimPid = 0
	c.State.CleanedUp = true
	c.orphaned = false
	_ = c.save()
}

// RemoveBroken removes a container whose state document cannot be read (rm --force of a corrupt record):
// its runtime container, its storage and the document itself.
func (r *Runtime) RemoveBroken(ref string) error {
	id, err := r.state.Lookup(kindContainer, ref)
	if err != nil {
		return containerLookupError(ref, err)
	}
	l, err := r.state.LockObject(kindContainer, id, true)
	if err != nil {
		return err
	}
	defer l.Unlock()
	if rt, err := r.ociRuntime(""); err == nil {
		_ = rt.Delete(id, true)
	}
	_, _ = r.Store.Unmount(id, true)
	if err := r.Store.DeleteContainer(id); err != nil && !errors.Is(err, storage.ErrContainerUnknown) && !errors.Is(err, storage.ErrNotAContainer) {
		return fmt.Errorf("removing container storage: %w", err)
	}
	if err := r.state.Delete(kindContainer, id, ""); err != nil {
		return err
	}
	_ = os.RemoveAll(filepath.Join(r.runBase, "c", id))
	return nil
}

func containerLookupError(ref string, err error) error {
	switch {
	case errors.Is(err, state.ErrNotFound):
		return fmt.Errorf("no container with name or ID %q found: %w", ref, define.ErrNoSuchCtr)
	case errors.Is(err, state.ErrAmbiguous):
		return fmt.Errorf("more than one result for container ID %q: %w", ref, define.ErrInvalidArg)
	}
	return err
}

func (r *Runtime) loadContainer(id string) (*Container, error) {
	c := &Container{rt: r}
	if err := r.state.Get(kindContainer, id, c); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return nil, fmt.Errorf("no container with ID %q found: %w", id, define.ErrNoSuchCtr)
		}
		return nil, err
	}
	c.rt = r
	c.syncExit()
	return c, nil
}

// Containers returns every container; a corrupt document is reported in errs and skipped, so that one
// broken file never hides the others.
func (r *Runtime) Containers() (ctrs []*Container, errs []error) {
	ids, err := r.state.IDs(kindContainer)
	if err != nil {
		return nil, []error{err}
	}
	for _, id := range ids {
		c, err := r.loadContainer(id)
		if err == nil && c.orphaned {
			c.reapOrphan()
		}
		if err != nil {
			if errors.Is(err, define.ErrNoSuchCtr) {
				continue // removed meanwhile
			}
			errs = append(errs, err)
			continue
		}
		ctrs = append(ctrs, c)
	}
	return ctrs, errs
}

// syncExit reads the shim's exit file for a container the store still thinks is running: the container may
// have exited while no skiff was running, before the cleanup had the store updated.
func (c *Container) syncExit() {
	if c.State.Status != StatusRunning && c.State.Status != StatusPaused {
		return
	}
	info, err := shim.ReadExit(c.RunDir())
	if err == nil {
		c.State.Status = StatusExited
		c.State.ExitCode = info.ExitCode
		c.State.OOMKilled = info.OOMKilled
		c.State.FinishedAt = info.FinishedAt
		c.State.Pid = 0
		return
	}
	// No exit file: is the shim alive? A shim killed with -9 leaves the container unsupervised.
	if c.State.ShimPid > 0 && !processAlive(c.State.ShimPid) {
		c.State.Status = StatusExited
		c.State.ExitCode = -1
		c.State.Error = "the container's skiff-shim died: its exit status is unknown"
		c.State.Pid = 0
		c.State.FinishedAt = time.Now()
		c.orphaned = true
	}
}

// processAlive tells whether pid runs: a zombie (killed, not yet reaped by its parent, which for a shim
// is init) counts as dead.
func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	switch s[i+2] {
	case 'Z', 'X', 'x':
		return false
	}
	return true
}

// save writes the document; the caller holds the container's lock.
func (c *Container) save() error {
	return c.rt.state.Put(kindContainer, c.Config.ID, c)
}

// lock takes the container's exclusive lock and reloads its document under it.
func (c *Container) lock() (*state.Lock, error) {
	l, err := c.rt.state.LockObject(kindContainer, c.Config.ID, true)
	if err != nil {
		return nil, err
	}
	fresh, err := c.rt.loadContainer(c.Config.ID)
	if err != nil {
		if errors.Is(err, define.ErrNoSuchCtr) {
			// Removed meanwhile: do not leave the lock file this call created behind.
			_ = os.Remove(filepath.Join(c.rt.state.Root(), kindContainer, c.Config.ID+".lock"))
		}
		l.Unlock()
		return nil, err
	}
	*c = *fresh
	return l, nil
}
