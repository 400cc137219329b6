package image

import (
	"reflect"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ociv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/storage"
)

func cfg(diffs []string, history ...string) *ociv1.Image {
	c := &ociv1.Image{}
	t := time.Unix(1700000000, 0)
	for _, d := range diffs {
		c.RootFS.DiffIDs = append(c.RootFS.DiffIDs, digest.Digest(d))
	}
	for _, h := range history {
		c.History = append(c.History, ociv1.History{Created: &t, CreatedBy: h})
	}
	return c
}

func TestIsParentAndChild(t *testing.T) {
	base := cfg([]string{"sha256:a"}, "ADD a")
	tests := []struct {
		name          string
		parent, child *ociv1.Image
		want          bool
	}{
		{"layer added", base, cfg([]string{"sha256:a", "sha256:b"}, "ADD a", "ADD b"), true},
		{"empty layer added", base, cfg([]string{"sha256:a"}, "ADD a", "ENV x=y"), true},
		{"same history is not a child", base, cfg([]string{"sha256:a"}, "ADD a"), false},
		{"other first layer", base, cfg([]string{"sha256:z", "sha256:b"}, "ADD a", "ADD b"), false},
		{"other history", base, cfg([]string{"sha256:a", "sha256:b"}, "ADD z", "ADD b"), false},
		{"missing config", nil, base, false},
	}
	for _, tc := range tests {
		if got := isParentAndChild(tc.parent, tc.child); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRelativesAndSize(t *testing.T) {
	layers := map[string]*storage.Layer{
		"L1": {ID: "L1", UncompressedSize: 100},
		"L2": {ID: "L2", Parent: "L1", UncompressedSize: 50},
	}
	list := []listing{
		{img: &storage.Image{ID: "base", TopLayer: "L1", Names: []string{"localhost/base:1"}}, config: cfg([]string{"sha256:a"}, "ADD a")},
		{img: &storage.Image{ID: "mid", TopLayer: "L2"}, config: cfg([]string{"sha256:a", "sha256:b"}, "ADD a", "ADD b")},
		{img: &storage.Image{ID: "top", TopLayer: "L2", Names: []string{"localhost/top:1"}}, config: cfg([]string{"sha256:a", "sha256:b"}, "ADD a", "ADD b", "CMD sh")},
	}
	byTop := map[string][]int{"L1": {0}, "L2": {1, 2}}
	wantParent := []int{-1, 0, 1}
	wantChildren := []bool{true, true, false}
	for i := range list {
		p, c := relatives(list, i, byTop, layers)
		if p != wantParent[i] || c != wantChildren[i] {
			t.Errorf("%s: parent %d children %v, want %d %v", list[i].img.ID, p, c, wantParent[i], wantChildren[i])
		}
	}
	img := &storage.Image{TopLayer: "L2", BigDataSizes: map[string]int64{"manifest": 7, "sha256:c": 3}}
	if got := imageSize(img, layers); got != 160 {
		t.Errorf("imageSize = %d, want 160", got)
	}
}

func TestRepoTagsAndDigests(t *testing.T) {
	names := []string{"localhost/a:1", "quay.io/b/c:latest", "localhost/d@sha256:" + "0123456789012345678901234567890123456789012345678901234567890123"}
	if got, want := repoTags(names), []string{"localhost/a:1", "quay.io/b/c:latest"}; !reflect.DeepEqual(got, want) {
		t.Errorf("repoTags = %v, want %v", got, want)
	}
	d := digest.Digest("sha256:" + "1111111111111111111111111111111111111111111111111111111111111111")
	got := repoDigests(names[:2], []digest.Digest{d, d})
	want := []string{"localhost/a@" + d.String(), "quay.io/b/c@" + d.String()}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("repoDigests = %v, want %v", got, want)
	}
}

func TestRows(t *testing.T) {
	sums := []Summary{
		{ID: "bbbbbbbbbbbbbbbb", RepoTags: []string{"localhost/b:2", "localhost/b:1"}, Created: 2, Size: 5},
		{ID: "aaaaaaaaaaaaaaaa", Created: 1, Size: 9},
	}
	rows, err := Rows(sums, "created")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Repository != "localhost/b" || rows[2].Repository != "<none>" || rows[2].Tag != "<none>" {
		t.Fatalf("rows by created: %+v", rows)
	}
	rows, _ = Rows(sums, "size")
	if rows[0].Summary.Size != 5 || rows[2].Summary.Size != 9 {
		t.Fatalf("rows by size: %+v", rows)
	}
	if rows[0].ID() != "bbbbbbbbbbbb" {
		t.Errorf("short ID = %q", rows[0].ID())
	}
	rows[0].NoTrunc = true
	if rows[0].ID() != "sha256:bbbbbbbbbbbbbbbb" {
		t.Errorf("full ID = %q", rows[0].ID())
	}
	if _, err := Rows(sums, "color"); err == nil {
		t.Error("sorting by an unknown key must fail")
	}
}

func TestValidateChange(t *testing.T) {
	for _, ok := range []string{"CMD=/bin/sh", "CMD /bin/sh", "ENV=FOO=bar", "ENV FOO=bar", "workdir=/w", "LABEL a=b"} {
		if err := validateChange(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"RUN rm -rf /", "FROM x", "bogus"} {
		if err := validateChange(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestOCIDirName(t *testing.T) {
	tests := map[string]string{
		"oci:/tmp/images/busybox:latest":   "localhost/tmp/images/busybox:latest",
		"oci:/tmp/images/busybox":          "localhost/tmp/images/busybox:latest",
		"oci:/tmp/images/busybox/:v2":      "localhost/tmp/images/busybox:v2",
		"oci:/tmp/x:quay.io/a/b:1":         "",
		"oci:/tmp/Upper/Case:latest":       "",
		"docker://127.0.0.1:5000/a/b:c":    "",
		"127.0.0.1:5000/skiff/busybox:tag": "",
	}
	for in, want := range tests {
		if got := ociDirName(in); got != want {
			t.Errorf("ociDirName(%q) = %q, want %q", in, got, want)
		}
	}
}
