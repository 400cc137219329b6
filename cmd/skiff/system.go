package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/skiffcontainers/skiff/libpod"
	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/pkg/format"
	"github.com/skiffcontainers/skiff/rootless"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// gitCommit and buildTime are set with -ldflags -X by release builds.
var (
	gitCommit string
	buildTime string
)

func versionInfo() libpod.VersionInfo {
	built, _ := strconv.ParseInt(buildTime, 10, 64)
	return libpod.NewVersionInfo(Version, gitCommit, built)
}

func newVersionCommand() *cobra.Command {
	var userFormat string
	cmd := &cobra.Command{
		Use:   "version [options]",
		Short: "Display the skiff version information",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := struct{ Client libpod.VersionInfo }{Client: versionInfo()}
			switch {
			case format.IsJSON(userFormat):
				b, err := json.Marshal(v)
				if err != nil {
					return err
				}
				fmt.Println(string(b))
				return nil
			case userFormat != "":
				return format.Template(os.Stdout, "version", userFormat, v)
			}
			return format.Template(os.Stdout, "version", `Client:       skiff
Version:      {{.Client.Version}}
API Version:  {{.Client.APIVersion}}
Go Version:   {{.Client.GoVersion}}
{{if .Client.GitCommit}}Git Commit:   {{.Client.GitCommit}}
{{end}}Built:        {{.Client.BuiltTime}}
OS/Arch:      {{.Client.OsArch}}`, v)
		},
	}
	cmd.Flags().StringVarP(&userFormat, "format", "f", "", "Change the output format to JSON or a Go template")
	return cmd
}

func newInfoCommand() *cobra.Command {
	var userFormat string
	cmd := &cobra.Command{
		Use:   "info [options]",
		Short: "Display skiff system information",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			libpod.SetVersion(Version)
			info, err := rt.Info(versionInfo())
			if err != nil {
				return err
			}
			switch {
			case format.IsJSON(userFormat):
				b, err := json.MarshalIndent(info, "", "  ")
				if err != nil {
					return err
				}
				fmt.Println(string(b))
				return nil
			case userFormat != "":
				return format.Template(os.Stdout, "info", userFormat, info)
			}
			return printYAML(info)
		},
	}
	cmd.Flags().StringVarP(&userFormat, "format", "f", "", "Change the output format to JSON or a Go template")
	return cmd
}

// printYAML prints v as YAML with its JSON keys in struct order, as podman's info does: JSON is YAML, so the
// JSON document is read as a YAML node tree (which keeps order) and written back in block style.
func printYAML(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var node yaml.Node
	if err := yaml.Unmarshal(b, &node); err != nil {
		return err
	}
	blockStyle(&node)
	out, err := yaml.Marshal(&node)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}

func blockStyle(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style = 0
	}
	if n.Kind == yaml.ScalarNode && n.Style == yaml.DoubleQuotedStyle {
		n.Style = 0
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

func newUnshareCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "unshare [options] [COMMAND [ARG...]]",
		Short: "Run a command in a modified user namespace",
		Long:  "Runs a command in the user namespace that rootless skiff uses, with the graph root and run root in $CONTAINERS_GRAPHROOT and $CONTAINERS_RUNROOT.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if !rootless.IsRootless() {
				return fmt.Errorf("please use unshare with rootless: %w", define.ErrRootless)
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			graph, run := rt.Store.GraphRoot(), rt.Store.RunRoot()
			rt.Shutdown()
			if len(args) == 0 {
				shell := os.Getenv("SHELL")
				if shell == "" {
					shell = "/bin/sh"
				}
				args = []string{shell}
			}
			path, err := exec.LookPath(args[0])
			if err != nil {
				return withCode(define.ExitCommandNotFnd, fmt.Errorf("%s: %w", args[0], err))
			}
			env := append(os.Environ(), "CONTAINERS_GRAPHROOT="+graph, "CONTAINERS_RUNROOT="+run)
			err = syscall.Exec(path, args, env)
			return withCode(define.ExitCannotInvoke, fmt.Errorf("%s: %w", args[0], err))
		},
	}
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func newMigrateCommand() *cobra.Command {
	var newRuntime string
	cmd := &cobra.Command{
		Use:   "migrate [options]",
		Short: "Migrate containers",
		Long:  "Stops the rootless pause process, so that the next skiff call makes a user namespace with the current /etc/subuid and /etc/subgid.",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return rootless.StopPause()
		},
	}
	cmd.Flags().StringVar(&newRuntime, "new-runtime", "", "Specify a new runtime for all containers")
	return cmd
}
