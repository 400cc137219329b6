package image

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/skiffcontainers/skiff/pkg/format"
	"go.podman.io/common/libimage"
)

// Inspect returns podman's image inspect document (the same struct podman prints).
func (s *Service) Inspect(ctx context.Context, name string) (*libimage.ImageData, error) {
	img, err := s.Lookup(name)
	if err != nil {
		return nil, err
	}
	return img.Inspect(contextOrBackground(ctx), &libimage.InspectOptions{WithParent: true, WithSize: true})
}

// HistoryRow is one layer of skiff history, with the template methods podman offers.
type HistoryRow struct {
	libimage.ImageHistory
	Human   bool
	NoTrunc bool
}

// History returns the image's history, newest first.
func (s *Service) History(ctx context.Context, name string) ([]libimage.ImageHistory, error) {
	img, err := s.Lookup(name)
	if err != nil {
		return nil, err
	}
	return img.History(contextOrBackground(ctx))
}

// ID is the layer's image ID, short unless --no-trunc; "<missing>" where the layer has no image of its own.
func (h HistoryRow) ID() string {
	if h.ImageHistory.ID == "" || h.ImageHistory.ID == "<missing>" {
		return "<missing>"
	}
	if !h.NoTrunc && len(h.ImageHistory.ID) >= 12 {
		return h.ImageHistory.ID[:12]
	}
	return h.ImageHistory.ID
}

// Created is "3 days ago" with --human (the default), else RFC3339.
func (h HistoryRow) Created() string {
	if h.ImageHistory.Created == nil {
		return ""
	}
	if h.Human {
		return format.HumanDuration(time.Since(*h.ImageHistory.Created)) + " ago"
	}
	return h.ImageHistory.Created.Format(time.RFC3339)
}

// CreatedAt is the creation time in RFC3339.
func (h HistoryRow) CreatedAt() string {
	if h.ImageHistory.Created == nil {
		return ""
	}
	return h.ImageHistory.Created.Format(time.RFC3339)
}

// CreatedSince is always the human form.
func (h HistoryRow) CreatedSince() string {
	if h.ImageHistory.Created == nil {
		return ""
	}
	return format.HumanDuration(time.Since(*h.ImageHistory.Created)) + " ago"
}

// CreatedBy is the instruction, cut to 45 characters unless --no-trunc.
func (h HistoryRow) CreatedBy() string {
	c := strings.TrimSpace(h.ImageHistory.CreatedBy)
	if !h.NoTrunc && len(c) > 45 {
		return c[:42] + "..."
	}
	return c
}

// Size is the layer size, human unless --human=false.
func (h HistoryRow) Size() string {
	if h.Human {
		return format.HumanSize(h.ImageHistory.Size)
	}
	return strconv.FormatInt(h.ImageHistory.Size, 10)
}

// Comment is the layer's comment.
func (h HistoryRow) Comment() string { return h.ImageHistory.Comment }

// Tags are the names of the layer's image.
func (h HistoryRow) Tags() string { return strings.Join(h.ImageHistory.Tags, ",") }
