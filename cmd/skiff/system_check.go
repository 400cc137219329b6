package main

import (
	"fmt"

	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/spf13/cobra"
)

func newSystemCheckCommand() *cobra.Command {
	var repair bool
	cmd := &cobra.Command{
		Use:   "check [options]",
		Short: "Find (and with --repair, fix) what a crash left behind",
		Long:  "Finds unreadable state files, containers whose skiff-shim died, stale mounts, skiff storage containers without a record and stale lock files.",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			problems, err := rt.Check(repair)
			if err != nil {
				return err
			}
			unrepaired := 0
			for _, p := range problems {
				state := "found"
				switch {
				case p.Repaired:
					state = "repaired"
				case p.Err != nil:
					state = "not repaired: " + p.Err.Error()
				}
				if !p.Repaired {
					unrepaired++
				}
				fmt.Printf("%s %s: %s (%s)\n", p.Kind, p.ID, p.Detail, state)
			}
			if unrepaired > 0 {
				hint := ""
				if !repair {
					hint = ": run \"skiff system check --repair\""
				}
				return fmt.Errorf("%d problem(s) left%s: %w", unrepaired, hint, define.ErrCtrStateInvalid)
			}
			if len(problems) == 0 {
				fmt.Println("No problems found")
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&repair, "repair", "r", false, "Remove or fix what is damaged")
	cmd.Flags().BoolP("force", "f", false, "Accepted for podman compatibility")
	cmd.Flags().BoolP("quick", "q", false, "Accepted for podman compatibility")
	return cmd
}
