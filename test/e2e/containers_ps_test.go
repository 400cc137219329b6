package e2e

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// psHeader is podman's ps table header (an empty ps prints only this line).
const psHeader = "CONTAINER ID  IMAGE       COMMAND     CREATED     STATUS      PORTS       NAMES\n"

// psFixture makes three containers in a fresh store, created in this order:
// zeta (running, label e2e.k=v), alpha (exited 4), mid (created).
type psFixture struct {
	zeta, alpha, mid       string
	zetaID, alphaID, midID string
}

func newPsFixture(t *testing.T, e *Env) psFixture {
	t.Helper()
	var f psFixture
	f.zeta = e.Sleeper(t, "zeta", "--label", "e2e.k=v")
	f.alpha = Unique("alpha")
	e.Forget(t, f.alpha)
	WantExit(t, e.Run(t, "run", "--name", f.alpha, "--network", "none", BusyboxRef, "sh", "-c", "exit 4"), 4)
	f.mid = e.NewCtr(t, "mid", nil, "echo", "hello", "world")
	f.zetaID = e.Inspect(t, f.zeta, "{{.Id}}")
	f.alphaID = e.Inspect(t, f.alpha, "{{.Id}}")
	f.midID = e.Inspect(t, f.mid, "{{.Id}}")
	return f
}

// TestContainerPs: the table, filters and JSON of ps, on one store and
// fixture.
func TestContainerPs(t *testing.T) {
	ForEachIsolatedCtrMode(t, func(t *testing.T, e *Env) {
		if got := e.RunOK(t, "ps", "-a").Stdout; got != psHeader {
			t.Fatalf("ps -a of an empty store:\n%q\nwant\n%q", got, psHeader)
		}
		f := newPsFixture(t, e)
		t.Run("table", func(t *testing.T) { checkPsTable(t, e, f) })
		t.Run("filters", func(t *testing.T) { checkPsFilters(t, e, f) })
		t.Run("json", func(t *testing.T) { checkPsJSON(t, e, f) })
	})
}

// checkPsTable: the default table is laid out exactly like podman's (header,
// column widths, relative times), --noheading, -q, -a, -l, -n, --no-trunc,
// --sort, --format.
func checkPsTable(t *testing.T, e *Env, f psFixture) {

	// The table is laid out like Table(header + cells), and its cells are
	// the --format fields; CREATED and STATUS are relative times, which may
	// tick over between two commands, so they are matched by pattern.
	header := []string{"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}
	const fields = "{{.ID}}|{{.Image}}|{{.Command}}|{{.CreatedHuman}}|{{.Status}}|{{.Ports}}|{{.Names}}"
	reAgo := regexp.MustCompile(`^(Less than a second|1 second|[0-9]+ seconds) ago$`)
	for _, args := range [][]string{{"-a"}, {}, {"-a", "--no-trunc"}} {
		got := e.RunOK(t, append([]string{"ps"}, args...)...).Stdout
		var want [][]string
		for _, l := range e.RunOK(t, append(append([]string{"ps"}, args...), "--format", fields)...).Lines() {
			want = append(want, strings.Split(l, "|"))
		}
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		cells := [][]string{header}
		for _, l := range lines[1:] {
			cells = append(cells, cellsByHeader(lines[0], header, l))
		}
		if Table(cells) != got {
			t.Fatalf("ps %s is not laid out like podman's table:\n%s\nwant:\n%s", strings.Join(args, " "), got, Table(cells))
		}
		if len(cells)-1 != len(want) {
			t.Fatalf("ps %s: %d rows, --format gives %d:\n%s", strings.Join(args, " "), len(cells)-1, len(want), got)
		}
		for i, row := range cells[1:] {
			for j := range header {
				a, b := row[j], want[i][j]
				switch header[j] {
				case "CREATED":
					if !reAgo.MatchString(a) || !reAgo.MatchString(b) {
						t.Fatalf("ps %s row %d CREATED %q (--format %q), want like %q", strings.Join(args, " "), i, a, b, "3 seconds ago")
					}
				case "STATUS":
					if strings.Fields(a)[0] != strings.Fields(b)[0] || !(reUp.MatchString(a) || reExited(4).MatchString(a) || a == "Created") {
						t.Fatalf("ps %s row %d STATUS %q (--format %q)", strings.Join(args, " "), i, a, b)
					}
				default:
					if a != b {
						t.Fatalf("ps %s row %d %s %q, --format gives %q:\n%s", strings.Join(args, " "), i, header[j], a, b, got)
					}
				}
			}
		}
	}
	lines := e.RunOK(t, "ps", "-a").Lines()
	if len(lines) != 4 || !strings.HasPrefix(lines[1], f.zetaID[:12]+"  "+BusyboxRef+"  sleep 1000 ") ||
		!strings.HasPrefix(lines[2], f.alphaID[:12]) || !strings.HasPrefix(lines[3], f.midID[:12]) {
		t.Fatalf("ps -a: want the header then zeta, alpha, mid (by creation):\n%s", strings.Join(lines, "\n"))
	}
	noHead := e.RunOK(t, "ps", "-a", "--noheading").Lines()
	if len(noHead) != 3 || strings.HasPrefix(noHead[0], "CONTAINER ID") {
		t.Fatalf("ps -a --noheading: want 3 rows and no header, got:\n%s", strings.Join(noHead, "\n"))
	}

	short := func(ids ...string) []string {
		var out []string
		for _, id := range ids {
			out = append(out, id[:12])
		}
		return out
	}
	check := func(got, want []string, what string) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got %q, want %q", what, got, want)
		}
	}
	check(e.RunOK(t, "ps", "-a", "-q").Lines(), short(f.zetaID, f.alphaID, f.midID), "ps -a -q")
	check(e.RunOK(t, "ps", "-q").Lines(), short(f.zetaID), "ps -q")
	check(e.RunOK(t, "ps", "-a", "-q", "--no-trunc").Lines(), []string{f.zetaID, f.alphaID, f.midID}, "ps -a -q --no-trunc")
	check(e.PsNames(t, "-l"), []string{f.mid}, "ps -l")
	check(e.PsNames(t, "-n", "2"), []string{f.alpha, f.mid}, "ps -n 2")
	check(e.PsNames(t, "-a", "--sort", "names"), []string{f.alpha, f.mid, f.zeta}, "ps -a --sort names")
	check(e.PsNames(t, "-a", "--sort", "created"), []string{f.zeta, f.alpha, f.mid}, "ps -a --sort created")
	check(e.RunOK(t, "ps", "-a", "--format", "{{.Names}} {{.Status}}", "--filter", "status=created").Lines(), []string{f.mid + " Created"}, "ps --format '{{.Names}} {{.Status}}'")
	st := e.RunOK(t, "ps", "-a", "--format", "{{.Names}} {{.Status}}", "--filter", "status=exited").Lines()
	if len(st) != 1 || !strings.HasPrefix(st[0], f.alpha+" ") || !reExited(4).MatchString(strings.TrimPrefix(st[0], f.alpha+" ")) {
		t.Fatalf("ps --format '{{.Names}} {{.Status}}' of the exited container: %q, want %q", st, f.alpha+" Exited (4) 2 seconds ago")
	}
	cmd := e.RunOK(t, "ps", "-a", "--format", "{{.Command}}", "--filter", "name="+f.mid).Lines()
	check(cmd, []string{"echo hello world"}, "ps {{.Command}}")

	// Errors.
	AssertOneLineError(t, e.Run(t, "ps", "-a", "--filter", "bogus=1"), 125, "bogus is an invalid filter")
	WantUsageError(t, e.Run(t, "ps", "--sort", "bogus"), "ps",
		`invalid argument "bogus" for "--sort" flag: "bogus" is not a valid value.  Choose from: "command, created, id, image, names, runningfor, size, status"`)
}

// checkPsFilters: --filter name= id= status= label= ancestor= exited=.
func checkPsFilters(t *testing.T, e *Env, f psFixture) {
	for _, c := range []struct {
		filter string
		want   []string
	}{
		{"name=" + f.zeta, []string{f.zeta}},
		{"name=^" + f.alpha + "$", []string{f.alpha}},
		{"name=nomatch", nil},
		{"id=" + f.midID[:12], []string{f.mid}},
		{"id=" + f.alphaID, []string{f.alpha}},
		{"status=running", []string{f.zeta}},
		{"status=exited", []string{f.alpha}},
		{"status=created", []string{f.mid}},
		{"label=e2e.k=v", []string{f.zeta}},
		{"label=e2e.k", []string{f.zeta}},
		{"label=e2e.k=other", nil},
		{"ancestor=" + BusyboxRef, []string{f.zeta, f.alpha, f.mid}},
		{"ancestor=" + Busybox.ID, []string{f.zeta, f.alpha, f.mid}},
		{"ancestor=localhost/nope:1", nil},
		{"exited=4", []string{f.alpha}},
		{"exited=0", nil},
	} {
		got := e.PsNames(t, "-a", "--filter", c.filter)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ps -a --filter %s: got %q, want %q", c.filter, got, c.want)
		}
	}
	// Two filters of different keys must both match.
	if got := e.PsNames(t, "-a", "--filter", "status=exited", "--filter", "exited=4"); !reflect.DeepEqual(got, []string{f.alpha}) {
		t.Errorf("two filters: %q", got)
	}
	// Without -a, ps shows only running containers even with a filter.
	if got := e.PsNames(t, "--filter", "ancestor="+BusyboxRef); !reflect.DeepEqual(got, []string{f.zeta}) {
		t.Errorf("ps --filter ancestor= without -a: %q, want only the running one", got)
	}
}

// checkPsJSON: --format json is an array of podman's ps objects.
func checkPsJSON(t *testing.T, e *Env, f psFixture) {
	r := e.RunOK(t, "ps", "-a", "--format", "json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatalf("ps --format json: %v\n%s", err, r)
	}
	if len(list) != 3 {
		t.Fatalf("ps -a --format json: %d objects, want 3", len(list))
	}
	byName := map[string]map[string]any{}
	for _, c := range list {
		for _, k := range []string{"AutoRemove", "Command", "CreatedAt", "Exited", "ExitedAt", "ExitCode", "Id", "Image", "ImageID",
			"IsInfra", "Labels", "Mounts", "Names", "Namespaces", "Networks", "Pid", "Pod", "PodName", "Ports", "Size",
			"StartedAt", "State", "Status", "Created"} {
			if _, ok := c[k]; !ok {
				t.Errorf("ps json object has no %q (keys %q)", k, keys(c))
			}
		}
		names := toStrings(c["Names"])
		if len(names) != 1 {
			t.Fatalf("ps json Names = %v, want one name", c["Names"])
		}
		byName[names[0]] = c
	}
	now := time.Now().Unix()
	for _, c := range []struct {
		name, id, state string
		cmd             []string
		exitCode        float64
		exited          bool
	}{
		{f.zeta, f.zetaID, "running", []string{"sleep", "1000"}, 0, false},
		{f.alpha, f.alphaID, "exited", []string{"sh", "-c", "exit 4"}, 4, true},
		{f.mid, f.midID, "created", []string{"echo", "hello", "world"}, 0, false},
	} {
		o := byName[c.name]
		if o == nil {
			t.Fatalf("ps json has no %s", c.name)
		}
		if o["Id"] != c.id || o["State"] != c.state || o["Image"] != BusyboxRef || o["ImageID"] != Busybox.ID ||
			o["ExitCode"] != c.exitCode || o["Exited"] != c.exited || o["AutoRemove"] != false || o["IsInfra"] != false ||
			!reflect.DeepEqual(toStrings(o["Command"]), c.cmd) {
			t.Errorf("ps json %s = %v\nwant Id %s State %s Image %s ImageID %s ExitCode %v Exited %v Command %q",
				c.name, o, c.id, c.state, BusyboxRef, Busybox.ID, c.exitCode, c.exited, c.cmd)
		}
		created, _ := o["Created"].(float64)
		if int64(created) < now-120 || int64(created) > now+5 {
			t.Errorf("ps json %s Created = %v, want a Unix time of the last two minutes (now %d)", c.name, o["Created"], now)
		}
		// Labels: the image's and the container's.
		labels := toStringMap(o["Labels"])
		for k, v := range Busybox.Config.Config.Labels {
			if labels[k] != v {
				t.Errorf("ps json %s Labels = %v: want the image's %s=%s", c.name, labels, k, v)
			}
		}
		if c.name == f.zeta && labels["e2e.k"] != "v" {
			t.Errorf("ps json Labels = %v, want e2e.k=v", labels)
		}
	}
	if pid, _ := byName[f.zeta]["Pid"].(float64); pid <= 0 {
		t.Errorf("ps json Pid of the running container = %v", byName[f.zeta]["Pid"])
	}
	if pid := byName[f.mid]["Pid"]; pid != float64(0) {
		t.Errorf("ps json Pid of a created container = %v, want 0", pid)
	}
	if s, _ := byName[f.zeta]["Status"].(string); !reUp.MatchString(s) {
		t.Errorf("ps json Status of the running container = %q, want like %q", s, "Up 2 seconds ago")
	}
	if s := byName[f.mid]["Status"]; s != "Created" {
		t.Errorf("ps json Status of the created container = %v, want Created", s)
	}
	if s, _ := byName[f.alpha]["Status"].(string); !reExited(4).MatchString(s) {
		t.Errorf("ps json Status of the exited container = %q", s)
	}
	if s, _ := byName[f.alpha]["CreatedAt"].(string); !strings.HasSuffix(s, " ago") {
		t.Errorf("ps json CreatedAt = %q, want a relative time like %q", s, "2 seconds ago")
	}
	exitedAt, _ := byName[f.alpha]["ExitedAt"].(float64)
	startedAt, _ := byName[f.alpha]["StartedAt"].(float64)
	if int64(exitedAt) < now-120 || exitedAt < startedAt {
		t.Errorf("ps json of the exited container: StartedAt %v ExitedAt %v", startedAt, exitedAt)
	}
	// A container never started: StartedAt and ExitedAt are Go's zero time.
	if byName[f.mid]["StartedAt"] != float64(-62135596800) || byName[f.mid]["ExitedAt"] != float64(-62135596800) {
		t.Errorf("ps json of a created container: StartedAt %v ExitedAt %v, want -62135596800 (zero time)", byName[f.mid]["StartedAt"], byName[f.mid]["ExitedAt"])
	}

	// An empty list is [].
	r = e.RunOK(t, "ps", "--format", "json", "--filter", "name=nomatch")
	if strings.TrimSpace(r.Stdout) != "[]" {
		t.Errorf("ps --format json with no match: %q, want []", r.Stdout)
	}
}

// cellsByHeader cuts a table row into cells at the columns where the header
// line's names start.
func cellsByHeader(headerLine string, names []string, row string) []string {
	var starts []int
	from := 0
	for _, n := range names {
		i := strings.Index(headerLine[from:], n)
		if i < 0 {
			return nil
		}
		starts = append(starts, from+i)
		from += i + len(n)
	}
	var out []string
	for k, st := range starts {
		end := len(row)
		if k+1 < len(starts) && starts[k+1] < len(row) {
			end = starts[k+1]
		}
		if st > len(row) {
			st = len(row)
		}
		out = append(out, strings.TrimSpace(row[st:end]))
	}
	return out
}
