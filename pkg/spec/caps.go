package spec

import (
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"go.podman.io/common/pkg/capabilities"
	"go.podman.io/common/pkg/config"
)

// processCapabilities is podman's capability rule.
//
// The bounding set is containers.conf's default_capabilities with --cap-add/--cap-drop applied (or, with
// --privileged, every capability the caller has), always cut down to the caller's own bounding set: on a
// host without CAP_SYS_RESOURCE, "ALL" must not ask the runtime for it. An image label
// io.containers.capabilities narrows it further when everything it names is allowed.
//
// uid 0 gets the bounding set as effective and permitted. Any other uid starts with nothing but the
// capabilities named by --cap-add, which it also gets as inheritable and ambient so they survive the exec.
// Inheritable and ambient are otherwise empty, as the kernel does for root.
func processCapabilities(o *Options, uid uint32, h *hostInfo) (*specs.LinuxCapabilities, error) {
	inBounding := func(caps []string) []string {
		var out []string
		for _, c := range caps {
			if slices.Contains(h.boundingSet, c) {
				out = append(out, c)
			}
		}
		return out
	}

	var caplist []string
	if o.Privileged {
		caplist = slices.Clone(h.boundingSet)
	} else {
		base := o.DefaultCapabilities
		if base == nil {
			base = config.DefaultCapabilities
		}
		merged, err := capabilities.MergeCapabilities(base, o.CapAdd, o.CapDrop)
		if err != nil {
			return nil, invalidArg(err)
		}
		caplist = inBounding(merged)

		if req, ok := requiredCapsLabel(o.Labels); ok {
			if len(req) == 1 && req[0] == "" {
				caplist = nil
			} else {
				required, err := capabilities.MergeCapabilities(nil, req, nil)
				if err != nil {
					return nil, invalidArgf("capabilities requested by user or image are not valid: %q: %w", strings.Join(req, ","), err)
				}
				var missing []string
				for _, c := range required {
					if !slices.Contains(caplist, c) {
						missing = append(missing, c)
					}
				}
				if len(missing) == 0 {
					caplist = required
				} else {
					logrus.Errorf("Capabilities requested by user or image are not allowed by default: %q", strings.Join(missing, ","))
				}
			}
		}
	}
	slices.Sort(caplist)

	caps := &specs.LinuxCapabilities{Bounding: caplist}
	if uid == 0 {
		caps.Effective = slices.Clone(caplist)
		caps.Permitted = slices.Clone(caplist)
		return caps, nil
	}
	added, err := capabilities.MergeCapabilities(nil, o.CapAdd, nil)
	if err != nil {
		return nil, invalidArgf("capabilities requested by user are not valid: %q: %w", strings.Join(o.CapAdd, ","), err)
	}
	userCaps := inBounding(added)
	caps.Effective = userCaps
	caps.Permitted = slices.Clone(userCaps)
	caps.Inheritable = slices.Clone(userCaps)
	caps.Ambient = slices.Clone(userCaps)
	return caps, nil
}

func requiredCapsLabel(labels map[string]string) ([]string, bool) {
	for _, key := range capabilities.ContainerImageLabels {
		if v, ok := labels[key]; ok {
			return strings.Split(v, ","), true
		}
	}
	return nil, false
}

// BoundingCapabilities returns the capabilities in the calling process's bounding set, sorted: what
// --privileged grants (all the caller has, never a fixed "all" list), or nil if it cannot be read.
func BoundingCapabilities() []string {
	caps, err := capabilities.BoundingSet()
	if err != nil {
		return nil
	}
	return slices.Clone(caps)
}
