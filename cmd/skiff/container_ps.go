package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/skiffcontainers/skiff/libpod"
	"github.com/skiffcontainers/skiff/pkg/format"
	"github.com/spf13/cobra"
)

type psFlags struct {
	o         libpod.PsOptions
	format    string
	noTrunc   bool
	quiet     bool
	noHeading bool
	sort      string
	namespace bool
	pod       bool
}

func newPsCommand(use string) *cobra.Command {
	var f psFlags
	cmd := &cobra.Command{
		Use:   use + " [options]",
		Short: "List containers",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.o.Last > 0 || f.o.Latest {
				f.o.All = true
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			list, warnings, err := rt.ListContainers(f.o)
			if err != nil {
				return err
			}
			for _, w := range warnings {
				fmt.Fprintln(os.Stderr, "Error: "+oneLine(w.Error()))
			}
			return f.write(list)
		},
	}
	if use == "list" {
		cmd.Aliases = []string{"ls", "ps"}
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.o.All, "all", "a", false, "Show all the containers, default is only running containers")
	fl.StringArrayVarP(&f.o.Filters, "filter", "f", nil, "Filter output based on conditions given")
	fl.StringVar(&f.format, "format", "", "Pretty-print containers to JSON or using a Go template")
	fl.IntVarP(&f.o.Last, "last", "n", -1, "Print the n last created containers (all states)")
	fl.BoolVarP(&f.o.Latest, "latest", "l", false, "Act on the latest container podman is aware of")
	fl.BoolVar(&f.noTrunc, "no-trunc", false, "Display the extended information")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "Print the numeric IDs of the containers only")
	fl.BoolVar(&f.noHeading, "noheading", false, "Do not print headers")
	fl.BoolVarP(&f.o.Size, "size", "s", false, "Display the total file sizes")
	f.sort = "created"
	fl.Var(&enumFlag{value: &f.sort, allowed: []string{"command", "created", "id", "image", "names", "runningfor", "size", "status"}},
		"sort", "Sort output by: command, created, id, image, names, runningfor, size, status")
	fl.BoolVar(&f.o.External, "external", false, "Show containers in storage not controlled by skiff")
	fl.BoolVar(&f.namespace, "ns", false, "Display namespace information")
	fl.BoolVarP(&f.pod, "pod", "p", false, "Print the ID and name of the pod the containers are associated with")
	return cmd
}

// psRow is one ps line with podman's template methods.
type psRow struct {
	libpod.ListContainer
	noTrunc bool
}

func (r psRow) ID() string {
	if r.noTrunc {
		return r.ListContainer.ID
	}
	return r.ListContainer.ID[:12]
}

func (r psRow) Image() string { return r.ListContainer.Image }

func (r psRow) Command() string {
	c := strings.Join(r.ListContainer.Command, " ")
	if !r.noTrunc && len(c) > 17 {
		return c[:17] + "..."
	}
	return c
}

func (r psRow) created() time.Time { return time.Unix(r.ListContainer.Created, 0) }

func (r psRow) CreatedHuman() string {
	return format.HumanDuration(time.Since(r.created())) + " ago"
}

func (r psRow) CreatedAt() string { return r.created().String() }

func (r psRow) Created() string { return r.CreatedHuman() }

func (r psRow) RunningFor() string { return r.CreatedHuman() }

// State is podman's human state: "Up 3 seconds ago", "Exited (0) 2 seconds ago", "Created".
func (r psRow) State() string {
	switch r.ListContainer.State {
	case libpod.StatusRunning:
		return "Up " + format.HumanDuration(time.Since(time.Unix(r.StartedAt, 0))) + " ago"
	case libpod.StatusExited, libpod.StatusStopped:
		return fmt.Sprintf("Exited (%d) %s ago", r.ExitCode, format.HumanDuration(time.Since(time.Unix(r.ExitedAt, 0))))
	case libpod.StatusPaused:
		return "Paused"
	case "storage":
		return "Storage"
	case "":
		return "Unknown"
	}
	return strings.ToUpper(r.ListContainer.State[:1]) + r.ListContainer.State[1:]
}

func (r psRow) Status() string { return r.State() }

func (r psRow) Names() string { return strings.Join(r.ListContainer.Names, ",") }

func (r psRow) Ports() string { return "" }

func (r psRow) Labels() string {
	var parts []string
	for k, v := range r.ListContainer.Labels {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (r psRow) Size() string {
	if r.ListContainer.Size == nil {
		return ""
	}
	return fmt.Sprintf("%s (virtual %s)", format.HumanSize(r.ListContainer.Size.RwSize), format.HumanSize(r.ListContainer.Size.RootFsSize))
}

func (r psRow) Mounts() string { return strings.Join(r.ListContainer.Mounts, ",") }

func (r psRow) Networks() string { return strings.Join(r.ListContainer.Networks, ",") }

func (r psRow) Restarts() int { return r.ListContainer.Restarts }

func (f *psFlags) write(list []libpod.ListContainer) error {
	rows := make([]psRow, 0, len(list))
	for _, c := range list {
		rows = append(rows, psRow{ListContainer: c, noTrunc: f.noTrunc})
	}
	sortPs(rows, f.sort)
	switch {
	case format.IsJSON(f.format):
		if list == nil {
			list = []libpod.ListContainer{}
		}
		sorted := make([]libpod.ListContainer, 0, len(rows))
		for _, r := range rows {
			e := r.ListContainer
			e.Status = r.State()
			sorted = append(sorted, e)
		}
		return format.JSON(os.Stdout, sorted)
	case f.quiet && f.format == "":
		for _, r := range rows {
			fmt.Println(r.ID())
		}
		return nil
	}
	cols := "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
	if f.o.Size {
		cols += "\t{{.Size}}"
	}
	return format.Table{
		Name:          "ps",
		UserFormat:    f.format,
		DefaultFormat: "{{range . }}" + cols + "\n{{end -}}",
		Headers:       psHeaders{},
		HeaderNames:   map[string]string{"ID": "CONTAINER ID", "CreatedHuman": "CREATED", "RunningFor": "RUNNING FOR", "PodName": "PODNAME", "Pod": "POD ID"},
		NoHeading:     f.noHeading,
	}.Write(os.Stdout, rows)
}

// psHeaders names the columns a ps template can use.
type psHeaders struct {
	ID, Image, Command, CreatedHuman, CreatedAt, Created, RunningFor, Status, State, Ports, Names, Labels string
	Size, Mounts, Networks, Pod, PodName, Pid, ExitCode, Restarts, ImageID                                string
}

func sortPs(rows []psRow, key string) {
	less := map[string]func(a, b psRow) bool{
		"command":    func(a, b psRow) bool { return a.Command() < b.Command() },
		"id":         func(a, b psRow) bool { return a.ListContainer.ID < b.ListContainer.ID },
		"image":      func(a, b psRow) bool { return a.ListContainer.Image < b.ListContainer.Image },
		"names":      func(a, b psRow) bool { return a.Names() < b.Names() },
		"status":     func(a, b psRow) bool { return a.ListContainer.State < b.ListContainer.State },
		"runningfor": func(a, b psRow) bool { return a.CreatedNano > b.CreatedNano },
		"size": func(a, b psRow) bool {
			if a.ListContainer.Size == nil || b.ListContainer.Size == nil {
				return false
			}
			return a.ListContainer.Size.RwSize < b.ListContainer.Size.RwSize
		},
	}[key]
	if less == nil { // created: oldest first, as podman 4.3 prints them
		less = func(a, b psRow) bool { return a.CreatedNano < b.CreatedNano }
	}
	sort.SliceStable(rows, func(i, j int) bool { return less(rows[i], rows[j]) })
}

// enumFlag is a string flag with a fixed set of values, refused at parse time with podman's wording.
type enumFlag struct {
	value   *string
	allowed []string
}

func (e *enumFlag) String() string { return *e.value }
func (e *enumFlag) Type() string   { return "string" }
func (e *enumFlag) Set(v string) error {
	for _, a := range e.allowed {
		if a == v {
			*e.value = v
			return nil
		}
	}
	return fmt.Errorf("%q is not a valid value.  Choose from: %q", v, strings.Join(e.allowed, ", "))
}
