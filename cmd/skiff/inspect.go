package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/skiffcontainers/skiff/libpod"
	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/pkg/format"
	"github.com/spf13/cobra"
)

type inspectFlags struct {
	format string
	kind   string
	size   bool
}

func newInspectCommand(string) *cobra.Command {
	var f inspectFlags
	cmd := &cobra.Command{
		Use:   "inspect [options] {CONTAINER|IMAGE|POD|NETWORK|VOLUME} [...]",
		Short: "Display the configuration of object denoted by ID",
		Args:  cobra.MinimumNArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return runInspect(cmd, args, f) },
	}
	cmd.Flags().StringVarP(&f.format, "format", "f", "json", "Format the output to a Go template or json")
	cmd.Flags().StringVarP(&f.kind, "type", "t", "all", "Specify inspect-object type (\"image\", \"container\" or \"all\")")
	cmd.Flags().BoolVarP(&f.size, "size", "s", false, "Display total file size")
	return cmd
}

func newImageInspectCommand() *cobra.Command {
	var f inspectFlags
	cmd := &cobra.Command{
		Use:   "inspect [options] IMAGE [IMAGE...]",
		Short: "Display the configuration of an image",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.kind = "image"
			return runInspect(cmd, args, f)
		},
	}
	cmd.Flags().StringVarP(&f.format, "format", "f", "json", "Format the output to a Go template or json")
	return cmd
}

// runInspect prints every object found, then fails for the ones that were not, as podman does.
func runInspect(cmd *cobra.Command, names []string, f inspectFlags) error {
	switch f.kind {
	case "all", "image", "container":
	case "pod", "volume", "network":
		return fmt.Errorf("inspecting %ss is not available yet in this skiff: %w", f.kind, define.ErrInvalidArg)
	default:
		return fmt.Errorf("invalid type %q: must be \"image\", \"container\", \"pod\", \"network\", \"volume\", or \"all\": %w", f.kind, define.ErrInvalidArg)
	}
	rt, err := newRuntime(cmd)
	if err != nil {
		return err
	}
	defer rt.Shutdown()
	var (
		found []any
		errs  []error
	)
	for _, name := range names {
		data, err := inspectOne(cmd, rt, name, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		found = append(found, data)
	}
	if err := printInspect(found, f.format); err != nil {
		return err
	}
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs[1:] {
		fmt.Fprintf(os.Stderr, "error inspecting object: %v\n", e)
	}
	return fmt.Errorf("inspecting object: %w", errs[0])
}

// inspectOne looks for a container first, then an image, as podman does with --type all.
func inspectOne(cmd *cobra.Command, rt *libpod.Runtime, name string, f inspectFlags) (any, error) {
	if f.kind == "all" || f.kind == "container" {
		c, err := rt.LookupContainer(name)
		if err == nil {
			return c.Inspect(f.size)
		}
		if !errors.Is(err, define.ErrNoSuchCtr) {
			return nil, err
		}
		if f.kind == "container" {
			return nil, fmt.Errorf("no such container %s", name)
		}
	}
	data, err := rt.Images.Inspect(cmd.Context(), name)
	if f.kind == "all" && errors.Is(err, define.ErrNoSuchImage) {
		return nil, fmt.Errorf("no such object: %q", name)
	}
	return data, err
}

func newContainerInspectCommand() *cobra.Command {
	var f inspectFlags
	cmd := &cobra.Command{
		Use:   "inspect [options] CONTAINER [CONTAINER...]",
		Short: "Display the configuration of a container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.kind = "container"
			return runInspect(cmd, args, f)
		},
	}
	cmd.Flags().StringVarP(&f.format, "format", "f", "json", "Format the output to a Go template or json")
	cmd.Flags().BoolVarP(&f.size, "size", "s", false, "Display total file size")
	return cmd
}

// printInspect writes podman's inspect JSON (an array, five-space indent) or each item through a template.
func printInspect(items []any, userFormat string) error {
	if userFormat == "" || format.IsJSON(userFormat) {
		if items == nil {
			items = []any{}
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "     ")
		return enc.Encode(items)
	}
	userFormat = inspectNormalize(userFormat)
	for _, item := range items {
		if err := format.Template(os.Stdout, "inspect", userFormat, item); err != nil {
			return err
		}
	}
	return nil
}

var dockerIDField = regexp.MustCompile(`{{\s*\.Id\s*}}`)

// inspectNormalize accepts Docker's spellings in inspect templates, as podman does: {{.Id}}, .Src, .Dst,
// .ImageID and .Config.Healthcheck.
func inspectNormalize(tmpl string) string {
	tmpl = dockerIDField.ReplaceAllString(tmpl, "{{.ID}}")
	return strings.NewReplacer(".Src", ".Source", ".Dst", ".Destination", ".ImageID", ".Image",
		".Config.Healthcheck", ".HealthCheck").Replace(tmpl)
}
