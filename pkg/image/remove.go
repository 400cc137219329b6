package image

import (
	"context"
	"errors"
	"fmt"

	"github.com/skiffcontainers/skiff/libpod/define"
	"go.podman.io/common/libimage"
	"go.podman.io/storage"
)

// RemoveOptions are the flags of skiff rmi.
type RemoveOptions struct {
	All    bool
	Force  bool
	Ignore bool
}

// RemoveReport says what rmi did, in podman's words and with podman's exit code: 0, 1 when an image was not
// found (and nothing else failed), 2 when an image is in use or has children, 125 otherwise.
type RemoveReport struct {
	Untagged []string
	Deleted  []string
	ExitCode int
}

// Remove untags or removes the named images, or all of them with All.
func (s *Service) Remove(ctx context.Context, names []string, o RemoveOptions) (RemoveReport, []error) {
	if o.All && len(names) > 0 {
		return RemoveReport{ExitCode: define.ExitEngine}, []error{fmt.Errorf("when using the --all switch, you may not pass any images names or IDs: %w", define.ErrInvalidArg)}
	}
	if !o.All && len(names) == 0 {
		return RemoveReport{ExitCode: define.ExitEngine}, []error{fmt.Errorf("image name or ID must be specified: %w", define.ErrInvalidArg)}
	}
	// As in podman, --force also ignores names that match no image.
	opts := &libimage.RemoveImagesOptions{Force: o.Force, Ignore: o.Ignore || o.Force}
	if s.RemoveContainersOf != nil {
		opts.RemoveContainerFunc = s.RemoveContainersOf
	}
	if o.All {
		opts.Filters = []string{"readonly=false"}
	}
	reports, errs := s.rt.RemoveImages(contextOrBackground(ctx), names, opts)
	return collectRemovals(reports, errs)
}

func collectRemovals(reports []*libimage.RemoveImageReport, errs []error) (RemoveReport, []error) {
	var rep RemoveReport
	for _, r := range reports {
		rep.Untagged = append(rep.Untagged, r.Untagged...)
		if r.Removed {
			rep.Deleted = append(rep.Deleted, r.ID)
		}
	}
	out := make([]error, 0, len(errs))
	for _, err := range errs {
		code := define.ExitEngine
		switch {
		case errors.Is(err, storage.ErrImageUnknown):
			code = 1
		case errors.Is(err, storage.ErrImageUsedByContainer), errors.Is(err, define.ErrImageInUse):
			code = 2
		}
		// The most severe error decides: in use (2) beats not found (1); anything else is 125.
		if code == define.ExitEngine || (rep.ExitCode != define.ExitEngine && code > rep.ExitCode) {
			rep.ExitCode = code
		}
		out = append(out, err)
	}
	return rep, out
}

// Prune removes dangling images (all unused ones with all) until none is left, and returns their IDs.
func (s *Service) Prune(ctx context.Context, all bool, filters []string) ([]string, error) {
	f := append([]string{}, filters...)
	if !all {
		f = append(f, "dangling=true")
	}
	f = append(f, "containers=false", "readonly=false")
	var removed []string
	// Removing a dangling image can make its parent dangling: repeat until a round removes nothing.
	for {
		reports, errs := s.rt.RemoveImages(contextOrBackground(ctx), nil, &libimage.RemoveImagesOptions{Filters: f})
		if len(errs) > 0 {
			return removed, errors.Join(errs...)
		}
		n := 0
		for _, r := range reports {
			if r.Removed {
				removed = append(removed, r.ID)
				n++
			}
		}
		if n == 0 {
			return removed, nil
		}
	}
}

// Tag adds names to an image.
func (s *Service) Tag(source string, names []string) error {
	img, err := s.Lookup(source)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := img.Tag(n); err != nil {
			return fmt.Errorf("tagging %s as %s: %w", source, n, err)
		}
	}
	return nil
}

// Untag removes names from an image, or all its names when none is given.
func (s *Service) Untag(source string, names []string) error {
	img, err := s.Lookup(source)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		names = img.Names()
	}
	for _, n := range names {
		if err := img.Untag(n); err != nil {
			return fmt.Errorf("untagging %s: %w", n, err)
		}
	}
	return nil
}
