package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/pkg/image"
	"github.com/spf13/cobra"
)

type pullFlags struct {
	registryFlags
	allTags          bool
	arch, os         string
	variant          string
	platform         string
	quiet            bool
	retry            uint
	removeSignatures bool
	policy           string
}

func newPullCommand(string) *cobra.Command {
	var f pullFlags
	cmd := &cobra.Command{
		Use:   "pull [options] IMAGE [IMAGE...]",
		Short: "Pull an image from a registry",
		Long:  "Pulls an image from a registry and stores it locally. An image can be pulled by tag or digest, from any transport of containers/image.",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := f.options(cmd)
			if err != nil {
				return err
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			for _, name := range args {
				ids, err := rt.Images.Pull(cmd.Context(), name, opts)
				if err != nil {
					return err
				}
				for _, id := range ids {
					fmt.Println(id)
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	f.registryFlags.add(cmd, true)
	fl.BoolVarP(&f.allTags, "all-tags", "a", false, "All tagged images in the repository will be pulled")
	fl.StringVar(&f.arch, "arch", "", "Use ARCH instead of the architecture of the machine for choosing images")
	fl.StringVar(&f.os, "os", "", "Use OS instead of the running OS for choosing images")
	fl.StringVar(&f.variant, "variant", "", "Use VARIANT instead of the running architecture variant for choosing images")
	fl.StringVar(&f.platform, "platform", "", "Specify the platform for selecting the image. (Conflicts with arch and os)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "Suppress output information when pulling images")
	fl.UintVar(&f.retry, "retry", 3, "Number of times to retry in case of failure when performing pull")
	fl.BoolVar(&f.removeSignatures, "remove-signatures", false, "Don't copy signatures when pulling image")
	fl.StringVar(&f.policy, "policy", "always", "Pull image policy (\"always\"|\"missing\"|\"never\"|\"newer\")")
	fl.Bool("disable-content-trust", false, "This is a Docker specific option and is a NOOP")
	_ = fl.MarkHidden("disable-content-trust")
	return cmd
}

func (f *pullFlags) options(cmd *cobra.Command) (image.PullOptions, error) {
	o := image.PullOptions{
		RegistryOptions:  f.registryFlags.options(cmd),
		Policy:           f.policy,
		AllTags:          f.allTags,
		Arch:             f.arch,
		OS:               f.os,
		Variant:          f.variant,
		RemoveSignatures: f.removeSignatures,
	}
	if cmd.Flags().Changed("retry") {
		o.Retry = &f.retry
	}
	if f.platform != "" {
		if f.arch != "" || f.os != "" {
			return o, fmt.Errorf("--platform option can not be specified with --arch or --os: %w", define.ErrInvalidArg)
		}
		parts := strings.Split(f.platform, "/")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return o, fmt.Errorf("invalid platform %q: want OS/ARCH[/VARIANT]: %w", f.platform, define.ErrInvalidArg)
		}
		o.OS, o.Arch = parts[0], parts[1]
		if len(parts) == 3 {
			o.Variant = parts[2]
		}
	}
	o.Progress = progressWriter(f.quiet)
	return o, nil
}

// progressWriter is stderr unless --quiet: containers/image draws bars on a terminal and plain lines
// otherwise.
func progressWriter(quiet bool) io.Writer {
	if quiet {
		return nil
	}
	return os.Stderr
}
