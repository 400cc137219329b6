// Package image is skiff's image service: pull, push, list, remove, tag, save, load, import, inspect and
// history, on containers/common's libimage (the code podman itself uses), so that names, short-name
// resolution, registries.conf, policy.json and auth.json behave exactly as podman's.
package image

import (
	"context"
	"errors"
	"fmt"
	"io"

	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/skiffcontainers/skiff/libpod/define"
	"go.podman.io/common/libimage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// Service runs image operations against one store.
type Service struct {
	rt    *libimage.Runtime
	store storage.Store
	// RemoveContainersOf removes the engine's containers that use an image (rmi --force); without it only
	// their storage would go, and the engine's records would dangle.
	RemoveContainersOf func(imageID string) error
}

// NewService binds an image service to a store and the base containers/image system context.
func NewService(store storage.Store, sys *types.SystemContext) (*Service, error) {
	rt, err := libimage.RuntimeFromStore(store, &libimage.RuntimeOptions{SystemContext: sys})
	if err != nil {
		return nil, err
	}
	return &Service{rt: rt, store: store}, nil
}

// Shutdown releases the image runtime (not the store, which its owner closes).
func (s *Service) Shutdown() { _ = s.rt.Shutdown(false) }

// Lookup finds a local image by name, short name, ID or ID prefix, or digest.
func (s *Service) Lookup(name string) (*libimage.Image, error) {
	img, _, err := s.rt.LookupImage(name, nil)
	if err != nil {
		if errors.Is(err, storage.ErrImageUnknown) {
			return nil, fmt.Errorf("%s: %w", name, define.ErrNoSuchImage)
		}
		return nil, err
	}
	return img, nil
}

// Exists reports whether a local image matches name.
func (s *Service) Exists(name string) (bool, error) {
	_, err := s.Lookup(name)
	if errors.Is(err, define.ErrNoSuchImage) {
		return false, nil
	}
	return err == nil, err
}

// RegistryOptions are the per-call registry flags shared by pull, push and login.
type RegistryOptions struct {
	TLSVerify types.OptionalBool
	AuthFile  string
	CertDir   string
	Creds     string // "user[:password]"
}

func (o RegistryOptions) apply(c *libimage.CopyOptions) {
	c.InsecureSkipTLSVerify = invert(o.TLSVerify)
	c.AuthFilePath = o.AuthFile
	c.CertDirPath = o.CertDir
	c.Credentials = o.Creds
}

func invert(b types.OptionalBool) types.OptionalBool {
	switch b {
	case types.OptionalBoolTrue:
		return types.OptionalBoolFalse
	case types.OptionalBoolFalse:
		return types.OptionalBoolTrue
	}
	return types.OptionalBoolUndefined
}

// progress returns w, or io.Discard for nil, so that libimage never writes to a closed or absent stream.
func progress(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func contextOrBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// TempDir is where big temporary files (archives being spooled) go: image_copy_tmp_dir of containers.conf.
func (s *Service) TempDir() string {
	if sys := s.rt.SystemContext(); sys != nil && sys.BigFilesTemporaryDir != "" {
		return sys.BigFilesTemporaryDir
	}
	return "/var/tmp"
}

// OCIConfig is an image's config document, read from storage.
func (s *Service) OCIConfig(id string) (*ociv1.Image, error) {
	img, err := s.store.Image(id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", id, define.ErrNoSuchImage)
	}
	cfg := readConfig(s.store, img)
	if cfg == nil {
		return nil, fmt.Errorf("image %s has no readable config", id)
	}
	return cfg, nil
}
