// Package storage opens containers/storage the way podman does: storage.conf first, then the global flags,
// and, when no driver is configured, the best driver that works here: native overlay (also inside a user
// namespace on kernels that allow it), overlay through fuse-overlayfs, vfs.
package storage

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/sirupsen/logrus"
	cstorage "go.podman.io/storage"
	"go.podman.io/storage/types"
)

// Options are the global storage flags (--root, --runroot, --storage-driver, --storage-opt).
type Options struct {
	Root       string
	RunRoot    string
	Driver     string
	DriverOpts []string
	// DriverOptsSet is true when --storage-opt was given, even empty: it replaces storage.conf's options.
	DriverOptsSet bool
}

// StoreOptions merges storage.conf (as containers/storage finds it, rootless aware) with the flags.
func StoreOptions(o Options) (types.StoreOptions, error) {
	opts, err := types.DefaultStoreOptions()
	if err != nil {
		return opts, fmt.Errorf("reading storage.conf: %w", err)
	}
	if o.Root != "" {
		opts.GraphRoot = o.Root
	}
	if o.RunRoot != "" {
		opts.RunRoot = o.RunRoot
	}
	if o.Driver != "" {
		opts.GraphDriverName = o.Driver
	}
	if o.DriverOptsSet {
		opts.GraphDriverOptions = o.DriverOpts
	}
	return opts, nil
}

// Open opens the store. With no driver named anywhere it tries native overlay, then overlay through
// fuse-overlayfs, then vfs; containers/storage remembers the driver of an existing graph root, so the probe
// only decides for a new one.
func Open(opts types.StoreOptions) (cstorage.Store, error) {
	if opts.GraphDriverName != "" {
		return cstorage.GetStore(opts)
	}
	var errs []error
	for _, candidate := range driverCandidates(opts) {
		store, err := cstorage.GetStore(candidate)
		if err == nil {
			return store, nil
		}
		logrus.Debugf("storage driver %s with options %v: %v", candidate.GraphDriverName, candidate.GraphDriverOptions, err)
		errs = append(errs, fmt.Errorf("%s: %w", candidate.GraphDriverName, err))
	}
	return nil, fmt.Errorf("no storage driver works for %s: %w", opts.GraphRoot, errors.Join(errs...))
}

func driverCandidates(opts types.StoreOptions) []types.StoreOptions {
	with := func(driver string, extra ...string) types.StoreOptions {
		c := opts
		c.GraphDriverName = driver
		c.GraphDriverOptions = append(append([]string{}, opts.GraphDriverOptions...), extra...)
		return c
	}
	// A graph root that holds layers already keeps its driver: switching would hide every image.
	if _, err := os.Stat(filepath.Join(opts.GraphRoot, "vfs-layers")); err == nil {
		return []types.StoreOptions{with("vfs")}
	}
	candidates := []types.StoreOptions{with("overlay")}
	if !hasOption(opts.GraphDriverOptions, "mount_program") {
		if path, err := exec.LookPath("fuse-overlayfs"); err == nil {
			candidates = append(candidates, with("overlay", "overlay.mount_program="+path))
		}
	}
	return append(candidates, with("vfs"))
}

func hasOption(opts []string, name string) bool {
	for _, o := range opts {
		key, _, _ := strings.Cut(o, "=")
		if key == name || strings.HasSuffix(key, "."+name) {
			return true
		}
	}
	return false
}
