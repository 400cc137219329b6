package libpod

import (
	"fmt"
	"github.com/docker/go-units"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/skiffcontainers/skiff/libpod/define"
)

// ListContainer is one container as podman 4.3's `ps --format json` shows it.
type ListContainer struct {
	AutoRemove bool              `json:"AutoRemove"`
	Command    []string          `json:"Command"`
	Created    int64             `json:"Created"`
	CreatedAt  string            `json:"CreatedAt"` // podman 4.3: how long ago, in words
	Exited     bool              `json:"Exited"`
	ExitedAt   int64             `json:"ExitedAt"`
	ExitCode   int32             `json:"ExitCode"`
	ID         string            `json:"Id"`
	Image      string            `json:"Image"`
	ImageID    string            `json:"ImageID"`
	IsInfra    bool              `json:"IsInfra"`
	Labels     map[string]string `json:"Labels"`
	Mounts     []string          `json:"Mounts"`
	Names      []string          `json:"Names"`
	Namespaces struct{}          `json:"Namespaces"`
	Networks   []string          `json:"Networks"`
	Pid        int               `json:"Pid"`
	Pod        string            `json:"Pod"`
	PodName    string            `json:"PodName"`
	Ports      []any             `json:"Ports"`
	Size       *ContainerSize    `json:"Size"`
	StartedAt  int64             `json:"StartedAt"`
	State      string            `json:"State"`
	Status     string            `json:"Status"`
	Restarts   int               `json:"Restarts"`
	// CreatedNano orders containers created within one second.
	CreatedNano int64 `json:"-"`
}

// ContainerSize is ps --size.
type ContainerSize struct {
	RootFsSize int64 `json:"rootFsSize"`
	RwSize     int64 `json:"rwSize"`
}

// PsOptions select containers for ps.
type PsOptions struct {
	All      bool
	Last     int
	Latest   bool
	Filters  []string
	Size     bool
	External bool // also storage containers other engines (podman, buildah) made
}

// ListContainers is ps: the containers that pass every filter, newest first. Corrupt documents are returned
// in warnings and skipped.
func (r *Runtime) ListContainers(o PsOptions) ([]ListContainer, []error, error) {
	preds, err := r.psFilters(o.Filters)
	if err != nil {
		return nil, nil, err
	}
	ctrs, warnings := r.Containers()
	// Newest first here, so that --latest and --last keep the newest; ps prints them oldest first.
	sort.Slice(ctrs, func(i, j int) bool { return ctrs[i].Config.Created.After(ctrs[j].Config.Created) })
	var out []ListContainer
	for _, c := range ctrs {
		if !o.All && !hasStatusFilter(o.Filters) && c.State.Status != StatusRunning && c.State.Status != StatusPaused {
			continue
		}
		keep := true
		for _, p := range preds {
			if !p(c) {
				keep = false
				break
			}
		}
		if !keep {
			continue
		}
		out = append(out, c.listEntry(o.Size))
	}
	if o.External {
		out = append(out, r.externalContainers(ctrs)...)
	}
	if o.Latest && len(out) > 1 {
		out = out[:1]
	}
	if o.Last > 0 && len(out) > o.Last {
		out = out[:o.Last]
	}
	return out, warnings, nil
}

func (c *Container) listEntry(withSize bool) ListContainer {
	cmd := c.Command()
	e := ListContainer{
		AutoRemove:  c.Config.Remove,
		Command:     cmd,
		Created:     c.Config.Created.Unix(),
		CreatedNano: c.Config.Created.UnixNano(),
		CreatedAt:   units.HumanDuration(time.Since(c.Config.Created)) + " ago",
		StartedAt:   c.State.StartedAt.Unix(),
		ExitedAt:    c.State.FinishedAt.Unix(),
		ExitCode:    int32(c.State.ExitCode),
		ID:          c.Config.ID,
		Image:       c.Config.ImageName,
		ImageID:     c.Config.ImageID,
		Labels:      c.Config.Labels,
		Names:       []string{c.Config.Name},
		Pid:         c.State.Pid,
		State:       c.State.Status,
		Restarts:    c.State.RestartCount,
	}
	e.Exited = c.State.Status == StatusExited || c.State.Status == StatusStopped
	if withSize {
		if rw, err := c.rt.Store.ContainerSize(c.Config.ID); err == nil {
			e.Size = &ContainerSize{RwSize: rw}
			if img, err := c.rt.Store.ImageSize(c.Config.ImageID); err == nil {
				e.Size.RootFsSize = img + rw
			}
		}
	}
	return e
}

// Command is the container's command line: the effective entrypoint and arguments.
func (c *Container) Command() []string {
	s := c.Config.Spec
	var args []string
	if s.Entrypoint != nil {
		args = append(args, (*s.Entrypoint)...)
	} else {
		args = append(args, s.ImageConfig.Entrypoint...)
	}
	if len(s.Command) > 0 {
		args = append(args, s.Command...)
	} else if s.Entrypoint == nil || len(*s.Entrypoint) == 0 {
		args = append(args, s.ImageConfig.Cmd...)
	}
	return args
}

func hasStatusFilter(filters []string) bool {
	for _, f := range filters {
		if strings.HasPrefix(f, "status=") {
			return true
		}
	}
	return false
}

type containerPredicate func(*Container) bool

// psFilters builds podman's ps filters: id, name (a regular expression), status, label, ancestor, exited,
// before, since. Several values of one key are ORed; different keys are ANDed.
func (r *Runtime) psFilters(filters []string) ([]containerPredicate, error) {
	byKey := map[string][]string{}
	var order []string
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("invalid filter %q: want KEY=VALUE: %w", f, define.ErrInvalidArg)
		}
		if _, seen := byKey[k]; !seen {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], v)
	}
	var preds []containerPredicate
	for _, k := range order {
		vals := byKey[k]
		var one func(v string) (containerPredicate, error)
		switch k {
		case "id":
			one = func(v string) (containerPredicate, error) {
				return func(c *Container) bool { return strings.HasPrefix(c.Config.ID, v) }, nil
			}
		case "name":
			one = func(v string) (containerPredicate, error) {
				re, err := regexp.Compile(v)
				if err != nil {
					return nil, fmt.Errorf("invalid name filter %q: %w", v, define.ErrInvalidArg)
				}
				return func(c *Container) bool { return re.MatchString(c.Config.Name) }, nil
			}
		case "status":
			one = func(v string) (containerPredicate, error) {
				switch v {
				case "created", "running", "paused", "exited", "stopped", "unknown", "configured", "removing", "stopping":
				default:
					return nil, fmt.Errorf("%s is not a valid status: %w", v, define.ErrInvalidArg)
				}
				return func(c *Container) bool {
					return c.State.Status == v || (v == "exited" && c.State.Status == StatusStopped)
				}, nil
			}
		case "label":
			one = func(v string) (containerPredicate, error) {
				lk, lv, hasValue := strings.Cut(v, "=")
				return func(c *Container) bool {
					got, ok := c.Config.Labels[lk]
					return ok && (!hasValue || got == lv)
				}, nil
			}
		case "ancestor":
			one = func(v string) (containerPredicate, error) {
				var id string
				if img, err := r.Images.Lookup(v); err == nil {
					id = img.ID()
				}
				return func(c *Container) bool {
					return (id != "" && c.Config.ImageID == id) || c.Config.Image == v || c.Config.ImageName == v ||
						strings.HasPrefix(c.Config.ImageID, v)
				}, nil
			}
		case "exited":
			one = func(v string) (containerPredicate, error) {
				code, err := strconv.Atoi(v)
				if err != nil {
					return nil, fmt.Errorf("exited code out of range %q: %w", v, define.ErrInvalidArg)
				}
				return func(c *Container) bool {
					return (c.State.Status == StatusExited || c.State.Status == StatusStopped) && c.State.ExitCode == code
				}, nil
			}
		case "before", "since":
			before := k == "before"
			one = func(v string) (containerPredicate, error) {
				ref, err := r.LookupContainer(v)
				if err != nil {
					return nil, err
				}
				t := ref.Config.Created
				return func(c *Container) bool {
					if before {
						return c.Config.Created.Before(t)
					}
					return c.Config.Created.After(t)
				}, nil
			}
		default:
			return nil, fmt.Errorf("%s is an invalid filter: %w", k, define.ErrInvalidArg)
		}
		var alts []containerPredicate
		for _, v := range vals {
			p, err := one(v)
			if err != nil {
				return nil, err
			}
			alts = append(alts, p)
		}
		preds = append(preds, func(c *Container) bool {
			for _, p := range alts {
				if p(c) {
					return true
				}
			}
			return false
		})
	}
	return preds, nil
}

// externalContainers are the store's containers that skiff has no record of (buildah's working
// containers, podman's), listed as podman's --external lists them.
func (r *Runtime) externalContainers(known []*Container) []ListContainer {
	mine := map[string]bool{}
	for _, c := range known {
		mine[c.Config.ID] = true
	}
	scs, err := r.Store.Containers()
	if err != nil {
		return nil
	}
	var out []ListContainer
	for _, sc := range scs {
		if mine[sc.ID] {
			continue
		}
		image := sc.ImageID
		if img, err := r.Store.Image(sc.ImageID); err == nil && len(img.Names) > 0 {
			image = img.Names[0]
		}
		out = append(out, ListContainer{
			ID: sc.ID, Names: sc.Names, Image: image, ImageID: sc.ImageID, Created: sc.Created.Unix(),
			CreatedNano: sc.Created.UnixNano(), CreatedAt: units.HumanDuration(time.Since(sc.Created)) + " ago",
			State: "storage", StartedAt: time.Time{}.Unix(), ExitedAt: time.Time{}.Unix(), Command: []string{},
		})
	}
	return out
}
