// Package libpod is skiff's engine: one Runtime per CLI call holds the configuration, the storage and the
// image service; containers, pods and volumes hang off it.
package libpod

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/skiffcontainers/skiff/libpod/oci"
	"github.com/skiffcontainers/skiff/libpod/state"
	"github.com/skiffcontainers/skiff/pkg/image"
	skstorage "github.com/skiffcontainers/skiff/pkg/storage"
	"github.com/skiffcontainers/skiff/rootless"
	"go.podman.io/common/pkg/config"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	stypes "go.podman.io/storage/types"
)

// RuntimeOptions are the global flags that shape a Runtime.
type RuntimeOptions struct {
	Storage       skstorage.Options
	OCIRuntime    string // --runtime: a name from containers.conf or a path
	CgroupManager string
	TmpDir        string
	EventsBackend string
}

// Runtime is the engine for one skiff invocation.
type Runtime struct {
	Config       *config.Config
	StoreOptions stypes.StoreOptions
	Store        storage.Store
	Images       *image.Service
	opts         RuntimeOptions
	state        *state.Store
	runBase      string // per-user runtime dir for skiff: containers' run dirs, the OCI runtime's state
	runtimes     map[string]*oci.Runtime
}

// NewRuntime enters the rootless user namespace when needed (possibly re-executing skiff, the first time),
// reads containers.conf and opens storage.
func NewRuntime(ctx context.Context, opts RuntimeOptions) (*Runtime, error) {
	if err := rootless.Ensure(); err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(opts)
	if err != nil {
		return nil, err
	}
	sopts, err := skstorage.StoreOptions(opts.Storage)
	if err != nil {
		return nil, err
	}
	store, err := skstorage.Open(sopts)
	if err != nil {
		return nil, err
	}
	sopts.GraphDriverName = store.GraphDriverName()
	sys := SystemContext(cfg)
	images, err := image.NewService(store, sys)
	if err != nil {
		_, _ = store.Shutdown(false)
		return nil, err
	}
	r := &Runtime{Config: cfg, StoreOptions: sopts, Store: store, Images: images, opts: opts, runtimes: map[string]*oci.Runtime{}}
	if err := r.openState(); err != nil {
		r.Shutdown()
		return nil, err
	}
	images.RemoveContainersOf = r.removeContainersOfImage
	return r, nil
}

// openState opens skiff's own state, kept in its own folder inside the graph root (as podman keeps libpod's),
// and the per-user run directory.
func (r *Runtime) openState() error {
	st, err := state.Open(filepath.Join(r.Store.GraphRoot(), "skiff"))
	if err != nil {
		return err
	}
	r.state = st
	rd, err := rootless.RuntimeDir()
	if err != nil {
		return err
	}
	r.runBase = filepath.Join(rd, "skiff")
	return os.MkdirAll(r.runBase, 0o700)
}

// removeContainersOfImage is rmi --force's container removal.
func (r *Runtime) removeContainersOfImage(imageID string) error {
	ctrs, _ := r.Containers()
	for _, c := range ctrs {
		if c.Config.ImageID == imageID {
			if err := c.Remove(context.Background(), RemoveOptions{Force: true}); err != nil {
				return err
			}
		}
	}
	return nil
}

// ociRuntime returns the named OCI runtime (cached for the call).
func (r *Runtime) ociRuntime(name string) (*oci.Runtime, error) {
	if name == "" {
		name = r.Config.Engine.OCIRuntime
	}
	if rt, ok := r.runtimes[name]; ok {
		return rt, nil
	}
	rt, err := oci.Find(name, r.Config.Engine.OCIRuntimes, filepath.Join(r.runBase, "runtime"))
	if err != nil {
		return nil, err
	}
	r.runtimes[name] = rt
	return rt, nil
}

// LoadConfig reads containers.conf the way podman does and applies the global flags on top.
func LoadConfig(opts RuntimeOptions) (*config.Config, error) {
	cfg, err := config.Default()
	if err != nil {
		return nil, fmt.Errorf("reading containers.conf: %w", err)
	}
	if opts.OCIRuntime != "" {
		cfg.Engine.OCIRuntime = opts.OCIRuntime
	}
	if opts.CgroupManager != "" {
		cfg.Engine.CgroupManager = opts.CgroupManager
	}
	if opts.TmpDir != "" {
		cfg.Engine.TmpDir = opts.TmpDir
	}
	if opts.EventsBackend != "" {
		cfg.Engine.EventsLogger = opts.EventsBackend
	}
	return cfg, nil
}

// SystemContext is the containers/image context every image operation starts from.
func SystemContext(cfg *config.Config) *types.SystemContext {
	sys := &types.SystemContext{}
	if cfg != nil && cfg.Engine.ImageCopyTmpDir != "" {
		sys.BigFilesTemporaryDir = cfg.Engine.ImageCopyTmpDir
	}
	if sys.BigFilesTemporaryDir == "" {
		sys.BigFilesTemporaryDir = os.Getenv("TMPDIR")
	}
	if sys.BigFilesTemporaryDir == "" {
		sys.BigFilesTemporaryDir = "/var/tmp"
	}
	return sys
}

// Shutdown releases the store; it unmounts nothing that a running container still uses.
func (r *Runtime) Shutdown() {
	if r.Images != nil {
		r.Images.Shutdown()
	}
	if r.Store != nil {
		_, _ = r.Store.Shutdown(false)
	}
}
