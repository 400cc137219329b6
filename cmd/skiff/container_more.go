package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/skiffcontainers/skiff/libpod"
	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/libpod/shim"
	"github.com/skiffcontainers/skiff/pkg/format"
	"github.com/skiffcontainers/skiff/rootless"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// withContainer opens the runtime and finds one container.
func withContainer(cmd *cobra.Command, ref string, fn func(*libpod.Runtime, *libpod.Container) error) error {
	return withContainerMsg(cmd, ref, func(err error) error { return err }, fn)
}

// withContainerMsg is withContainer with podman's per-verb wording for a missing container.
func withContainerMsg(cmd *cobra.Command, ref string, missing func(error) error, fn func(*libpod.Runtime, *libpod.Container) error) error {
	rt, err := newRuntime(cmd)
	if err != nil {
		return err
	}
	defer rt.Shutdown()
	c, err := rt.LookupContainer(ref)
	if err != nil {
		if errors.Is(err, define.ErrNoSuchCtr) {
			return missing(err)
		}
		return err
	}
	return fn(rt, c)
}

// missingAs rewrites a missing-container error with podman's wording for one verb, keeping its kind.
func missingAs(msg string) func(error) error {
	return func(err error) error { return &wrappedMsg{msg: msg, err: err} }
}

type wrappedMsg struct {
	msg string
	err error
}

func (w *wrappedMsg) Error() string { return w.msg }
func (w *wrappedMsg) Unwrap() error { return w.err }

func newInitCommand(string) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "init [options] CONTAINER [CONTAINER...]",
		Short: "Initialize one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			refs, err := containerRefs(rt, args, all, false, func(c *libpod.Container) bool { return c.State.Status == libpod.StatusCreated })
			if err != nil {
				return err
			}
			return eachContainer(rt, refs, func(c *libpod.Container) error {
				if err := c.Init(cmd.Context()); err != nil {
					return startError(cmd.Context(), c, err)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Initialize all containers")
	return cmd
}

func newContainerPruneCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "prune [options]",
		Short: "Remove all non running containers",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !force {
				ok, err := confirm("WARNING! This will remove all non running containers.\nAre you sure you want to continue? [y/N] ")
				if err != nil || !ok {
					return err
				}
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			removed, err := rt.PruneContainers(cmd.Context())
			for _, id := range removed {
				fmt.Println(id)
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	cmd.Flags().StringArray("filter", nil, "Provide filter values (e.g. 'label=<key>=<value>')")
	return cmd
}

// requireMountNamespace: a rootless mount lives in the pause process's mount namespace, invisible outside
// it; podman therefore asks for `unshare` first.
func requireMountNamespace(verb string) error {
	if rootless.IsRootless() && !rootless.Inherited() {
		return fmt.Errorf("cannot run command \"skiff %s\" in rootless mode, must execute `skiff unshare` first: %w", verb, define.ErrRootless)
	}
	return nil
}

func newMountCommand(string) *cobra.Command {
	var noTrunc bool
	cmd := &cobra.Command{
		Use:   "mount [options] [CONTAINER...]",
		Short: "Mount a working container's root filesystem",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireMountNamespace("mount"); err != nil {
				return err
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			if len(args) == 0 {
				mounted, err := rt.MountedContainers()
				for _, m := range mounted {
					id := m.ID
					if !noTrunc {
						id = id[:12]
					}
					fmt.Printf("%s  %s\n", id, m.Path)
				}
				return err
			}
			return eachMount(rt, args, func(c *libpod.Container) error {
				p, err := c.Mount()
				if err == nil {
					fmt.Println(p)
				}
				return err
			})
		},
	}
	cmd.Flags().BoolP("all", "a", false, "Mount all containers")
	cmd.Flags().BoolVar(&noTrunc, "notruncate", false, "Do not truncate output")
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "Do not truncate output")
	cmd.Flags().String("format", "", "Print the mounted containers in specified format (json)")
	return cmd
}

func newUnmountCommand(string) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "unmount [options] CONTAINER [CONTAINER...]",
		Aliases: []string{"umount"},
		Short:   "Unmount working container's root filesystem",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireMountNamespace("unmount"); err != nil {
				return err
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			return eachContainer(rt, args, func(c *libpod.Container) error { return c.Unmount(force) })
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force the complete unmount of the specified mounted containers")
	return cmd
}

func eachMount(rt *libpod.Runtime, refs []string, fn func(*libpod.Container) error) error {
	for _, ref := range refs {
		c, err := rt.LookupContainer(ref)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

func newDiffCommand(string) *cobra.Command {
	var userFormat string
	cmd := &cobra.Command{
		Use:   "diff [options] CONTAINER",
		Short: "Inspect changes to the container's file systems",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withContainerMsg(cmd, args[0], missingAs(args[0]+" not found: layer not known"), func(_ *libpod.Runtime, c *libpod.Container) error {
				changes, err := c.Diff()
				if err != nil {
					return err
				}
				if format.IsJSON(userFormat) {
					out := map[string][]string{}
					for _, ch := range changes {
						key := map[string]string{"A": "added", "C": "changed", "D": "deleted"}[ch.Kind]
						out[key] = append(out[key], ch.Path)
					}
					return format.JSON(os.Stdout, out)
				}
				for _, ch := range changes {
					fmt.Println(ch.Kind + " " + ch.Path)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&userFormat, "format", "", "Change the output format (json)")
	return cmd
}

func newExportCommand(string) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "export [options] CONTAINER",
		Short: "Export container's filesystem contents as a tar archive",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" && term.IsTerminal(int(os.Stdout.Fd())) {
				return fmt.Errorf("refusing to export to terminal. Use -o flag or redirect: %w", define.ErrInvalidArg)
			}
			return withContainer(cmd, args[0], func(_ *libpod.Runtime, c *libpod.Container) error {
				var w io.Writer = os.Stdout
				if output != "" {
					f, err := os.Create(output)
					if err != nil {
						return err
					}
					defer f.Close()
					w = f
				}
				return c.Export(w)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a specified file (default: stdout, which must be redirected)")
	return cmd
}

func newAttachCommand(string) *cobra.Command {
	var (
		noStdin    bool
		detachKeys string
		sigProxy   bool
	)
	cmd := &cobra.Command{
		Use:   "attach [options] CONTAINER",
		Short: "Attach to a running container",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withContainer(cmd, args[0], func(_ *libpod.Runtime, c *libpod.Container) error {
				if c.State.Status != libpod.StatusRunning {
					return fmt.Errorf("you can only attach to running containers: %w", define.ErrCtrStateInvalid)
				}
				keys, err := shim.ParseDetachKeys(detachKeys)
				if err != nil {
					return fmt.Errorf("%w: %w", err, define.ErrInvalidArg)
				}
				streams := shim.Streams{Stdout: os.Stdout, Stderr: os.Stderr, Terminal: c.Config.Spec.Terminal, DetachKeys: keys}
				if !noStdin && c.Config.Spec.Stdin {
					streams.Stdin = os.Stdin
				}
				if c.Config.Spec.Terminal && streams.Stdin != nil && term.IsTerminal(int(os.Stdin.Fd())) {
					if old, err := term.MakeRaw(int(os.Stdin.Fd())); err == nil {
						defer term.Restore(int(os.Stdin.Fd()), old)
					}
				}
				if c.Config.Spec.Terminal && term.IsTerminal(int(os.Stdout.Fd())) {
					streams.Resize = watchResize(cmd.Context(), int(os.Stdout.Fd()))
				}
				// podman 4.3's attach exits 0 when the container's output ends, whatever its exit code.
				err = shim.Attach(cmd.Context(), c.RunDir(), streams)
				if errors.Is(err, shim.ErrDetached) {
					return nil
				}
				return err
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&noStdin, "no-stdin", false, "Do not attach STDIN. The default is false")
	fl.StringVar(&detachKeys, "detach-keys", "ctrl-p,ctrl-q", "Select the key sequence for detaching a container")
	fl.BoolVar(&sigProxy, "sig-proxy", true, "Proxy received signals to the process")
	return cmd
}

func newTopCommand(string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "top [options] CONTAINER [FORMAT-DESCRIPTORS|ARGS...]",
		Short: "Display the running processes of a container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withContainerMsg(cmd, args[0], func(err error) error { return fmt.Errorf("unable to look up requested container: %w", err) }, func(_ *libpod.Runtime, c *libpod.Container) error {
				var descriptors []string
				for _, a := range args[1:] {
					descriptors = append(descriptors, strings.Split(a, ",")...)
				}
				rows, err := c.Top(descriptors)
				if err != nil {
					return err
				}
				lines := make([]string, 0, len(rows))
				for _, r := range rows {
					lines = append(lines, strings.Join(r, "\t"))
				}
				return printTabbed(lines)
			})
		},
	}
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func printTabbed(lines []string) error {
	return format.Table{Name: "top", DefaultFormat: "{{range .}}{{.}}\n{{end -}}"}.Write(os.Stdout, lines)
}

func newCommitCommand(string) *cobra.Command {
	var (
		o      libpod.CommitOptions
		quiet  bool
		format string
	)
	cmd := &cobra.Command{
		Use:   "commit [options] CONTAINER [IMAGE]",
		Short: "Create new image based on the changed container",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				o.Reference = args[1]
			}
			if format != "" && format != "oci" && format != "docker" {
				return fmt.Errorf("unrecognized image type %q: %w", format, define.ErrInvalidArg)
			}
			if o.Message != "" && format != "docker" {
				return fmt.Errorf("messages are only compatible with the docker image format (-f docker): %w", define.ErrInvalidArg)
			}
			o.Docker = format == "docker"
			return withContainer(cmd, args[0], func(_ *libpod.Runtime, c *libpod.Container) error {
				if !quiet {
					fmt.Fprintln(os.Stderr, "Getting image source signatures")
				}
				id, err := c.Commit(cmd.Context(), o)
				if err != nil {
					return err
				}
				if !quiet {
					fmt.Fprintln(os.Stderr, "Writing manifest to image destination")
				}
				fmt.Println(id)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&o.Changes, "change", "c", nil, "Apply the following possible instructions to the created image (default []): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR")
	fl.StringVarP(&o.Message, "message", "m", "", "Set commit message for imported image")
	fl.StringVarP(&o.Author, "author", "a", "", "Set the author for the image committed")
	fl.BoolVarP(&o.Pause, "pause", "p", false, "Pause container during commit")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Suppress output")
	fl.StringVarP(&format, "format", "f", "oci", "Format of the image manifest and metadata")
	return cmd
}

func newCpCommand(string) *cobra.Command {
	var archiveMode bool
	cmd := &cobra.Command{
		Use:   "cp [options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH",
		Short: "Copy files/folders between a container and the local filesystem",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			srcCtr, srcPath := splitCpArg(args[0])
			dstCtr, dstPath := splitCpArg(args[1])
			switch {
			case srcCtr != "" && dstCtr != "":
				return fmt.Errorf("copying between containers is not supported: %w", define.ErrInvalidArg)
			case srcCtr == "" && dstCtr == "":
				return fmt.Errorf("one of the paths must name a container (CONTAINER:PATH): %w", define.ErrInvalidArg)
			case srcCtr != "":
				return withContainerMsg(cmd, srcCtr, cpMissing(srcCtr), func(_ *libpod.Runtime, c *libpod.Container) error {
					if dstPath == "-" {
						return c.CopyFromContainer(srcPath, os.Stdout, "")
					}
					return c.CopyOut(srcPath, dstPath)
				})
			}
			return withContainerMsg(cmd, dstCtr, cpMissing(dstCtr), func(_ *libpod.Runtime, c *libpod.Container) error {
				if srcPath == "-" {
					return c.CopyToContainer(os.Stdin, dstPath)
				}
				return c.CopyIn(srcPath, dstPath)
			})
		},
	}
	cmd.Flags().BoolVarP(&archiveMode, "archive", "a", true, "Chown copied files to the primary uid/gid of the destination container.")
	cmd.Flags().Bool("overwrite", false, "Allow to overwrite directories with non-directories and vice versa")
	return cmd
}

func cpMissing(name string) func(error) error {
	return missingAs("container " + strconv.Quote(name) + " does not exist")
}

func splitCpArg(a string) (ctr, path string) {
	if strings.HasPrefix(a, "/") || strings.HasPrefix(a, ".") || a == "-" {
		return "", a
	}
	if c, p, ok := strings.Cut(a, ":"); ok {
		return c, p
	}
	return "", a
}
