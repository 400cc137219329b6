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

	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/libpod/state"
	"github.com/skiffcontainers/skiff/pkg/image"
	"github.com/skiffcontainers/skiff/pkg/spec"
	"github.com/skiffcontainers/skiff/rootless"
	"go.podman.io/common/libimage"
	"go.podman.io/common/pkg/capabilities"
	"go.podman.io/storage"
)

// SpecOptions are the persisted inputs of the OCI spec; the rootfs and the engine's mounts are filled in
// at every start.
type SpecOptions = spec.Options

// CreateOptions are create's (and run's) flags, already parsed.
type CreateOptions struct {
	Name          string
	Image         string
	Pull          string // always, missing (default), never, newer
	PullOptions   image.PullOptions
	PullProgress  io.Writer
	Spec          SpecOptions
	Labels        map[string]string
	Annotations   map[string]string
	StopSignal    string
	StopTimeout   *uint
	Remove        bool
	LogDriver     string
	LogPath       string
	LogMaxSize    int64
	OCIRuntime    string
	Network       string // none, host, private, ns:PATH
	CidFile       string
	ShimPidFile   string
	Replace       bool
	CreateCommand []string
}

const defaultStopTimeout = 10

// CreateContainer makes a container from an image: the storage container (its writable layer) and its state
// document. Nothing runs yet.
func (r *Runtime) CreateContainer(ctx context.Context, o CreateOptions) (*Container, error) {
	if o.Name != "" && !state.ValidName(o.Name) {
		return nil, fmt.Errorf("container name %q: %w", o.Name, errors.Join(state.ErrInvalidName, define.ErrInvalidArg))
	}
	if o.CidFile != "" {
		if _, err := os.Stat(o.CidFile); err == nil {
			return nil, fmt.Errorf("container id file exists. Ensure another container is not using it or delete %s: %w", o.CidFile, define.ErrInvalidArg)
		}
	}
	if o.Name != "" {
		if existing, err := r.LookupContainer(o.Name); err == nil && existing.Name() == o.Name {
			if !o.Replace {
				return nil, fmt.Errorf("creating container storage: the container name %q is already in use by %s. You have to remove that container to be able to reuse that name: that name is already in use: %w", o.Name, existing.ID(), define.ErrCtrExists)
			}
			if err := existing.Remove(ctx, RemoveOptions{Force: true}); err != nil {
				return nil, fmt.Errorf("replacing container %s: %w", o.Name, err)
			}
		}
	}
	img, err := r.resolveImage(ctx, o)
	if err != nil {
		return nil, err
	}
	data, err := img.Inspect(ctx, nil)
	if err != nil {
		return nil, err
	}
	runtimeName := o.OCIRuntime
	if runtimeName == "" {
		runtimeName = r.Config.Engine.OCIRuntime
	}
	if _, err := r.ociRuntime(runtimeName); err != nil {
		return nil, err
	}

	c := &Container{rt: r}
	c.Config = ContainerConfig{
		ID:            newID(),
		Name:          o.Name,
		Image:         o.Image,
		ImageID:       img.ID(),
		CreateCommand: o.CreateCommand,
		Created:       time.Now(),
		Spec:          o.Spec,
		Labels:        o.Labels,
		Annotations:   o.Annotations,
		StopSignal:    o.StopSignal,
		StopTimeout:   defaultStopTimeout,
		Remove:        o.Remove,
		LogDriver:     o.LogDriver,
		LogMaxSize:    o.LogMaxSize,
		OCIRuntime:    runtimeName,
		NetworkMode:   o.Network,
		CidFile:       o.CidFile,
		ShimPidFile:   o.ShimPidFile,
		Rootless:      rootless.IsRootless(),
	}
	if names := img.Names(); len(names) > 0 {
		c.Config.ImageName = names[0]
	} else {
		c.Config.ImageName = img.ID()
	}
	if data.Config != nil {
		c.Config.Spec.ImageConfig = *data.Config
		if c.Config.StopSignal == "" {
			c.Config.StopSignal = data.Config.StopSignal
		}
		if c.Config.Labels == nil && len(data.Config.Labels) > 0 {
			c.Config.Labels = map[string]string{}
		}
		for k, v := range data.Config.Labels {
			if _, set := c.Config.Labels[k]; !set {
				c.Config.Labels[k] = v
			}
		}
	}
	if c.Config.StopSignal == "" {
		c.Config.StopSignal = "SIGTERM"
	}
	if o.StopTimeout != nil {
		c.Config.StopTimeout = *o.StopTimeout
	} else if r.Config.Engine.StopTimeout > 0 {
		c.Config.StopTimeout = r.Config.Engine.StopTimeout
	}
	if c.Config.LogDriver == "" || c.Config.LogDriver == "journald" {
		c.Config.LogDriver = "k8s-file"
	}
	if c.Config.NetworkMode == "" {
		c.Config.NetworkMode = "private"
	}
	if err := validateLogDriver(c.Config.LogDriver); err != nil {
		return nil, err
	}
	if err := validateSpecOptions(&c.Config.Spec); err != nil {
		return nil, err
	}
	if err := r.reserveContainer(c); err != nil {
		return nil, err
	}
	if o.CidFile != "" {
		if err := os.WriteFile(o.CidFile, []byte(c.Config.ID), 0o644); err != nil {
			_ = c.Remove(ctx, RemoveOptions{Force: true})
			return nil, fmt.Errorf("writing container id file: %w", err)
		}
	}
	return c, nil
}

func validateLogDriver(d string) error {
	switch d {
	case "k8s-file", "none", "passthrough":
		return nil
	}
	return fmt.Errorf("log driver %q: supported are k8s-file, none and passthrough: %w", d, define.ErrInvalidArg)
}

// reserveContainer creates the storage container and the state document, or neither.
func (r *Runtime) reserveContainer(c *Container) error {
	generated := c.Config.Name == ""
	for attempt := 0; ; attempt++ {
		if generated {
			c.Config.Name = r.freeRandomName(attempt)
		}
		err := r.reserveOnce(c)
		// A generated name can lose a race with a concurrent create, or be taken in storage by another
		// engine's container: draw another one.
		if err != nil && generated && errors.Is(err, define.ErrCtrExists) && attempt < 50 {
			continue
		}
		return err
	}
}

func (r *Runtime) freeRandomName(attempt int) string {
	for {
		name := randomName()
		if attempt > 10 {
			name = fmt.Sprintf("%s_%d", name, randomIndex(1000000))
		}
		if r.state.NameOwner(name) == "" {
			return name
		}
		attempt++
	}
}

func (r *Runtime) reserveOnce(c *Container) error {
	sc, err := r.Store.CreateContainer(c.Config.ID, []string{c.Config.Name}, c.Config.ImageID, "", storageMetadata, &storage.ContainerOptions{})
	if errors.Is(err, storage.ErrDuplicateName) && r.reclaimOrphanName(c.Config.Name) {
		sc, err = r.Store.CreateContainer(c.Config.ID, []string{c.Config.Name}, c.Config.ImageID, "", storageMetadata, &storage.ContainerOptions{})
	}
	if err != nil {
		if errors.Is(err, storage.ErrDuplicateName) {
			return fmt.Errorf("the container name %q is already in use in containers/storage (by another engine?): %w", c.Config.Name, define.ErrCtrExists)
		}
		return fmt.Errorf("creating container storage: %w", err)
	}
	if dir, err := r.Store.ContainerDirectory(sc.ID); err == nil && c.Config.LogDriver == "k8s-file" && c.Config.LogPath == "" {
		c.Config.LogPath = dir + "/ctr.log"
	}
	c.State = ContainerState{Status: StatusCreated}
	if err := r.state.Create(kindContainer, c.Config.ID, c.Config.Name, c); err != nil {
		_ = r.Store.DeleteContainer(sc.ID)
		if errors.Is(err, state.ErrNameInUse) {
			return fmt.Errorf("the container name %q is already in use: %w", c.Config.Name, define.ErrCtrExists)
		}
		return err
	}
	return nil
}

type imageHandle = *libimage.Image

// resolveImage finds the image locally or pulls it, as the pull policy says.
func (r *Runtime) resolveImage(ctx context.Context, o CreateOptions) (imageHandle, error) {
	policy := o.Pull
	if policy == "" {
		policy = "missing"
	}
	switch policy {
	case "always", "missing", "never", "newer":
	default:
		return nil, fmt.Errorf("invalid pull policy %q: use always, missing, never or newer: %w", policy, define.ErrInvalidArg)
	}
	if policy == "missing" || policy == "never" {
		if img, err := r.Images.Lookup(o.Image); err == nil {
			return img, nil
		} else if !errors.Is(err, define.ErrNoSuchImage) {
			return nil, err
		}
		if policy == "never" {
			return nil, fmt.Errorf("%s: image not known (pull policy is never): %w", o.Image, define.ErrNoSuchImage)
		}
	}
	po := o.PullOptions
	po.Policy = policy
	po.Progress = o.PullProgress
	ids, err := r.Images.Pull(ctx, o.Image, po)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: pull returned no image: %w", o.Image, define.ErrNoSuchImage)
	}
	return r.Images.Lookup(ids[0])
}

// validateSpecOptions refuses at create what the spec would refuse at start, so that bad input is an
// engine error (125) and leaves nothing behind.
func validateSpecOptions(s *SpecOptions) error {
	if _, err := capabilities.MergeCapabilities(nil, s.CapAdd, s.CapDrop); err != nil {
		return fmt.Errorf("%w: %w", err, define.ErrInvalidArg)
	}
	if tz := s.Tz; tz != "" && tz != "local" {
		if strings.Contains(tz, "..") || strings.HasPrefix(tz, "/") {
			return fmt.Errorf("invalid timezone %q: %w", tz, define.ErrInvalidArg)
		}
		if _, err := os.Stat(filepath.Join("/usr/share/zoneinfo", tz)); err != nil {
			return fmt.Errorf("finding timezone %s: unknown time zone %s: %w", tz, tz, define.ErrInvalidArg)
		}
	}
	if p := s.SeccompProfile; p != "" && p != "unconfined" {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("opening seccomp profile %s: %w", p, errors.Join(err, define.ErrInvalidArg))
		}
	}
	for _, u := range s.Ulimits {
		if u == "host" {
			continue
		}
		if _, err := spec.ParseUlimit(u); err != nil {
			return err
		}
	}
	return nil
}

// reclaimOrphanName frees a name held by a storage container that skiff made but never recorded (a create
// killed between the two steps). Storage containers of other engines are never touched.
func (r *Runtime) reclaimOrphanName(name string) bool {
	sc, err := r.Store.Container(name)
	if err != nil || !isSkiffStorage(sc.Metadata) {
		return false
	}
	if _, err := r.state.Lookup(kindContainer, sc.ID); err == nil {
		return false // recorded: a real container
	}
	_, _ = r.Store.Unmount(sc.ID, true)
	return r.Store.DeleteContainer(sc.ID) == nil
}
