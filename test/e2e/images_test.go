package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// Dates for imported images: import takes Created from the tarball's mtime.
var (
	date2019 = time.Date(2019, 3, 1, 12, 0, 0, 0, time.UTC)
	date2020 = time.Date(2020, 3, 1, 12, 0, 0, 0, time.UTC)
	date2021 = time.Date(2021, 3, 1, 12, 0, 0, 0, time.UTC)
)

// TestSaveLoad: docker-archive (default) and oci-archive round trips keep the
// image ID, names, config and history; load reads stdin too; a
// multi-image archive restores every image and name.
func TestSaveLoad(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		e = e.Isolated(t)
		id := e.PullBusybox(t)

		// docker-archive: manifest.json names the config by the image ID.
		dockerTar := filepath.Join(e.Dir, "busybox-docker.tar")
		e.RunOK(t, "save", "-o", dockerTar, BusyboxRef)
		entries := TarEntries(t, dockerTar, "manifest.json")
		var dm []struct {
			Config   string
			RepoTags []string
			Layers   []string
		}
		if err := json.Unmarshal([]byte(entries["manifest.json"]), &dm); err != nil {
			t.Fatalf("save wrote no docker-archive manifest.json: %v (entries %v)", err, keys(entries))
		}
		if len(dm) != 1 || dm[0].Config != id+".json" || !reflect.DeepEqual(dm[0].RepoTags, []string{BusyboxRef}) ||
			len(dm[0].Layers) != len(Busybox.Config.RootFS.DiffIDs) {
			t.Fatalf("docker-archive manifest.json = %+v, want Config %s.json, RepoTags [%s], %d layers", dm, id, BusyboxRef, len(Busybox.Config.RootFS.DiffIDs))
		}

		e.RunOK(t, "rmi", BusyboxRef)
		e.MustFail(t, 125, "image", "inspect", BusyboxRef)
		r := e.RunOK(t, "load", "-i", dockerTar)
		if !strings.Contains(r.Stdout, "Loaded image: "+BusyboxRef) {
			t.Fatalf("load stdout should say %q:\n%s", "Loaded image: "+BusyboxRef, r)
		}
		checkSameImage(t, e, BusyboxRef, id)

		// From stdin.
		e.RunOK(t, "rmi", BusyboxRef)
		f, err := os.Open(dockerTar)
		if err != nil {
			t.Fatal(err)
		}
		r = e.RunStdin(t, f, "load")
		f.Close()
		if r.Code != 0 || !strings.Contains(r.Stdout, "Loaded image: "+BusyboxRef) {
			t.Fatalf("load from stdin:\n%s", r)
		}
		checkSameImage(t, e, BusyboxRef, id)

		// oci-archive: an OCI layout in a tar, the name in the index annotation.
		ociTar := filepath.Join(e.Dir, "busybox-oci.tar")
		e.RunOK(t, "save", "--format", "oci-archive", "-o", ociTar, BusyboxRef)
		entries = TarEntries(t, ociTar, "index.json", "oci-layout")
		var idx struct {
			Manifests []struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"manifests"`
		}
		if err := json.Unmarshal([]byte(entries["index.json"]), &idx); err != nil || len(idx.Manifests) != 1 {
			t.Fatalf("oci-archive index.json: %v %q (entries %v)", err, entries["index.json"], keys(entries))
		}
		if got := idx.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; got != BusyboxRef {
			t.Fatalf("oci-archive ref.name annotation = %q, want %q", got, BusyboxRef)
		}
		if !strings.Contains(entries["oci-layout"], "imageLayoutVersion") {
			t.Fatalf("oci-archive has no valid oci-layout file: %q", entries["oci-layout"])
		}
		e.RunOK(t, "rmi", BusyboxRef)
		r = e.RunOK(t, "load", "-i", ociTar)
		if !strings.Contains(r.Stdout, "Loaded image: "+BusyboxRef) {
			t.Fatalf("load of oci-archive should say %q:\n%s", "Loaded image: "+BusyboxRef, r)
		}
		checkSameImage(t, e, BusyboxRef, id)

		// Two different images in one docker-archive.
		second := "localhost/second:one"
		secondID := e.ImportImage(t, second, "second image", date2020)
		multi := filepath.Join(e.Dir, "multi.tar")
		e.RunOK(t, "save", "--multi-image-archive", "-o", multi, BusyboxRef, second)
		if err := json.Unmarshal([]byte(TarEntries(t, multi, "manifest.json")["manifest.json"]), &dm); err != nil || len(dm) != 2 {
			t.Fatalf("multi-image archive manifest.json: want 2 images, got %+v (%v)", dm, err)
		}
		e.RunOK(t, "rmi", "-a")
		if ids := e.RunOK(t, "images", "-q").Lines(); len(ids) != 0 {
			t.Fatalf("rmi -a left %q", ids)
		}
		r = e.RunOK(t, "load", "-i", multi)
		for _, n := range []string{BusyboxRef, second} {
			if !strings.Contains(r.Stdout, "Loaded image: "+n) {
				t.Fatalf("load of multi-image archive should say %q:\n%s", "Loaded image: "+n, r)
			}
		}
		checkSameImage(t, e, BusyboxRef, id)
		if got := e.ImageID(t, second); got != secondID {
			t.Fatalf("%s has ID %s after load, want %s", second, got, secondID)
		}
	})
}

// checkSameImage: ref is the test image with ID id and its config intact.
func checkSameImage(t *testing.T, e *Env, ref, id string) {
	t.Helper()
	img := e.InspectImage(t, ref)
	if img["Id"] != id {
		t.Fatalf("%s: Id = %v, want %s", ref, img["Id"], id)
	}
	cfg, _ := img["Config"].(map[string]any)
	if cfg["WorkingDir"] != Busybox.Config.Config.WorkingDir || !reflect.DeepEqual(toStrings(cfg["Cmd"]), Busybox.Config.Config.Cmd) {
		t.Fatalf("%s: Config = %v, want WorkingDir %s, Cmd %v", ref, cfg, Busybox.Config.Config.WorkingDir, Busybox.Config.Config.Cmd)
	}
	if !reflect.DeepEqual(toStringMap(img["Labels"]), Busybox.Config.Config.Labels) {
		t.Fatalf("%s: Labels = %v, want %v", ref, img["Labels"], Busybox.Config.Config.Labels)
	}
	if !reflect.DeepEqual(toStrings(mapGet(img, "RootFS", "Layers")), Busybox.Config.RootFS.DiffIDs) {
		t.Fatalf("%s: RootFS.Layers = %v, want %v", ref, mapGet(img, "RootFS", "Layers"), Busybox.Config.RootFS.DiffIDs)
	}
	WantContains(t, toStrings(img["RepoTags"]), ref, "RepoTags")
}

// TestImport: import of a rootfs tarball with --change applies CMD (shell
// form), ENV, WORKDIR and LABEL; Created is the tarball's mtime; the one layer
// is the tarball itself.
func TestImport(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		name := "localhost/" + Unique("imported") + ":v1"
		path := filepath.Join(e.Dir, Unique("rootfs")+".tar")
		WriteTar(t, path, date2021, TarFile{Name: "w/"}, TarFile{Name: "w/hello", Content: "hello from import\n"})
		r := e.RunOK(t, "import", "--change", "CMD=/bin/sh", "--change", "ENV=FOO=bar",
			"--change", "WORKDIR=/w", "--change", "LABEL=a=b", path, name)
		out := r.Lines()
		id := e.ImageID(t, name)
		if len(out) == 0 || out[len(out)-1] != "sha256:"+id {
			t.Fatalf("import stdout should end with sha256:%s:\n%s", id, r)
		}
		img := e.InspectImage(t, name)
		cfg, _ := img["Config"].(map[string]any)
		if got := toStrings(cfg["Cmd"]); !reflect.DeepEqual(got, []string{"/bin/sh", "-c", "/bin/sh"}) {
			t.Errorf("Config.Cmd = %q, want the shell form [/bin/sh -c /bin/sh]", got)
		}
		if got := toStrings(cfg["Env"]); !Contains(got, "FOO=bar") {
			t.Errorf("Config.Env = %q, want FOO=bar in it", got)
		}
		if cfg["WorkingDir"] != "/w" {
			t.Errorf("Config.WorkingDir = %v, want /w", cfg["WorkingDir"])
		}
		if got := toStringMap(cfg["Labels"]); got["a"] != "b" {
			t.Errorf("Config.Labels = %v, want a=b", got)
		}
		if got := toStringMap(img["Labels"]); got["a"] != "b" {
			t.Errorf("Labels = %v, want a=b", got)
		}
		WantContains(t, toStrings(img["RepoTags"]), name, "RepoTags")
		if created := parseTime(t, img["Created"]); !created.Equal(date2021) {
			t.Errorf("Created = %v, want the tarball's mtime %v", created, date2021)
		}
		layers := toStrings(mapGet(img, "RootFS", "Layers"))
		if want := "sha256:" + sha256File(t, path); !reflect.DeepEqual(layers, []string{want}) {
			t.Errorf("RootFS.Layers = %q, want [%s] (the tarball's digest)", layers, want)
		}
		if s, ok := img["Size"].(float64); !ok || s <= 0 {
			t.Errorf("Size = %v, want > 0", img["Size"])
		}
	})
}

// TestTagUntagRmi: names come and go with tag/untag/rmi; exit codes follow
// podman's (rmi of an unknown image is 1, not 125).
func TestTagUntagRmi(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		e = e.Isolated(t)
		id := e.PullBusybox(t)
		tagged := "localhost/" + Unique("tagged") + ":v1"
		e.RunOK(t, "tag", BusyboxRef, tagged, "shortname")
		names := e.ImageNames(t)
		WantContains(t, names, tagged, "images after tag")
		WantContains(t, names, "localhost/shortname:latest", "images after tag of a short name")
		WantContains(t, names, BusyboxRef, "images after tag")
		if got := e.ImageID(t, tagged); got != id {
			t.Fatalf("tag points to %s, want %s", got, id)
		}

		e.RunOK(t, "untag", BusyboxRef, tagged)
		names = e.ImageNames(t)
		WantNotContains(t, names, tagged, "images after untag")
		WantContains(t, names, BusyboxRef, "images after untag of another name")

		// rmi by name of an image with other names only untags it.
		r := e.RunOK(t, "rmi", "localhost/shortname:latest")
		if !strings.Contains(r.Stdout, "Untagged: localhost/shortname:latest") {
			t.Fatalf("rmi should print %q:\n%s", "Untagged: localhost/shortname:latest", r)
		}
		WantNotContains(t, e.ImageNames(t), "localhost/shortname:latest", "images after rmi")
		if got := e.ImageID(t, BusyboxRef); got != id {
			t.Fatalf("image changed after rmi of another name: %s", got)
		}

		// Unknown images.
		AssertOneLineError(t, e.Run(t, "rmi", "nope-not-here"), 1, "image not known")
		e.RunOK(t, "rmi", "-f", "nope-not-here")
		e.Must125(t, "tag", "nope-not-here", "x:y")
		e.Must125(t, "untag", "nope-not-here")

		// An ID with several names needs -f.
		e.RunOK(t, "tag", BusyboxRef, tagged)
		e.Must125(t, "rmi", id)
		if got := e.ImageID(t, tagged); got != id {
			t.Fatalf("refused rmi removed the image anyway")
		}
		r = e.RunOK(t, "rmi", "-f", id[:12])
		if !strings.Contains(r.Stdout, "Deleted: "+id) {
			t.Fatalf("rmi -f should print %q:\n%s", "Deleted: "+id, r)
		}
		if ids := e.RunOK(t, "images", "-q").Lines(); len(ids) != 0 {
			t.Fatalf("images after rmi -f: %q", ids)
		}

		// rmi -a removes everything.
		e.PullBusybox(t)
		e.ImportImage(t, "localhost/other:1", "other", date2020)
		if n := len(e.RunOK(t, "images", "-q").Lines()); n != 2 {
			t.Fatalf("want 2 images before rmi -a, got %d", n)
		}
		e.RunOK(t, "rmi", "-a")
		if ids := e.RunOK(t, "images", "-q").Lines(); len(ids) != 0 {
			t.Fatalf("rmi -a left %q", ids)
		}
		e.RunOK(t, "rmi", "-a") // nothing to remove is not an error
	})
}

// imagesFixture fills an isolated store with: the test image under two
// names, i1 (2019, label k=one), i2 (2020, label k=two) and a dangling
// image (2021).
type imagesFixture struct {
	bb, i1, i2, dangling string // IDs
	alias                string
}

func newImagesFixture(t *testing.T, e *Env) imagesFixture {
	t.Helper()
	f := imagesFixture{bb: e.PullBusybox(t), alias: "localhost/bbalias:two"}
	e.RunOK(t, "tag", BusyboxRef, f.alias)
	f.i1 = e.ImportImage(t, "localhost/i1:a", "one", date2019, "LABEL=k=one")
	f.i2 = e.ImportImage(t, "localhost/i2:b", "two", date2020, "LABEL=k=two")
	f.dangling = e.ImportImage(t, "", "dangling", date2021)
	return f
}

// TestImagesTable: the default table, --noheading, --quiet, --no-trunc and
// --digests, compared column for column with what the fields print.
func TestImagesTable(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		e = e.Isolated(t)

		// Empty store: the header alone, laid out by the same tabwriter.
		header := []string{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}
		if got, want := e.RunOK(t, "images").Stdout, Table([][]string{header}); got != want {
			t.Fatalf("images on an empty store:\n got %q\nwant %q", got, want)
		}

		f := newImagesFixture(t, e)
		fields := e.RunOK(t, "images", "--format", "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Created}}\t{{.Size}}").Lines()
		rows := [][]string{header}
		for _, l := range fields {
			rows = append(rows, strings.Split(l, "\t"))
		}
		if len(rows) != 6 {
			t.Fatalf("want 5 image rows (2 names + i1 + i2 + dangling), got %q", fields)
		}
		table := e.RunOK(t, "images").Stdout
		if want := Table(rows); table != want {
			t.Fatalf("images table:\n%s\nwant (from the --format fields):\n%s", table, want)
		}
		lines := strings.SplitAfter(table, "\n")
		if got := e.RunOK(t, "images", "--noheading").Stdout; got != strings.Join(lines[1:], "") {
			t.Fatalf("images --noheading:\n%s\nwant the table without its header:\n%s", got, strings.Join(lines[1:], ""))
		}
		// Rows with the same ID are one line of --quiet; newest first.
		for _, row := range rows[1:] {
			if row[0] == "<none>" && (row[1] != "<none>" || row[2] != f.dangling[:12]) {
				t.Fatalf("dangling row = %q, want <none> <none> %s", row, f.dangling[:12])
			}
		}
		q := e.RunOK(t, "images", "--quiet").Lines()
		if want := []string{f.bb[:12], f.dangling[:12], f.i2[:12], f.i1[:12]}; !reflect.DeepEqual(q, want) {
			t.Fatalf("images --quiet = %q, want %q (unique short IDs, newest first)", q, want)
		}
		if q := e.RunOK(t, "images", "-q", "--no-trunc").Lines(); !Contains(q, "sha256:"+f.bb) {
			t.Fatalf("images -q --no-trunc = %q, want sha256:%s in it", q, f.bb)
		}
		nt := e.RunOK(t, "images", "--no-trunc").Lines()
		if !strings.Contains(nt[0], "IMAGE ID") || !strings.Contains(strings.Join(nt, "\n"), "sha256:"+f.i1) {
			t.Fatalf("images --no-trunc should show full IDs (sha256:%s):\n%s", f.i1, strings.Join(nt, "\n"))
		}
		dg := e.RunOK(t, "images", "--digests").Lines()
		if cols := strings.Fields(dg[0]); !reflect.DeepEqual(cols, []string{"REPOSITORY", "TAG", "DIGEST", "IMAGE", "ID", "CREATED", "SIZE"}) {
			t.Fatalf("images --digests header = %q", dg[0])
		}
		found := false
		for _, l := range dg[1:] {
			if strings.HasPrefix(l, Registry+"/skiff/busybox ") && strings.Contains(l, Busybox.ManifestDigest) {
				found = true
			}
		}
		if !found {
			t.Fatalf("images --digests: no busybox row with digest %s:\n%s", Busybox.ManifestDigest, strings.Join(dg, "\n"))
		}
		// A table template gets the header of its fields.
		tt := e.RunOK(t, "images", "--format", "table {{.Repository}} {{.Tag}}").Lines()
		if strings.Join(strings.Fields(tt[0]), " ") != "REPOSITORY TAG" || len(tt) != 6 {
			t.Fatalf("images --format 'table ...':\n%s", strings.Join(tt, "\n"))
		}
	})
}

// TestImagesFormatJSON: --format json is an array with podman's keys.
func TestImagesFormatJSON(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		e = e.Isolated(t)
		f := newImagesFixture(t, e)
		names := e.ImageNames(t)
		for _, want := range []string{BusyboxRef, f.alias, "localhost/i1:a", "localhost/i2:b", "<none>:<none>"} {
			WantContains(t, names, want, "images --format {{.Repository}}:{{.Tag}}")
		}
		r := e.RunOK(t, "images", "--format", "json")
		var list []map[string]any
		if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
			t.Fatalf("images --format json is not a JSON array: %v\n%s", err, r)
		}
		// podman 4.3.1 prints one entry per table row, so an image with two
		// names comes twice (podman issue 25725, a bug): allow one entry per
		// image or per name, but duplicates must be identical.
		if len(list) != 4 && len(list) != 5 {
			t.Fatalf("images --format json: want 4 images (or 5 entries, one per name), got %d", len(list))
		}
		byID := map[string]map[string]any{}
		for _, img := range list {
			// RepoTags is there but null in podman 4.3.1 (Names has the names).
			for _, k := range []string{"Id", "RepoTags", "Size", "Created", "CreatedAt", "Labels", "Digest", "RepoDigests", "Containers"} {
				if _, ok := img[k]; !ok {
					t.Fatalf("images json entry has no key %q: %v", k, img)
				}
			}
			id, _ := img["Id"].(string)
			// Names is left out for a dangling image, which has "Dangling": true.
			if _, ok := img["Names"]; !ok && id != f.dangling {
				t.Fatalf("images json entry of %s has no Names: %v", id, img)
			}
			if prev, dup := byID[id]; dup && !reflect.DeepEqual(prev, img) {
				t.Fatalf("two different json entries for image %s:\n%v\n%v", id, prev, img)
			}
			byID[id] = img
		}
		if len(byID) != 4 {
			t.Fatalf("images --format json: want 4 distinct Ids, got %q", keys(byID))
		}
		bb := byID[f.bb]
		if bb == nil {
			t.Fatalf("no entry with Id %s in %v", f.bb, keys(byID))
		}
		bbNames := toStrings(bb["Names"])
		WantContains(t, bbNames, BusyboxRef, "Names")
		WantContains(t, bbNames, f.alias, "Names")
		if got := toStringMap(bb["Labels"]); got["org.skiff.test"] != "busybox" {
			t.Fatalf("Labels = %v", got)
		}
		if bb["Digest"] != Busybox.ManifestDigest {
			t.Fatalf("Digest = %v, want %s", bb["Digest"], Busybox.ManifestDigest)
		}
		for id, img := range byID {
			insp := e.InspectImage(t, id)
			if img["Size"] != insp["Size"] {
				t.Errorf("%s: json Size %v != inspect Size %v", id[:12], img["Size"], insp["Size"])
			}
			created, ok := img["Created"].(float64)
			if want := parseTime(t, insp["Created"]).Unix(); !ok || int64(created) != want {
				t.Errorf("%s: json Created %v, want unix seconds %d", id[:12], img["Created"], want)
			}
		}
		if n := toStrings(byID[f.dangling]["Names"]); len(n) != 0 || byID[f.dangling]["Dangling"] != true {
			t.Errorf("dangling image: Names %q, Dangling %v; want no names and true", n, byID[f.dangling]["Dangling"])
		}
		if d, ok := bb["Dangling"]; ok && d != false {
			t.Errorf("named image has Dangling %v", d)
		}
	})
}

// TestImagesFilterSort: --filter reference/label/dangling/before/since and --sort.
func TestImagesFilterSort(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		e = e.Isolated(t)
		f := newImagesFixture(t, e)
		ids := func(args ...string) []string {
			t.Helper()
			out := e.RunOK(t, append([]string{"images", "--format", "{{.ID}}"}, args...)...).Lines()
			set := map[string]bool{}
			for _, l := range out {
				set[l] = true
			}
			return sortedKeys(set)
		}
		short := func(ids ...string) []string {
			var out []string
			for _, id := range ids {
				out = append(out, id[:12])
			}
			sort.Strings(out)
			return out
		}
		for _, tc := range []struct {
			filter string
			want   []string
		}{
			{"reference=localhost/i1:a", short(f.i1)},
			{"reference=i1", short(f.i1)},
			{"reference=localhost/i*", short(f.i1, f.i2)},
			{"reference=skiff/busybox", short(f.bb)},
			{"label=org.skiff.test=busybox", short(f.bb)},
			{"label=k", short(f.i1, f.i2)},
			{"label=k=two", short(f.i2)},
			{"dangling=true", short(f.dangling)},
			{"dangling=false", short(f.bb, f.i1, f.i2)},
			{"before=localhost/i2:b", short(f.i1)},
			{"since=localhost/i2:b", short(f.bb, f.dangling)},
		} {
			if got := ids("--filter", tc.filter); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("images --filter %s = %q, want %q", tc.filter, got, tc.want)
			}
		}
		// Filters combine with AND.
		if got := ids("--filter", "label=k", "--filter", "before=localhost/i2:b"); !reflect.DeepEqual(got, short(f.i1)) {
			t.Errorf("two filters = %q, want %q", got, short(f.i1))
		}
		// The rows of a filtered image: podman 4.3.1 shows every name of a
		// matching image (podman issue 25725 calls that a bug), so the other
		// name of the same image is allowed.
		got := e.ImageNames(t, "--filter", "reference=skiff/busybox")
		if !reflect.DeepEqual(got, []string{BusyboxRef}) && !reflect.DeepEqual(sortedCopy(got), sortedCopy([]string{BusyboxRef, f.alias})) {
			t.Errorf("--filter reference=skiff/busybox rows = %q, want [%s] (or with %s)", got, BusyboxRef, f.alias)
		}

		col := func(field, sortBy string) []string {
			t.Helper()
			return e.RunOK(t, "images", "--sort", sortBy, "--format", field).Lines()
		}
		if got, want := col("{{.ID}}", "created"), []string{f.bb[:12], f.bb[:12], f.dangling[:12], f.i2[:12], f.i1[:12]}; !reflect.DeepEqual(got, want) {
			t.Errorf("--sort created = %q, want newest first %q", got, want)
		}
		for _, s := range []struct{ by, field string }{{"repository", "{{.Repository}}"}, {"tag", "{{.Tag}}"}, {"id", "{{.ID}}"}} {
			got := col(s.field, s.by)
			if len(got) != 5 || !sort.StringsAreSorted(got) {
				t.Errorf("--sort %s: %q is not 5 rows in ascending order", s.by, got)
			}
		}
		var sizes []float64
		for _, id := range col("{{.ID}}", "size") {
			sizes = append(sizes, e.InspectImage(t, id)["Size"].(float64))
		}
		if len(sizes) != 5 || !sort.Float64sAreSorted(sizes) || sizes[4] < 1e6 {
			t.Errorf("--sort size: sizes %v should ascend to the ~2 MB test image", sizes)
		}
		AssertOneLineError(t, e.Run(t, "images", "--sort", "bogus"), 125, "bogus")
	})
}

// TestImageInspect: the JSON of image inspect against the OCI layout it came
// from, --format, inspect --type image and image exists.
func TestImageInspect(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		id := e.PullBusybox(t)
		img := e.InspectImage(t, BusyboxRef)
		cfg := Busybox.Config
		check := func(key string, got, want any) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %#v, want %#v", key, got, want)
			}
		}
		check("Id", img["Id"], id)
		check("Digest", img["Digest"], Busybox.ManifestDigest)
		WantContains(t, toStrings(img["RepoTags"]), BusyboxRef, "RepoTags")
		WantContains(t, toStrings(img["RepoDigests"]), Registry+"/skiff/busybox@"+Busybox.ManifestDigest, "RepoDigests")
		check("Created", parseTime(t, img["Created"]).UTC(), cfg.Created.UTC())
		c, _ := img["Config"].(map[string]any)
		check("Config.Cmd", toStrings(c["Cmd"]), cfg.Config.Cmd)
		check("Config.Env", toStrings(c["Env"]), cfg.Config.Env)
		check("Config.WorkingDir", c["WorkingDir"], cfg.Config.WorkingDir)
		check("Config.Labels", toStringMap(c["Labels"]), cfg.Config.Labels)
		check("Config.ExposedPorts", keys(c["ExposedPorts"].(map[string]any)), []string{"80/tcp"})
		check("Labels", toStringMap(img["Labels"]), cfg.Config.Labels)
		check("Architecture", img["Architecture"], cfg.Architecture)
		check("Os", img["Os"], cfg.OS)
		check("RootFS.Type", mapGet(img, "RootFS", "Type"), "layers")
		check("RootFS.Layers", toStrings(mapGet(img, "RootFS", "Layers")), cfg.RootFS.DiffIDs)
		if s, ok := img["Size"].(float64); !ok || s < 1e6 {
			t.Errorf("Size = %v, want the unpacked size (> 1 MB)", img["Size"])
		}
		hist, _ := img["History"].([]any)
		if len(hist) != len(cfg.History) {
			t.Fatalf("History has %d entries, want %d: %v", len(hist), len(cfg.History), hist)
		}
		for i, h := range hist {
			hm := h.(map[string]any)
			check("History.created_by", hm["created_by"], cfg.History[i].CreatedBy)
			check("History.created", parseTime(t, hm["created"]).UTC(), cfg.History[i].Created.UTC())
		}

		if got := e.Out(t, "image", "inspect", "--format", "{{.Config.WorkingDir}}", BusyboxRef); got != "/home" {
			t.Errorf("--format {{.Config.WorkingDir}} = %q, want /home", got)
		}
		if got := e.Out(t, "inspect", "--type", "image", "--format", "{{.Id}} {{.Os}}/{{.Architecture}}", BusyboxRef); got != id+" "+cfg.OS+"/"+cfg.Architecture {
			t.Errorf("inspect --type image = %q", got)
		}
		// Several images: one array entry each, one --format line each.
		if got := e.RunOK(t, "image", "inspect", "--format", "{{.Id}}", BusyboxRef, id).Lines(); !reflect.DeepEqual(got, []string{id, id}) {
			t.Errorf("image inspect of two refs = %q", got)
		}

		e.RunOK(t, "image", "exists", BusyboxRef)
		e.RunOK(t, "image", "exists", id[:12])
		if r := e.Run(t, "image", "exists", "nope-not-here"); r.Code != 1 || strings.TrimSpace(r.Stdout) != "" {
			t.Errorf("image exists of an unknown image: want exit 1 and no output:\n%s", r)
		}
	})
}

// TestHistory: the default table and --format.
func TestHistory(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		id := e.PullBusybox(t)
		var wantBy []string // newest first
		for i := len(Busybox.Config.History) - 1; i >= 0; i-- {
			wantBy = append(wantBy, Busybox.Config.History[i].CreatedBy)
		}
		if got := e.RunOK(t, "history", "--no-trunc", "--format", "{{.CreatedBy}}", BusyboxRef).Lines(); !reflect.DeepEqual(got, wantBy) {
			t.Errorf("history --no-trunc --format {{.CreatedBy}} = %q, want %q", got, wantBy)
		}
		// Without --no-trunc, CREATED BY is cut to 45 characters ending "...".
		var wantTrunc []string
		for _, by := range wantBy {
			if len(by) > 45 {
				by = by[:42] + "..."
			}
			wantTrunc = append(wantTrunc, by)
		}
		if got := e.RunOK(t, "history", "--format", "{{.CreatedBy}}", BusyboxRef).Lines(); !reflect.DeepEqual(got, wantTrunc) {
			t.Errorf("history --format {{.CreatedBy}} = %q, want %q", got, wantTrunc)
		}
		fields := e.RunOK(t, "history", "--format", "{{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}", BusyboxRef).Lines()
		rows := [][]string{{"ID", "CREATED", "CREATED BY", "SIZE", "COMMENT"}}
		for _, l := range fields {
			rows = append(rows, strings.Split(l, "\t"))
		}
		if rows[1][0] != id[:12] {
			t.Errorf("newest history row has ID %q, want the image's short ID %s", rows[1][0], id[:12])
		}
		if got, want := e.RunOK(t, "history", BusyboxRef).Stdout, Table(rows); got != want {
			t.Errorf("history table:\n%q\nwant:\n%q", got, want)
		}
		e.Must125(t, "history", "nope-not-here")
	})
}

// TestImagePrune: prune removes dangling images only; -a removes unused ones.
func TestImagePrune(t *testing.T) {
	ForEachMode(t, func(t *testing.T, e *Env) {
		e = e.Isolated(t)
		bb := e.PullBusybox(t)
		named := e.ImportImage(t, "localhost/keep:1", "keep", date2019)
		dangling := e.ImportImage(t, "", "prune me", date2020)

		// Without --force it asks; no answer on stdin removes nothing.
		r := e.RunStdin(t, bytes.NewReader(nil), "image", "prune")
		if r.Code == 0 {
			t.Fatalf("image prune without --force and no answer should fail:\n%s", r)
		}
		e.RunOK(t, "image", "exists", dangling)

		r = e.RunOK(t, "image", "prune", "-f")
		if got := r.Lines(); !reflect.DeepEqual(got, []string{dangling}) {
			t.Fatalf("image prune -f printed %q, want the pruned ID [%s]", got, dangling)
		}
		if q := e.RunOK(t, "images", "-q", "--no-trunc").Lines(); !reflect.DeepEqual(sortedCopy(q), sortedCopy([]string{"sha256:" + bb, "sha256:" + named})) {
			t.Fatalf("after prune: %q, want busybox and keep:1", q)
		}
		if got := e.RunOK(t, "image", "prune", "-f").Lines(); len(got) != 0 {
			t.Fatalf("second prune removed %q", got)
		}
		r = e.RunOK(t, "image", "prune", "-a", "-f")
		if got := sortedCopy(r.Lines()); !reflect.DeepEqual(got, sortedCopy([]string{bb, named})) {
			t.Fatalf("image prune -a -f printed %q, want %q", got, []string{bb, named})
		}
		if q := e.RunOK(t, "images", "-q").Lines(); len(q) != 0 {
			t.Fatalf("after prune -a: %q", q)
		}
	})
}

// ---------------------------------------------------------------------------
// small JSON helpers

func toStrings(v any) []string {
	arr, _ := v.([]any)
	var out []string
	for _, x := range arr {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func toStringMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := map[string]string{}
	for k, x := range m {
		s, _ := x.(string)
		out[k] = s
	}
	return out
}

func mapGet(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]bool) []string { return keys(m) }

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %v: %v", v, err)
	}
	return tm
}
