package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/skiffcontainers/skiff/pkg/image"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newSaveCommand(string) *cobra.Command {
	var (
		o     image.SaveOptions
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "save [options] IMAGE [IMAGE...]",
		Short: "Save image(s) to an archive",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			toStdout := o.Output == "" || o.Output == "/dev/stdout"
			if toStdout && term.IsTerminal(int(os.Stdout.Fd())) {
				return fmt.Errorf("refusing to save to terminal. Use -o flag or redirect: %w", define.ErrInvalidArg)
			}
			if o.Compress && o.Format != "oci-dir" && o.Format != "docker-dir" {
				return fmt.Errorf("--compress can only be set when --format is either 'oci-dir' or 'docker-dir': %w", define.ErrInvalidArg)
			}
			if !quiet && !toStdout {
				o.Progress = os.Stderr
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			if !toStdout {
				return rt.Images.Save(cmd.Context(), args, o)
			}
			// Archive writers seek, so the archive is built in a temporary file and then streamed.
			tmp, err := os.CreateTemp(rt.Images.TempDir(), "skiff-save-")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			defer tmp.Close()
			o.Output = tmp.Name()
			if err := os.Remove(tmp.Name()); err != nil {
				return err
			}
			if err := rt.Images.Save(cmd.Context(), args, o); err != nil {
				return err
			}
			f, err := os.Open(tmp.Name())
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(os.Stdout, f)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.Output, "output", "o", "", "Write to a specified file (default: stdout, which must be redirected)")
	fl.StringVar(&o.Format, "format", "docker-archive", "Save image to oci-archive, oci-dir (directory with oci manifest type), docker-archive, docker-dir (directory with v2s2 manifest type)")
	fl.BoolVarP(&o.MultiImage, "multi-image-archive", "m", false, "Interpret additional arguments as images not tags and create a multi-image-archive (only for docker-archive)")
	fl.BoolVar(&o.Compress, "compress", false, "Compress tarball image layers when saving to a directory using the 'dir' transport. (default is same compression type as source)")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Suppress the output")
	return cmd
}

func newLoadCommand(string) *cobra.Command {
	var (
		input string
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "load [options]",
		Short: "Load image(s) from a tar archive",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			path := input
			if path == "" {
				if term.IsTerminal(int(os.Stdin.Fd())) {
					return fmt.Errorf("cannot read from terminal, use command-line redirection or the --input flag: %w", define.ErrInvalidArg)
				}
				tmp, err := spoolStdin(rt.Images.TempDir(), "skiff-load-")
				if err != nil {
					return err
				}
				defer os.Remove(tmp)
				path = tmp
			} else if _, err := os.Stat(path); err != nil {
				return err
			}
			var progress io.Writer
			if !quiet {
				progress = os.Stderr
			}
			names, err := rt.Images.Load(cmd.Context(), path, progress)
			if err != nil {
				return err
			}
			for _, n := range names {
				fmt.Println("Loaded image: " + n)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&input, "input", "i", "", "Read from specified archive file (default: stdin)")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Suppress the output")
	return cmd
}

func newImportCommand(string) *cobra.Command {
	var (
		o     image.ImportOptions
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "import [options] PATH [REFERENCE]",
		Short: "Import a tarball to create a filesystem image",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				o.Reference = args[1]
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			path := args[0]
			switch {
			case path == "-":
				tmp, err := spoolStdin(rt.Images.TempDir(), "skiff-import-")
				if err != nil {
					return err
				}
				defer os.Remove(tmp)
				path = tmp
			default:
				st, err := os.Stat(path)
				if err != nil {
					return fmt.Errorf("import source %q: %w", path, errors.Join(err, define.ErrInvalidArg))
				}
				if st.IsDir() {
					return fmt.Errorf("import source %q is a directory, not a tarball: %w", path, define.ErrInvalidArg)
				}
			}
			if !quiet {
				o.Progress = os.Stderr
			}
			id, err := rt.Images.Import(cmd.Context(), path, o)
			if err != nil {
				return err
			}
			fmt.Println("sha256:" + id)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&o.Changes, "change", "c", nil, "Apply the following possible instructions to the created image (default []): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR")
	fl.StringVarP(&o.Message, "message", "m", "", "Set commit message for imported image")
	fl.StringVar(&o.OS, "os", "", "Set the OS of the imported image")
	fl.StringVar(&o.Arch, "arch", "", "Set the architecture of the imported image")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Suppress output")
	return cmd
}

// spoolStdin copies standard input into a temporary file: archive readers need to seek.
func spoolStdin(dir, prefix string) (string, error) {
	f, err := os.CreateTemp(dir, prefix)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(f, os.Stdin); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
