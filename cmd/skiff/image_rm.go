package main

import (
	"fmt"
	"os"

	"github.com/skiffcontainers/skiff/pkg/image"
	"github.com/spf13/cobra"
)

func newRemoveCommand(use string) *cobra.Command {
	var o image.RemoveOptions
	cmd := &cobra.Command{
		Use:   use + " [options] IMAGE [IMAGE...]",
		Short: "Remove one or more images from local storage",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			rep, errs := rt.Images.Remove(cmd.Context(), args, o)
			for _, u := range rep.Untagged {
				fmt.Println("Untagged: " + u)
			}
			for _, d := range rep.Deleted {
				fmt.Println("Deleted: " + d)
			}
			if len(errs) == 0 {
				return nil
			}
			// podman prints every error and exits with the code of the most severe one.
			for _, e := range errs[:len(errs)-1] {
				fmt.Fprintln(os.Stderr, "Error: "+oneLine(e.Error()))
			}
			return withCode(rep.ExitCode, errs[len(errs)-1])
		},
	}
	if use == "rm" {
		cmd.Aliases = []string{"remove"}
	}
	fl := cmd.Flags()
	fl.BoolVarP(&o.All, "all", "a", false, "Remove all images")
	fl.BoolVarP(&o.Force, "force", "f", false, "Force Removal of the image")
	fl.BoolVarP(&o.Ignore, "ignore", "i", false, "Ignore errors if a specified image does not exist")
	return cmd
}

func newTagCommand(string) *cobra.Command {
	return &cobra.Command{
		Use:   "tag IMAGE TARGET_NAME [TARGET_NAME...]",
		Short: "Add an additional name to a local image",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			return rt.Images.Tag(args[0], args[1:])
		},
	}
}

func newUntagCommand(string) *cobra.Command {
	return &cobra.Command{
		Use:   "untag IMAGE [IMAGE...]",
		Short: "Remove a name from a local image",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			return rt.Images.Untag(args[0], args[1:])
		},
	}
}

func newImageExistsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "exists IMAGE",
		Short: "Check if an image exists in local storage",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			ok, err := rt.Images.Exists(args[0])
			if err != nil {
				return err
			}
			if !ok {
				return withCode(1, nil)
			}
			return nil
		},
	}
}

func newImagePruneCommand() *cobra.Command {
	var (
		all, force bool
		filters    []string
	)
	cmd := &cobra.Command{
		Use:   "prune [options]",
		Short: "Remove unused images",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !force {
				what := "dangling images"
				if all {
					what = "images not in use by containers"
				}
				ok, err := confirm(fmt.Sprintf("WARNING! This command removes all %s.\nAre you sure you want to continue? [y/N] ", what))
				if err != nil || !ok {
					return err
				}
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			ids, err := rt.Images.Prune(cmd.Context(), all, filters)
			for _, id := range ids {
				fmt.Println(id)
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "a", false, "Remove all images not in use by containers, not just dangling ones")
	fl.BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	fl.StringArrayVar(&filters, "filter", nil, "Provide filter values (e.g. 'label=<key>=<value>')")
	return cmd
}
