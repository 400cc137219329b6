package main

import (
	"fmt"
	"os"

	"github.com/skiffcontainers/skiff/pkg/format"
	"github.com/skiffcontainers/skiff/pkg/image"
	"github.com/spf13/cobra"
)

func newHistoryCommand(string) *cobra.Command {
	var (
		human, noTrunc, quiet bool
		userFormat            string
	)
	cmd := &cobra.Command{
		Use:   "history [options] IMAGE",
		Short: "Show history of a specified image",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			layers, err := rt.Images.History(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if format.IsJSON(userFormat) {
				return format.JSON(os.Stdout, layers)
			}
			rows := make([]image.HistoryRow, 0, len(layers))
			for _, l := range layers {
				rows = append(rows, image.HistoryRow{ImageHistory: l, Human: human, NoTrunc: noTrunc})
			}
			if quiet {
				for _, r := range rows {
					fmt.Println(r.ID())
				}
				return nil
			}
			return format.Table{
				Name:          "history",
				UserFormat:    userFormat,
				DefaultFormat: "{{range . }}{{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}\n{{end -}}",
				Headers:       image.HistoryRow{},
				HeaderNames:   map[string]string{"CreatedBy": "CREATED BY"},
			}.Write(os.Stdout, rows)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&human, "human", "H", true, "Display sizes and dates in human readable format")
	fl.BoolVar(&noTrunc, "no-trunc", false, "Do not truncate the output")
	fl.BoolVar(&noTrunc, "notruncate", false, "Do not truncate the output")
	_ = fl.MarkHidden("notruncate")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Display the numeric IDs only")
	fl.StringVar(&userFormat, "format", "", "Change the output to JSON or a Go template")
	return cmd
}
