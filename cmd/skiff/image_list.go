package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/pkg/format"
	"github.com/skiffcontainers/skiff/pkg/image"
	"github.com/spf13/cobra"
)

type listFlags struct {
	all       bool
	filters   []string
	format    string
	digests   bool
	noHeading bool
	noTrunc   bool
	quiet     bool
	sort      string
	history   bool
}

func newListCommand(use string) *cobra.Command {
	var f listFlags
	cmd := &cobra.Command{
		Use:   use + " [options] [IMAGE]",
		Short: "List images in local storage",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(f.filters) > 0 && len(args) > 0 {
				return fmt.Errorf("cannot specify an image and a filter(s): %w", define.ErrInvalidArg)
			}
			filters := f.filters
			if len(args) > 0 {
				filters = append(filters, "reference="+args[0])
			}
			if _, err := image.Rows(nil, f.sort); err != nil {
				return err
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			sums, err := rt.Images.List(cmd.Context(), image.ListOptions{All: f.all, Filters: filters})
			if err != nil {
				return err
			}
			rows, err := image.Rows(sums, f.sort)
			if err != nil {
				return err
			}
			return f.write(rows)
		},
	}
	if use == "list" {
		cmd.Aliases = []string{"ls"}
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.all, "all", "a", false, "Show all images (default hides intermediate images)")
	fl.StringArrayVarP(&f.filters, "filter", "f", nil, "Filter output based on conditions provided (default [])")
	fl.StringVar(&f.format, "format", "", "Change the output format to JSON or a Go template")
	fl.BoolVar(&f.digests, "digests", false, "Show digests")
	fl.BoolVarP(&f.noHeading, "noheading", "n", false, "Do not print column headings")
	fl.BoolVar(&f.noTrunc, "no-trunc", false, "Do not truncate output")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "Display only image IDs")
	fl.StringVar(&f.sort, "sort", "created", "Sort by created, id, repository, size, tag")
	fl.BoolVar(&f.history, "history", false, "Display the image name history")
	return cmd
}

func (f *listFlags) write(rows []image.Row) error {
	for i := range rows {
		rows[i].NoTrunc = f.noTrunc
	}
	switch {
	case format.IsJSON(f.format):
		return format.JSON(os.Stdout, jsonImages(rows))
	case f.quiet:
		seen := map[string]bool{}
		for _, r := range rows {
			if id := r.ID(); !seen[id] {
				seen[id] = true
				fmt.Println(id)
			}
		}
		return nil
	}
	cols := []string{"{{if .Repository}}{{.Repository}}{{else}}<none>{{end}}", "{{if .Tag}}{{.Tag}}{{else}}<none>{{end}}"}
	if f.digests {
		cols = append(cols, "{{.Digest}}")
	}
	cols = append(cols, "{{.ID}}", "{{.Created}}", "{{.Size}}")
	if f.history {
		cols = append(cols, "{{if .History}}{{.History}}{{else}}<none>{{end}}")
	}
	return format.Table{
		Name:          "images",
		UserFormat:    f.format,
		DefaultFormat: "{{range . }}" + strings.Join(cols, "\t") + "\n{{end -}}",
		Headers:       image.Row{},
		HeaderNames:   map[string]string{"ID": "IMAGE ID", "ReadOnly": "R/O"},
		NoHeading:     f.noHeading,
	}.Write(os.Stdout, rows)
}

// jsonImages is podman 4.3's JSON listing: one entry per row, Created also as RFC3339, and RepoTags null
// (the tags are in Names).
func jsonImages(rows []image.Row) any {
	type entry struct {
		image.Summary
		Created   int64
		CreatedAt string
	}
	out := make([]entry, 0, len(rows))
	for _, r := range rows {
		e := entry{Summary: r.Summary, Created: r.Summary.Created, CreatedAt: time.Unix(r.Summary.Created, 0).UTC().Format(time.RFC3339Nano)}
		e.RepoTags = nil
		out = append(out, e)
	}
	return out
}
