package main

import (
	"os"

	"github.com/skiffcontainers/skiff/libpod"
	"github.com/spf13/cobra"
	"go.podman.io/common/pkg/auth"
	"go.podman.io/image/v5/types"
)

func newLoginCommand() *cobra.Command {
	var (
		opts      auth.LoginOptions
		tlsVerify bool
	)
	cmd := &cobra.Command{
		Use:   "login [options] [REGISTRY]",
		Short: "Log in to a container registry",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sys := registrySystemContext(cmd, tlsVerify)
			opts.Stdin, opts.Stdout = os.Stdin, os.Stdout
			opts.AcceptRepositories = true
			return auth.Login(cmd.Context(), sys, &opts, args)
		},
	}
	cmd.Flags().AddFlagSet(auth.GetLoginFlags(&opts))
	cmd.Flags().BoolVar(&tlsVerify, "tls-verify", true, "Require HTTPS and verify certificates when contacting registries")
	return cmd
}

func newLogoutCommand() *cobra.Command {
	var opts auth.LogoutOptions
	cmd := &cobra.Command{
		Use:   "logout [options] [REGISTRY]",
		Short: "Log out of a container registry",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Stdout = os.Stdout
			opts.AcceptRepositories = true
			return auth.Logout(registrySystemContext(cmd, true), &opts, args)
		},
	}
	cmd.Flags().AddFlagSet(auth.GetLogoutFlags(&opts))
	return cmd
}

// registrySystemContext is the image system context for commands that only talk to registries and so do
// not open storage (and do not enter the user namespace).
func registrySystemContext(cmd *cobra.Command, tlsVerify bool) *types.SystemContext {
	cfg, _ := libpod.LoadConfig(global.RuntimeOptions)
	sys := libpod.SystemContext(cfg)
	if cmd.Flags().Changed("tls-verify") {
		sys.DockerInsecureSkipTLSVerify = types.NewOptionalBool(!tlsVerify)
	}
	return sys
}
