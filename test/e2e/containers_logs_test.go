package e2e

import (
	"bufio"
	"context"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestContainerLogs: logs keeps stdout and stderr apart, -t, --tail,
// --since, partial lines, two containers, and the k8s-file log itself.
func TestContainerLogs(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		name := Unique("logs")
		e.Forget(t, name)
		r := e.Run(t, "run", "--name", name, "--network", "none", BusyboxRef, "sh", "-c", "echo one; echo two >&2; sleep 1.5; echo three")
		WantExit(t, r, 0)

		r = e.RunOK(t, "logs", name)
		if r.Stdout != "one\nthree\n" || Stderr(r) != "two\n" {
			t.Fatalf("logs: stdout %q stderr %q, want %q and %q", r.Stdout, Stderr(r), "one\nthree\n", "two\n")
		}

		// -t: an RFC 3339 UTC timestamp with nanoseconds, a blank, the line.
		r = e.RunOK(t, "logs", "-t", name)
		reTS := regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,9}Z) (.*)$`)
		stamps := map[string]time.Time{}
		for _, l := range append(nonEmptyLines(r.Stdout), nonEmptyLines(Stderr(r))...) {
			m := reTS.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("logs -t line %q, want like %q", l, "2026-11-23T19:18:49.524790037Z one")
			}
			ts, err := time.Parse(time.RFC3339Nano, m[1])
			if err != nil {
				t.Fatal(err)
			}
			stamps[m[2]] = ts
		}
		if len(stamps) != 3 || stamps["three"].Sub(stamps["one"]) < time.Second || time.Since(stamps["one"]) > 2*time.Minute {
			t.Fatalf("logs -t stamps %v: want one, two, three, three 1.5s after one, all recent", stamps)
		}
		if len(nonEmptyLines(r.Stdout)) != 2 || len(nonEmptyLines(Stderr(r))) != 1 {
			t.Fatalf("logs -t: want 2 stdout and 1 stderr line:\n%s", r)
		}

		r = e.RunOK(t, "logs", "--tail", "1", name)
		if r.Stdout != "three\n" || Stderr(r) != "" {
			t.Fatalf("logs --tail 1: stdout %q stderr %q, want %q and nothing", r.Stdout, Stderr(r), "three\n")
		}
		r = e.RunOK(t, "logs", "--tail", "2", name)
		if r.Stdout != "three\n" || Stderr(r) != "two\n" {
			t.Fatalf("logs --tail 2: stdout %q stderr %q", r.Stdout, Stderr(r))
		}
		since := stamps["three"].Add(-500 * time.Millisecond).Format(time.RFC3339Nano)
		r = e.RunOK(t, "logs", "--since", since, name)
		if r.Stdout != "three\n" || Stderr(r) != "" {
			t.Fatalf("logs --since %s: stdout %q stderr %q, want only three", since, r.Stdout, Stderr(r))
		}
		if r = e.RunOK(t, "logs", "--since", "10m", name); r.Stdout != "one\nthree\n" {
			t.Fatalf("logs --since 10m: stdout %q", r.Stdout)
		}
		if r = e.RunOK(t, "logs", "--since", "2099-01-01T00:00:00Z", name); r.Stdout != "" || Stderr(r) != "" {
			t.Fatalf("logs --since the future: %q %q, want nothing", r.Stdout, Stderr(r))
		}

		// The k8s-file log: "<RFC 3339 time> <stream> <F|P> <text>" lines.
		path := e.Inspect(t, name, "{{.HostConfig.LogConfig.Path}}")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf(".HostConfig.LogConfig.Path %q: %v", path, err)
		}
		reK8s := regexp.MustCompile(`^(\S+) (stdout|stderr) ([FP]) (.*)$`)
		var entries []string
		for _, l := range nonEmptyLines(string(data)) {
			m := reK8s.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("log file line %q does not match %s", l, reK8s)
			}
			if _, err := time.Parse(time.RFC3339Nano, m[1]); err != nil {
				t.Fatalf("log file line %q: time %v", l, err)
			}
			entries = append(entries, strings.Join(m[2:], " "))
		}
		if want := []string{"stdout F one", "stderr F two", "stdout F three"}; strings.Join(entries, "|") != strings.Join(want, "|") {
			t.Fatalf("log file entries %q, want %q", entries, want)
		}

		// A last line without a newline is a partial (P) entry, and logs
		// gives it back as it was.
		part := Unique("partial")
		e.Forget(t, part)
		r = e.Run(t, "run", "--name", part, "--network", "none", BusyboxRef, "printf", `a\nb-no-newline`)
		if r.Code != 0 || r.Stdout != "a\nb-no-newline" {
			t.Fatalf("run printf: want stdout %q:\n%s", "a\nb-no-newline", r)
		}
		if r = e.RunOK(t, "logs", part); r.Stdout != "a\nb-no-newline" {
			t.Fatalf("logs of a partial last line: %q, want %q", r.Stdout, "a\nb-no-newline")
		}
		data, err = os.ReadFile(e.Inspect(t, part, "{{.HostConfig.LogConfig.Path}}"))
		if err != nil {
			t.Fatal(err)
		}
		entries = nil
		for _, l := range nonEmptyLines(string(data)) {
			if m := reK8s.FindStringSubmatch(l); m != nil {
				entries = append(entries, strings.Join(m[2:], " "))
			}
		}
		if want := []string{"stdout F a", "stdout P b-no-newline"}; strings.Join(entries, "|") != strings.Join(want, "|") {
			t.Fatalf("log file entries %q, want %q", entries, want)
		}

		// Two containers: every line prefixed with its container's short ID.
		second := Unique("second")
		e.Forget(t, second)
		e.RunOK(t, "run", "--name", second, "--network", "none", BusyboxRef, "printf", `a\nb\n`)
		id1, id2 := e.Inspect(t, name, "{{.Id}}")[:12], e.Inspect(t, second, "{{.Id}}")[:12]
		r = e.RunOK(t, "logs", name, second)
		got := nonEmptyLines(r.Stdout)
		sort.Strings(got)
		want := []string{id1 + " one", id1 + " three", id2 + " a", id2 + " b"}
		sort.Strings(want)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("logs of two containers: stdout %q, want the lines %q", r.Stdout, want)
		}
		if Stderr(r) != id1+" two\n" {
			t.Fatalf("logs of two containers: stderr %q, want %q", Stderr(r), id1+" two\n")
		}
	})
}

// TestContainerLogsFollow: logs -f prints what a running container writes as
// it writes it, and returns when the container stops.
func TestContainerLogsFollow(t *testing.T) {
	ForEachCtrMode(t, func(t *testing.T, e *Env) {
		name := e.Detached(t, "follow", nil, "sh", "-c", "i=0; while :; do i=$((i+1)); echo line$i; sleep 0.2; done")
		ctx, cancel := context.WithTimeout(context.Background(), e.Timeout)
		defer cancel()
		cmd := e.Command(ctx, "logs", "-f", name)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1000)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		start := time.Now()
		for i := 1; i <= 3; i++ {
			select {
			case l := <-lines:
				if want := "line" + strconv.Itoa(i); l != want {
					t.Fatalf("logs -f line %d = %q, want %q", i, l, want)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("logs -f printed %d lines in 20s", i-1)
			}
		}
		// Lines keep coming while it follows.
		last := ""
		for time.Since(start) < 2*time.Second {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("logs -f ended while the container runs; stderr %q", stderr.String())
				}
				last = l
			case <-time.After(3 * time.Second):
				t.Fatal("logs -f printed nothing for 3s while the container prints every 0.2s")
			}
		}
		if n, _ := strconv.Atoi(strings.TrimPrefix(last, "line")); n < 6 {
			t.Fatalf("after 2s logs -f is at %q, want line6 or later", last)
		}
		e.RunOK(t, "stop", "-t", "0", name)
		done := make(chan error, 1)
		go func() {
			for range lines {
			}
			done <- cmd.Wait()
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("logs -f exited with %v after the container stopped; stderr %q", err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatal("logs -f did not return within 20s of the container stopping")
		}
		// logs -f of a stopped container prints everything and returns.
		r := e.RunOK(t, "logs", "-f", name)
		if l := r.Lines(); len(l) < 6 || l[0] != "line1" {
			t.Fatalf("logs -f of a stopped container: %q", l)
		}
	})
}
