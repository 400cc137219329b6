package libpod

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	imgspec "github.com/opencontainers/image-spec/specs-go"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/pkg/env"
	"go.podman.io/common/libimage"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"
)

// CommitOptions shape commit.
type CommitOptions struct {
	Reference string
	Changes   []string
	Message   string
	Author    string
	Pause     bool
	Docker    bool // Docker schema 2 manifest and config types instead of OCI's
}

// Commit makes an image of the container: its image's layers plus one layer with what the container changed,
// and a config that carries the container's command, environment, working directory, user and labels. The
// image is written to storage the way buildah writes one (uncompressed layer digests in an OCI manifest,
// the config stored under its digest), so every containers/image tool reads it.
func (c *Container) Commit(ctx context.Context, o CommitOptions) (string, error) {
	changes, err := libimage.ImageConfigFromChanges(o.Changes)
	if err != nil {
		return "", fmt.Errorf("%w: %w", err, define.ErrInvalidArg)
	}
	var named string
	if o.Reference != "" {
		n, err := libimage.NormalizeName(o.Reference)
		if err != nil {
			return "", fmt.Errorf("invalid image name %q: %w", o.Reference, define.ErrInvalidArg)
		}
		named = n.String()
	}
	if o.Pause && c.State.Status == StatusRunning && (!c.Config.Rootless || cgroupV2()) {
		if err := c.Pause(); err == nil {
			defer func() { _ = c.Unpause() }()
		}
	}
	store := c.rt.Store
	sc, err := store.Container(c.Config.ID)
	if err != nil {
		return "", err
	}
	rw, err := store.Layer(sc.LayerID)
	if err != nil {
		return "", err
	}
	// The diff reader holds the layer store's lock until it is closed, and PutLayer needs that lock: spool
	// the diff to a file first.
	spool, err := os.CreateTemp(c.rt.Images.TempDir(), "skiff-commit-")
	if err != nil {
		return "", err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	diff, err := store.Diff(rw.Parent, rw.ID, &storage.DiffOptions{Compression: compressionPtr(archive.Uncompressed)})
	if err != nil {
		return "", fmt.Errorf("reading the container's changes: %w", err)
	}
	_, err = io.Copy(spool, diff)
	diff.Close()
	if err != nil {
		return "", fmt.Errorf("reading the container's changes: %w", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	layer, _, err := store.PutLayer("", rw.Parent, nil, "", false, nil, spool)
	if err != nil {
		return "", fmt.Errorf("storing the new layer: %w", err)
	}
	undo := func() { _ = store.DeleteLayer(layer.ID) }

	base, err := c.rt.Images.OCIConfig(c.Config.ImageID)
	if err != nil {
		undo()
		return "", err
	}
	cfg := c.commitConfig(base, changes, layer, o)
	cfgBytes, err := configJSON(cfg, o.Message)
	if err != nil {
		undo()
		return "", err
	}
	cfgDigest := digest.FromBytes(cfgBytes)
	manifestType, configType, layerType := ociv1.MediaTypeImageManifest, ociv1.MediaTypeImageConfig, ociv1.MediaTypeImageLayer
	if o.Docker {
		manifestType, configType, layerType = manifest.DockerV2Schema2MediaType, manifest.DockerV2Schema2ConfigMediaType, manifest.DockerV2SchemaLayerMediaTypeUncompressed
	}
	man := ociv1.Manifest{
		Versioned: imgspec.Versioned{SchemaVersion: 2},
		MediaType: manifestType,
		Config:    ociv1.Descriptor{MediaType: configType, Digest: cfgDigest, Size: int64(len(cfgBytes))},
	}
	for id := layer.ID; id != ""; {
		l, err := store.Layer(id)
		if err != nil {
			undo()
			return "", err
		}
		man.Layers = append([]ociv1.Descriptor{{MediaType: layerType, Digest: l.UncompressedDigest, Size: l.UncompressedSize}}, man.Layers...)
		id = l.Parent
	}
	manBytes, err := json.Marshal(man)
	if err != nil {
		undo()
		return "", err
	}
	manDigest := digest.FromBytes(manBytes)
	if named != "" {
		// The name moves to the new image, as with podman.
		if img, err := store.Image(named); err == nil {
			_ = c.rt.Images.Untag(img.ID, []string{named})
		}
	}
	var names []string
	if named != "" {
		names = []string{named}
	}
	img, err := store.CreateImage(cfgDigest.Encoded(), names, layer.ID, "", &storage.ImageOptions{
		CreationDate: *cfg.Created,
		Digest:       manDigest,
		BigData: []storage.ImageBigDataOption{
			{Key: cfgDigest.String(), Data: cfgBytes, Digest: cfgDigest},
			{Key: "manifest-" + manDigest.String(), Data: manBytes, Digest: manDigest},
			{Key: storage.ImageDigestBigDataKey, Data: manBytes, Digest: manDigest},
		},
	})
	if err != nil {
		undo()
		if errors.Is(err, storage.ErrDuplicateID) {
			return cfgDigest.Encoded(), nil
		}
		return "", fmt.Errorf("storing the image: %w", err)
	}
	return img.ID, nil
}

func compressionPtr(c archive.Compression) *archive.Compression { return &c }

// commitConfig is the new image's config: the base's, then the container's run settings, then --change.
func (c *Container) commitConfig(base *ociv1.Image, changes *libimage.ImageConfig, layer *storage.Layer, o CommitOptions) *ociv1.Image {
	now := time.Now().UTC()
	cfg := *base
	cfg.Created = &now
	if o.Author != "" {
		cfg.Author = o.Author
	}
	ic := cfg.Config
	s := c.Config.Spec
	ic.Env = env.Merge(ic.Env, s.Env)
	if s.Entrypoint != nil {
		ic.Entrypoint = *s.Entrypoint
	}
	if len(s.Command) > 0 {
		ic.Cmd = s.Command
	}
	if s.WorkDir != "" {
		ic.WorkingDir = s.WorkDir
	}
	if s.User != "" {
		ic.User = s.User
	}
	if c.Config.StopSignal != "" && c.Config.StopSignal != "SIGTERM" {
		ic.StopSignal = c.Config.StopSignal
	}
	if len(c.Config.Labels) > 0 {
		ic.Labels = map[string]string{}
		for k, v := range c.Config.Labels {
			ic.Labels[k] = v
		}
	}
	ch := changes.ImageConfig
	if ch.User != "" {
		ic.User = ch.User
	}
	if len(ch.ExposedPorts) > 0 {
		if ic.ExposedPorts == nil {
			ic.ExposedPorts = map[string]struct{}{}
		}
		for p := range ch.ExposedPorts {
			ic.ExposedPorts[p] = struct{}{}
		}
	}
	ic.Env = env.Merge(ic.Env, ch.Env)
	if len(ch.Entrypoint) > 0 {
		ic.Entrypoint = ch.Entrypoint
	}
	if len(ch.Cmd) > 0 {
		ic.Cmd = ch.Cmd
	}
	if len(ch.Volumes) > 0 {
		if ic.Volumes == nil {
			ic.Volumes = map[string]struct{}{}
		}
		for v := range ch.Volumes {
			ic.Volumes[v] = struct{}{}
		}
	}
	if ch.WorkingDir != "" {
		ic.WorkingDir = ch.WorkingDir
	}
	if len(ch.Labels) > 0 {
		if ic.Labels == nil {
			ic.Labels = map[string]string{}
		}
		for k, v := range ch.Labels {
			ic.Labels[k] = v
		}
	}
	if ch.StopSignal != "" {
		ic.StopSignal = ch.StopSignal
	}
	cfg.Config = ic
	cfg.RootFS.Type = "layers"
	cfg.RootFS.DiffIDs = append(append([]digest.Digest{}, base.RootFS.DiffIDs...), layer.UncompressedDigest)
	createdBy := strings.Join(c.Command(), " ")
	cfg.History = append(append([]ociv1.History{}, base.History...), ociv1.History{
		Created: &now, CreatedBy: "/bin/sh -c " + createdBy, Author: o.Author, Comment: o.Message,
	})
	return &cfg
}

// configJSON is the config document; a commit message is Docker's top-level "comment", which image inspect
// shows as .Comment.
func configJSON(cfg *ociv1.Image, comment string) ([]byte, error) {
	b, err := json.Marshal(cfg)
	if err != nil || comment == "" {
		return b, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["comment"] = comment
	return json.Marshal(m)
}
