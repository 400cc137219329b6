package libpod

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/skiffcontainers/skiff/libpod/define"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/chrootarchive"
)

// Mount mounts the container's root filesystem (if it is not mounted) and returns where.
func (c *Container) Mount() (string, error) {
	l, err := c.lock()
	if err != nil {
		return "", err
	}
	defer l.Unlock()
	return c.rt.Store.Mount(c.Config.ID, "")
}

// Unmount releases one mount of the container's root filesystem; force unmounts it entirely.
func (c *Container) Unmount(force bool) error {
	l, err := c.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	if (c.State.Status == StatusRunning || c.State.Status == StatusPaused) && force {
		return fmt.Errorf("cannot unmount container %s: it is running: %w", c.Name(), define.ErrCtrStateInvalid)
	}
	_, err = c.rt.Store.Unmount(c.Config.ID, force)
	return err
}

// withRootfs runs fn with the container's root filesystem mounted, mounting it for the call if needed.
func (c *Container) withRootfs(fn func(root string) error) error {
	root, err := c.rt.Store.Mount(c.Config.ID, "")
	if err != nil {
		return fmt.Errorf("mounting container storage: %w", err)
	}
	defer func() { _, _ = c.rt.Store.Unmount(c.Config.ID, false) }()
	return fn(root)
}

// Change is one line of diff.
type Change struct {
	Path string
	Kind string // A, C, D
}

// Diff lists what the container changed against its image.
func (c *Container) Diff() ([]Change, error) {
	sc, err := c.rt.Store.Container(c.Config.ID)
	if err != nil {
		return nil, err
	}
	layer, err := c.rt.Store.Layer(sc.LayerID)
	if err != nil {
		return nil, err
	}
	changes, err := c.rt.Store.Changes(layer.Parent, sc.LayerID)
	if err != nil {
		return nil, err
	}
	out := make([]Change, 0, len(changes))
	for _, ch := range changes {
		if engineInodes[ch.Path] {
			continue
		}
		kind := map[archive.ChangeType]string{archive.ChangeAdd: "A", archive.ChangeModify: "C", archive.ChangeDelete: "D"}[ch.Kind]
		out = append(out, Change{Path: ch.Path, Kind: kind})
	}
	return out, nil
}

// engineInodes are created by the engine or the runtime as mount points, not by the container: podman
// leaves them out of diff.
var engineInodes = map[string]bool{
	"/dev": true, "/etc/hostname": true, "/etc/hosts": true, "/etc/resolv.conf": true, "/proc": true,
	"/run": true, "/run/notify": true, "/run/.containerenv": true, "/run/secrets": true, "/sys": true,
	"/etc/mtab": true,
}

// Export writes the container's whole root filesystem as a tar stream.
func (c *Container) Export(w io.Writer) error {
	return c.withRootfs(func(root string) error {
		rc, err := archive.TarWithOptions(root, &archive.TarOptions{Compression: archive.Uncompressed})
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = io.Copy(w, rc)
		return err
	})
}

// CopyFromContainer writes a tar stream of src (a path in the container) to w, named after src's last
// element (or rename, when given), as `cp CTR:SRC -` does.
func (c *Container) CopyFromContainer(src string, w io.Writer, rename string) error {
	return c.withRootfs(func(root string) error {
		resolved, err := securejoin.SecureJoin(root, src)
		if err != nil {
			return err
		}
		st, err := os.Lstat(resolved)
		if err != nil {
			return fmt.Errorf("%q could not be found on container %s: no such file or directory: %w", src, c.Name(), define.ErrInvalidArg)
		}
		dir, base := filepath.Split(resolved)
		opts := &archive.TarOptions{Compression: archive.Uncompressed, IncludeFiles: []string{base}}
		if st.IsDir() && strings.HasSuffix(src, "/.") {
			dir, opts.IncludeFiles = resolved, nil
		} else if rename != "" && rename != base {
			opts.RebaseNames = map[string]string{base: rename}
		}
		rc, err := archive.TarWithOptions(dir, opts)
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = io.Copy(w, rc)
		return err
	})
}

// CopyToContainer unpacks a tar stream into dest, a directory in the container, refusing to leave the root
// filesystem through symlinks.
func (c *Container) CopyToContainer(r io.Reader, dest string) error {
	return c.withRootfs(func(root string) error {
		resolved, err := securejoin.SecureJoin(root, dest)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(resolved, 0o755); err != nil {
			return err
		}
		return chrootarchive.UntarWithRoot(r, resolved, &archive.TarOptions{}, root)
	})
}

// ContainerPathInfo says whether a path exists in the container and whether it is a directory.
func (c *Container) ContainerPathInfo(p string) (exists, isDir bool, err error) {
	err = c.withRootfs(func(root string) error {
		resolved, err := securejoin.SecureJoin(root, p)
		if err != nil {
			return err
		}
		st, err := os.Stat(resolved)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		exists, isDir = true, st.IsDir()
		return nil
	})
	return exists, isDir, err
}

// Init prepares a created container (mount, bundle, runtime create) without starting its process.
func (c *Container) Init(ctx context.Context) error {
	l, err := c.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	switch c.State.Status {
	case StatusInitialized:
		return nil
	case StatusCreated:
	case StatusExited, StatusStopped:
		if err := c.cleanupLocked(ctx); err != nil {
			return err
		}
	default:
		return fmt.Errorf("container %s has already been created in runtime: %w", c.Config.ID, define.ErrCtrStateInvalid)
	}
	return c.init(ctx)
}

// CopyOut copies src out of the container into an existing host directory, or to a new host path, as
// `cp CTR:SRC DEST` does.
func (c *Container) CopyOut(src, dst string) error {
	targetDir, rename := dst, ""
	if st, err := os.Stat(dst); err != nil || !st.IsDir() {
		targetDir, rename = filepath.Dir(dst), filepath.Base(dst)
		if _, err := os.Stat(targetDir); err != nil {
			return fmt.Errorf("%q could not be found on the host: %w", targetDir, define.ErrInvalidArg)
		}
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(c.CopyFromContainer(src, pw, rename)) }()
	return archive.Untar(pr, targetDir, &archive.TarOptions{NoLchown: os.Geteuid() != 0})
}

// CopyIn copies a host path into the container: into an existing directory, or as a new path, as
// `cp SRC CTR:DEST` does.
func (c *Container) CopyIn(src, dst string) error {
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("%q could not be found on the host: %w", src, define.ErrInvalidArg)
	}
	exists, isDir, err := c.ContainerPathInfo(dst)
	if err != nil {
		return err
	}
	targetDir, name := dst, filepath.Base(src)
	if !exists || !isDir {
		targetDir, name = filepath.Dir(dst), filepath.Base(dst)
	}
	opts := &archive.TarOptions{Compression: archive.Uncompressed}
	dir, base := filepath.Split(filepath.Clean(src))
	if st.IsDir() && strings.HasSuffix(src, "/.") {
		dir, base = src, ""
	}
	if base != "" {
		opts.IncludeFiles = []string{base}
		if name != base {
			opts.RebaseNames = map[string]string{base: name}
		}
	}
	rc, err := archive.TarWithOptions(dir, opts)
	if err != nil {
		return err
	}
	defer rc.Close()
	return c.CopyToContainer(rc, targetDir)
}

// MountedContainer is one line of `mount` without arguments.
type MountedContainer struct {
	ID   string
	Path string
}

// MountedContainers lists the containers whose root filesystem is mounted, and where.
func (r *Runtime) MountedContainers() ([]MountedContainer, error) {
	ctrs, _ := r.Containers()
	var out []MountedContainer
	for _, c := range ctrs {
		if n, err := r.Store.Mounted(c.ID()); err != nil || n == 0 {
			continue
		}
		sc, err := r.Store.Container(c.ID())
		if err != nil {
			continue
		}
		if l, err := r.Store.Layer(sc.LayerID); err == nil && l.MountPoint != "" {
			out = append(out, MountedContainer{ID: c.ID(), Path: l.MountPoint})
		}
	}
	return out, nil
}

// PruneContainers removes every container that is not running and returns the IDs removed; it goes on past
// a failure and returns the last one.
func (r *Runtime) PruneContainers(ctx context.Context) ([]string, error) {
	ctrs, _ := r.Containers()
	var removed []string
	var last error
	for _, c := range ctrs {
		if c.IsRunning() {
			continue
		}
		if err := c.Remove(ctx, RemoveOptions{}); err != nil {
			last = err
			continue
		}
		removed = append(removed, c.ID())
	}
	return removed, last
}

// WaitForStatus polls until the container is in one of the statuses (wait --condition).
func (r *Runtime) WaitForStatus(ctx context.Context, id string, want []string) error {
	for {
		c, err := r.LookupContainer(id)
		if err != nil {
			return err
		}
		for _, w := range want {
			if c.State.Status == w {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
