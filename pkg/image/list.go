package image

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/pkg/format"
	"go.podman.io/common/libimage"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
)

// Summary is one image as podman's `images --format json` shows it (field names and omissions alike).
type Summary struct {
	ID          string            `json:"Id"`
	ParentID    string            `json:"ParentId"`
	RepoTags    []string          `json:"RepoTags"`
	RepoDigests []string          `json:"RepoDigests"`
	Created     int64             `json:"Created"`
	Size        int64             `json:"Size"`
	SharedSize  int               `json:"SharedSize"`
	VirtualSize int64             `json:"VirtualSize"`
	Labels      map[string]string `json:"Labels"`
	Containers  int               `json:"Containers"`
	ReadOnly    bool              `json:",omitempty"`
	Dangling    bool              `json:",omitempty"`
	Names       []string          `json:",omitempty"`
	Digest      string            `json:",omitempty"`
	History     []string          `json:",omitempty"`
}

// ListOptions select the images of skiff images.
type ListOptions struct {
	All     bool     // also intermediate images
	Filters []string // podman's: reference, label, dangling, before, since, id, readonly, containers, intermediate
}

// List returns the local images that pass the filters, as podman's summaries. Without filters it reads
// storage directly (see fastSummaries); filters go through libimage, which defines their semantics, and only
// the matching images are then summarized.
func (s *Service) List(ctx context.Context, o ListOptions) ([]Summary, error) {
	for _, f := range o.Filters {
		if err := validateFilter(f); err != nil {
			return nil, err
		}
	}
	if len(o.Filters) == 0 {
		return fastSummaries(s.store, nil, o.All)
	}
	filters := append([]string{}, o.Filters...)
	if !o.All {
		filters = append(filters, "intermediate=false")
	}
	images, err := s.rt.ListImages(contextOrBackground(ctx), &libimage.ListImagesOptions{Filters: filters})
	if err != nil {
		return nil, err
	}
	only := make(map[string]bool, len(images))
	for _, img := range images {
		only[img.ID()] = true
	}
	return fastSummaries(s.store, only, true)
}

var listFilterKeys = map[string]bool{
	"after": true, "before": true, "since": true, "containers": true, "dangling": true, "digest": true,
	"id": true, "intermediate": true, "label": true, "readonly": true, "reference": true, "until": true,
	"label!": true,
}

func validateFilter(f string) error {
	key, _, ok := strings.Cut(f, "=")
	if !ok || !listFilterKeys[key] {
		return fmt.Errorf("invalid image filter %q: use reference=, label=, dangling=, before=, since=, id=, readonly=, containers=, intermediate=, until=, digest=: %w", f, define.ErrInvalidArg)
	}
	return nil
}

// Row is one line of the images table: a summary per repository:tag, as podman prints them.
type Row struct {
	Repository string `json:"repository,omitempty"`
	Tag        string `json:"tag,omitempty"`
	Summary
	NoTrunc bool `json:"-"`
}

// Rows expands summaries into one row per tag (an image with only untagged names shows once as <none>) and
// sorts them by key: created (newest first, the default), id, repository, size or tag.
func Rows(sums []Summary, sortKey string) ([]Row, error) {
	switch sortKey {
	case "", "created", "id", "repository", "size", "tag":
	default:
		return nil, fmt.Errorf("%q is not a valid field for sorting. Choose from: created, id, repository, size, tag: %w", sortKey, define.ErrInvalidArg)
	}
	var rows []Row
	for _, s := range sums {
		var tagged, untagged []Row
		for _, name := range s.RepoTags {
			repo, tag := splitRepoTag(name)
			r := Row{Repository: repo, Tag: tag, Summary: s}
			if tag == "<none>" {
				untagged = append(untagged, r)
			} else {
				tagged = append(tagged, r)
			}
		}
		switch {
		case len(tagged) > 0:
			rows = append(rows, tagged...)
		case len(untagged) > 0:
			rows = append(rows, untagged[0])
		default:
			rows = append(rows, Row{Repository: "<none>", Tag: "<none>", Summary: s})
		}
	}
	less := map[string]func(a, b Row) bool{
		"id":         func(a, b Row) bool { return a.Summary.ID < b.Summary.ID },
		"repository": func(a, b Row) bool { return a.Repository < b.Repository },
		"size":       func(a, b Row) bool { return a.Summary.Size < b.Summary.Size },
		"tag":        func(a, b Row) bool { return a.Tag < b.Tag },
	}[sortKey]
	if less == nil {
		less = func(a, b Row) bool { return a.Summary.Created > b.Summary.Created }
	}
	sort.SliceStable(rows, func(i, j int) bool { return less(rows[i], rows[j]) })
	return rows, nil
}

func splitRepoTag(name string) (string, string) {
	ref, err := reference.Parse(name)
	if err != nil {
		return "<none>", "<none>"
	}
	named, ok := ref.(reference.Named)
	if !ok {
		return name, "<none>"
	}
	repo := named.Name()
	if repo == "" {
		repo = "<none>"
	}
	tagged, ok := ref.(reference.Tagged)
	if !ok || tagged.Tag() == "" {
		return repo, "<none>"
	}
	return repo, tagged.Tag()
}

// The methods below are what --format templates call: {{.ID}}, {{.Created}}, {{.Size}}...

// ID is the short ID, or sha256:ID with --no-trunc.
func (r Row) ID() string {
	if !r.NoTrunc && len(r.Summary.ID) >= 12 {
		return r.Summary.ID[:12]
	}
	return "sha256:" + r.Summary.ID
}

// Created is how long ago the image was created, in podman's words ("2 hours ago").
func (r Row) Created() string { return format.HumanDuration(time.Since(r.created())) + " ago" }

// CreatedSince is an alias of Created.
func (r Row) CreatedSince() string { return r.Created() }

// CreatedAt is the creation time as Go prints a UTC time.
func (r Row) CreatedAt() string { return r.created().String() }

// CreatedTime is an alias of CreatedAt.
func (r Row) CreatedTime() string { return r.CreatedAt() }

func (r Row) created() time.Time { return time.Unix(r.Summary.Created, 0).UTC() }

// Size is the image size with three significant digits and a space before the unit ("4.86 MB").
func (r Row) Size() string { return format.HumanSize(r.Summary.Size) }

// History is the names the image had, joined.
func (r Row) History() string { return strings.Join(r.Summary.History, ", ") }

// manifestDigest computes the digest containers/image would give the manifest bytes.
func manifestDigest(b []byte) (string, error) {
	d, err := manifest.Digest(b)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}
