package main

import (
	"github.com/skiffcontainers/skiff/pkg/image"
	"github.com/spf13/cobra"
)

func newPushCommand(string) *cobra.Command {
	var (
		reg              registryFlags
		format           string
		quiet            bool
		removeSignatures bool
		digestFile       string
		compression      string
	)
	cmd := &cobra.Command{
		Use:   "push [options] IMAGE [DESTINATION]",
		Short: "Push an image to a specified destination",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			dest := ""
			if len(args) == 2 {
				dest = args[1]
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			return rt.Images.Push(cmd.Context(), args[0], dest, image.PushOptions{
				RegistryOptions:  reg.options(cmd),
				Format:           format,
				Progress:         progressWriter(quiet),
				RemoveSignatures: removeSignatures,
				DigestFile:       digestFile,
				Compression:      compression,
			})
		},
	}
	reg.add(cmd, true)
	fl := cmd.Flags()
	fl.StringVarP(&format, "format", "f", "", "Manifest type (oci, v2s2, or v2s1) to use in the destination (default is manifest type of source, with fallbacks)")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Suppress output information when pushing images")
	fl.BoolVar(&removeSignatures, "remove-signatures", false, "Discard any pre-existing signatures in the image")
	fl.StringVar(&digestFile, "digestfile", "", "Write the digest of the pushed image to the specified file")
	fl.StringVar(&compression, "compression-format", "", "compression format to use")
	fl.Bool("disable-content-trust", false, "This is a Docker specific option and is a NOOP")
	_ = fl.MarkHidden("disable-content-trust")
	return cmd
}
