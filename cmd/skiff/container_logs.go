package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/skiffcontainers/skiff/libpod"
	"github.com/skiffcontainers/skiff/libpod/define"
	"github.com/spf13/cobra"
)

func newLogsCommand(string) *cobra.Command {
	var (
		follow, timestamps, names, latest bool
		since, until                      string
		tail                              int
	)
	cmd := &cobra.Command{
		Use:   "logs [options] CONTAINER [CONTAINER...]",
		Short: "Fetch the logs of one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			o := libpod.LogOptions{Follow: follow, Tail: tail}
			var err error
			if o.Since, err = parseTimeFlag(since); err != nil {
				return fmt.Errorf("--since: %w", err)
			}
			if o.Until, err = parseTimeFlag(until); err != nil {
				return fmt.Errorf("--until: %w", err)
			}
			rt, err := newRuntime(cmd)
			if err != nil {
				return err
			}
			defer rt.Shutdown()
			refs, err := containerRefs(rt, args, false, latest, nil)
			if err != nil {
				return err
			}
			var ctrs []*libpod.Container
			for _, ref := range refs {
				c, err := rt.LookupContainer(ref)
				if err != nil {
					return err
				}
				ctrs = append(ctrs, c)
			}
			prefix := names || len(ctrs) > 1
			var mu sync.Mutex
			var wg sync.WaitGroup
			errs := make([]error, len(ctrs))
			for i, c := range ctrs {
				print := func(l libpod.LogLine) error {
					mu.Lock()
					defer mu.Unlock()
					var w io.Writer = os.Stdout
					if l.Stream == "stderr" {
						w = os.Stderr
					}
					line := l.Text
					if timestamps {
						line = l.Time.Format(time.RFC3339Nano) + " " + line
					}
					if prefix {
						p := c.ID()[:12]
						if names {
							p = c.Name()
						}
						line = p + " " + line
					}
					if !l.Partial {
						line += "\n"
					}
					_, err := io.WriteString(w, line)
					return err
				}
				if !follow {
					if err := c.Logs(cmd.Context(), o, print); err != nil {
						return err
					}
					continue
				}
				wg.Add(1)
				go func(i int, c *libpod.Container) {
					defer wg.Done()
					errs[i] = c.Logs(cmd.Context(), o, print)
				}(i, c)
			}
			wg.Wait()
			for _, e := range errs {
				if e != nil {
					return e
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&follow, "follow", "f", false, "Follow log output")
	fl.BoolVarP(&timestamps, "timestamps", "t", false, "Output the timestamps in the log")
	fl.BoolVarP(&names, "names", "n", false, "Output the container name in the log")
	fl.BoolVarP(&latest, "latest", "l", false, "Act on the latest container podman is aware of")
	fl.StringVar(&since, "since", "", "Show logs since TIMESTAMP")
	fl.StringVar(&until, "until", "", "Show logs until TIMESTAMP")
	fl.IntVar(&tail, "tail", -1, "Output the specified number of LINES at the end of the logs. Defaults to -1, which prints all lines")
	return cmd
}

// parseTimeFlag reads podman's --since/--until: RFC3339 (with or without nanoseconds or zone), a date, a
// unix timestamp, or a duration before now ("10m").
func parseTimeFlag(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	var sec, nsec int64
	if n, _ := fmt.Sscanf(v, "%d.%d", &sec, &nsec); n >= 1 {
		return time.Unix(sec, nsec), nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q: %w", v, define.ErrInvalidArg)
}
