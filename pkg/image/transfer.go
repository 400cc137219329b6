package image

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/skiffcontainers/skiff/libpod/define"
	"go.podman.io/common/libimage"
	"go.podman.io/common/pkg/config"
	"go.podman.io/image/v5/docker/reference"
	storageTransport "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
)

// PullOptions are the flags of skiff pull (and later of create/run --pull).
type PullOptions struct {
	RegistryOptions
	Policy                string // always, missing, never, newer; "" means always, as for skiff pull
	AllTags               bool
	Arch, OS, Variant     string
	Progress              io.Writer // where "Trying to pull" and the copy report go; nil for --quiet
	RemoveSignatures      bool
	Retry                 *uint
	SignaturePolicyPath   string
	DisableCompressionFmt bool
}

// Pull copies name (any transport; a registry when none is named) into local storage and returns the IDs
// of the images it stored. containers/storage commits an image only when all of it arrived, so an
// interrupted pull leaves no image behind, only layers the next pull reuses or removes.
func (s *Service) Pull(ctx context.Context, name string, o PullOptions) ([]string, error) {
	policyName := o.Policy
	if policyName == "" {
		policyName = "always"
	}
	policy, err := config.ParsePullPolicy(policyName)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, define.ErrInvalidArg)
	}
	opts := &libimage.PullOptions{AllTags: o.AllTags}
	o.RegistryOptions.apply(&opts.CopyOptions)
	opts.Architecture, opts.OS, opts.Variant = o.Arch, o.OS, o.Variant
	opts.Writer = progress(o.Progress)
	opts.RemoveSignatures = o.RemoveSignatures
	opts.MaxRetries = o.Retry
	opts.SignaturePolicyPath = o.SignaturePolicyPath
	if dest := ociDirName(name); dest != "" {
		opts.DestinationLookupReferenceFunc = func(types.ImageReference) (types.ImageReference, error) {
			return storageTransport.Transport.ParseStoreReference(s.store, dest)
		}
	}
	images, err := s.rt.Pull(contextOrBackground(ctx), name, policy, opts)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(images))
	for _, img := range images {
		ids = append(ids, img.ID())
	}
	return ids, nil
}

// ociDirName names an image pulled from "oci:PATH" or "oci:PATH:TAG" as podman 4.3 does,
// localhost/PATH:TAG, where libimage would call it docker.io/library/TAG. It returns "" (keep libimage's
// choice) when the reference names a repository ("oci:PATH:quay.io/a/b:1") or the path cannot be a name.
func ociDirName(name string) string {
	rest, ok := strings.CutPrefix(name, "oci:")
	if !ok {
		return ""
	}
	path, tag, _ := strings.Cut(rest, ":")
	if tag == "" {
		tag = "latest"
	}
	if strings.ContainsAny(tag, "/:@") {
		return ""
	}
	candidate := "localhost/" + strings.Trim(filepath.Clean(path), "/") + ":" + tag
	if _, err := reference.ParseNormalizedNamed(candidate); err != nil {
		return ""
	}
	return candidate
}

// PushOptions are the flags of skiff push.
type PushOptions struct {
	RegistryOptions
	Format           string // oci, v2s2, v2s1: the manifest type
	Progress         io.Writer
	RemoveSignatures bool
	DigestFile       string
	Compression      string
}

// Push copies a local image to destination (a registry when no transport is named).
func (s *Service) Push(ctx context.Context, source, destination string, o PushOptions) error {
	img, err := s.Lookup(source)
	if err != nil {
		return err
	}
	if destination == "" {
		destination = source
	}
	opts := &libimage.PushOptions{}
	o.RegistryOptions.apply(&opts.CopyOptions)
	opts.Writer = progress(o.Progress)
	opts.RemoveSignatures = o.RemoveSignatures
	switch o.Format {
	case "":
	case "oci":
		opts.ManifestMIMEType = "application/vnd.oci.image.manifest.v1+json"
	case "v2s2", "docker":
		opts.ManifestMIMEType = "application/vnd.docker.distribution.manifest.v2+json"
	case "v2s1":
		opts.ManifestMIMEType = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	default:
		return fmt.Errorf("unknown format %q, supported: oci, v2s1, v2s2: %w", o.Format, define.ErrInvalidArg)
	}
	// Push by ID so that a short source name cannot resolve to another image than the one found.
	manifestBytes, err := s.rt.Push(contextOrBackground(ctx), img.ID(), destination, opts)
	if err != nil {
		return err
	}
	if o.DigestFile != "" {
		d, err := manifestDigest(manifestBytes)
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.DigestFile, []byte(d), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// SaveOptions are the flags of skiff save.
type SaveOptions struct {
	Format           string // docker-archive (default), oci-archive, oci-dir, docker-dir
	Output           string
	MultiImage       bool
	Compress         bool
	RemoveSignatures bool
	Progress         io.Writer
}

// Save writes images to an archive or directory.
func (s *Service) Save(ctx context.Context, names []string, o SaveOptions) error {
	format := o.Format
	if format == "" {
		format = "docker-archive"
	}
	switch format {
	case "docker-archive", "oci-archive", "oci-dir", "docker-dir":
	default:
		return fmt.Errorf("unsupported format %q: use docker-archive, oci-archive, oci-dir or docker-dir: %w", format, define.ErrInvalidArg)
	}
	if len(names) > 1 && format != "docker-archive" {
		return fmt.Errorf("only docker-archive holds several images: %w", define.ErrInvalidArg)
	}
	if len(names) > 1 && !o.MultiImage {
		// podman: several names in one docker-archive need --multi-image-archive.
		return fmt.Errorf("saving several images needs --multi-image-archive: %w", define.ErrInvalidArg)
	}
	for _, n := range names {
		if _, err := s.Lookup(n); err != nil {
			return err
		}
	}
	opts := &libimage.SaveOptions{}
	opts.Writer = progress(o.Progress)
	opts.DirForceCompress = o.Compress
	opts.RemoveSignatures = o.RemoveSignatures
	if err := s.rt.Save(contextOrBackground(ctx), names, format, o.Output, opts); err != nil {
		_ = os.RemoveAll(o.Output) // never leave a half-written archive that looks complete
		return err
	}
	return nil
}

// Load reads an archive (docker-archive, oci-archive, oci-dir, docker-dir) and returns the names loaded.
func (s *Service) Load(ctx context.Context, path string, progressOut io.Writer) ([]string, error) {
	opts := &libimage.LoadOptions{}
	opts.Writer = progress(progressOut)
	return s.rt.Load(contextOrBackground(ctx), path, opts)
}

// ImportOptions are the flags of skiff import.
type ImportOptions struct {
	Changes   []string
	Message   string
	Reference string
	Arch, OS  string
	Progress  io.Writer
}

// Import makes a one-layer image from a rootfs tarball and returns its ID.
func (s *Service) Import(ctx context.Context, path string, o ImportOptions) (string, error) {
	for _, c := range o.Changes {
		if err := validateChange(c); err != nil {
			return "", err
		}
	}
	opts := &libimage.ImportOptions{Changes: o.Changes, CommitMessage: o.Message, Tag: o.Reference, OS: o.OS, Arch: o.Arch}
	opts.Writer = progress(o.Progress)
	name, err := s.rt.Import(contextOrBackground(ctx), path, opts)
	if err != nil {
		return "", err
	}
	img, err := s.Lookup(name)
	if err != nil {
		return "", err
	}
	return img.ID(), nil
}

// validateChange accepts the Dockerfile instructions podman import accepts, in either "KEY=value" or
// "KEY value" form, and rejects the rest before anything is written.
func validateChange(change string) error {
	key, _, found := strings.Cut(strings.TrimSpace(change), " ")
	if k, _, ok := strings.Cut(change, "="); ok && (!found || len(k) < len(key)) {
		key = k
	}
	switch strings.ToUpper(strings.TrimSpace(key)) {
	case "CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR":
		return nil
	}
	return fmt.Errorf("invalid change %q: valid instructions are CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR: %w", change, define.ErrInvalidArg)
}
