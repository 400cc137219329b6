// Package libpod is skiff's engine: one Runtime per CLI call holds the configuration, the storage and the
// image service; containers, pods and volumes hang off it.
package libpod

import (
	"context"
	"fmt"
	"os"

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
	return &Runtime{Config: cfg, StoreOptions: sopts, Store: store, Images: images, opts: opts}, nil
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
