package main

import (
	"github.com/skiffcontainers/skiff/libpod"
	"github.com/skiffcontainers/skiff/pkg/image"
	"github.com/spf13/cobra"
	"go.podman.io/image/v5/types"
)

// Version is skiff's version, set at link time by the Makefile where a release sets it.
var Version = "0.1.0-dev"

// addCommands builds the command tree. Image verbs exist twice, as podman has them: "skiff image pull" and
// "skiff pull"; each maker returns a fresh command bound to its own options.
func addCommands(root *cobra.Command) {
	imageGroup := &cobra.Command{
		Use:   "image",
		Short: "Manage images",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.AddCommand(imageGroup)

	both := []func(use string) *cobra.Command{
		newPullCommand, newPushCommand, newTagCommand, newUntagCommand, newHistoryCommand,
		newSaveCommand, newLoadCommand, newImportCommand,
	}
	for _, make := range both {
		root.AddCommand(make(""))
		imageGroup.AddCommand(make(""))
	}
	root.AddCommand(newListCommand("images"), newRemoveCommand("rmi"), newInspectCommand(""))
	imageGroup.AddCommand(newListCommand("list"), newRemoveCommand("rm"), newImageInspectCommand(),
		newImageExistsCommand(), newImagePruneCommand())

	containerGroup := &cobra.Command{
		Use:   "container",
		Short: "Manage containers",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.AddCommand(containerGroup)
	for _, make := range []func(string) *cobra.Command{
		newCreateCommand, newRunCommand, newStartCommand, newStopCommand, newKillCommand, newWaitCommand,
		newRestartCommand, newRenameCommand, newLogsCommand, newExecCommand, newInitCommand, newMountCommand,
		newUnmountCommand, newDiffCommand, newExportCommand, newAttachCommand, newTopCommand, newCommitCommand,
		newCpCommand,
	} {
		root.AddCommand(make(""))
		containerGroup.AddCommand(make(""))
	}
	root.AddCommand(newRemoveContainerCommand("rm"), newPsCommand("ps"), newPauseCommand(true), newPauseCommand(false))
	containerGroup.AddCommand(newRemoveContainerCommand("rm"), newPsCommand("list"), newPauseCommand(true),
		newPauseCommand(false), newContainerExistsCommand(), newCleanupCommand(), newContainerInspectCommand(),
		newContainerPruneCommand())

	system := &cobra.Command{
		Use:   "system",
		Short: "Manage skiff",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	system.AddCommand(newInfoCommand(), newMigrateCommand(), newSystemCheckCommand())
	root.AddCommand(system, newInfoCommand(), newVersionCommand(), newUnshareCommand(),
		newLoginCommand(), newLogoutCommand())
}

// newRuntime opens the engine with the global flags.
func newRuntime(cmd *cobra.Command) (*libpod.Runtime, error) {
	opts := global.RuntimeOptions
	opts.Storage.DriverOptsSet = cmd.Flags().Changed("storage-opt")
	return libpod.NewRuntime(cmd.Context(), opts)
}

// registryFlags are --tls-verify, --authfile, --cert-dir and --creds.
type registryFlags struct {
	tlsVerify bool
	authfile  string
	certDir   string
	creds     string
}

func (r *registryFlags) add(cmd *cobra.Command, withCreds bool) {
	f := cmd.Flags()
	f.BoolVar(&r.tlsVerify, "tls-verify", true, "Require HTTPS and verify certificates when contacting registries")
	f.StringVar(&r.authfile, "authfile", "", "Path of the authentication file. Use REGISTRY_AUTH_FILE environment variable to override")
	f.StringVar(&r.certDir, "cert-dir", "", "Path to a directory containing TLS certificates and keys")
	if withCreds {
		f.StringVar(&r.creds, "creds", "", "Credentials (USERNAME:PASSWORD) to use for authenticating to a registry")
	}
}

// options leaves TLS verification to registries.conf unless --tls-verify was given.
func (r *registryFlags) options(cmd *cobra.Command) image.RegistryOptions {
	o := image.RegistryOptions{AuthFile: r.authfile, CertDir: r.certDir, Creds: r.creds}
	if cmd.Flags().Changed("tls-verify") {
		o.TLSVerify = types.NewOptionalBool(r.tlsVerify)
	}
	return o
}
