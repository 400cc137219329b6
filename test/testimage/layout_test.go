package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func needBusybox(t *testing.T) {
	t.Helper()
	if _, err := findBusybox(""); err != nil {
		t.Skip(err)
	}
}

func readJSON(t *testing.T, p string, v any) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
}

func blobFile(dir, digest string) string {
	return filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

func sha256File(t *testing.T, p string, gunzip bool) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if gunzip {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// checkLayout verifies every blob against its digest and every diff_id
// against the uncompressed layer, and returns the manifests by tag.
func checkLayout(t *testing.T, dir string) map[string]manifest {
	t.Helper()
	var idx index
	readJSON(t, filepath.Join(dir, "index.json"), &idx)
	var layoutFile struct {
		ImageLayoutVersion string `json:"imageLayoutVersion"`
	}
	readJSON(t, filepath.Join(dir, "oci-layout"), &layoutFile)
	if layoutFile.ImageLayoutVersion != "1.0.0" {
		t.Errorf("oci-layout version %q", layoutFile.ImageLayoutVersion)
	}
	out := map[string]manifest{}
	for _, md := range idx.Manifests {
		tag := md.Annotations[annotationRefName]
		if got := sha256File(t, blobFile(dir, md.Digest), false); got != md.Digest {
			t.Fatalf("manifest blob %s has digest %s", md.Digest, got)
		}
		var m manifest
		readJSON(t, blobFile(dir, md.Digest), &m)
		if got := sha256File(t, blobFile(dir, m.Config.Digest), false); got != m.Config.Digest {
			t.Fatalf("config blob %s has digest %s", m.Config.Digest, got)
		}
		var cfg imageConfig
		readJSON(t, blobFile(dir, m.Config.Digest), &cfg)
		if len(cfg.RootFS.DiffIDs) != len(m.Layers) || len(cfg.History) != len(m.Layers) {
			t.Fatalf("%s: %d layers, %d diff_ids, %d history entries", tag, len(m.Layers), len(cfg.RootFS.DiffIDs), len(cfg.History))
		}
		for i, l := range m.Layers {
			p := blobFile(dir, l.Digest)
			if got := sha256File(t, p, false); got != l.Digest {
				t.Errorf("%s layer %d: blob digest %s, descriptor says %s", tag, i, got, l.Digest)
			}
			if st, err := os.Stat(p); err != nil || st.Size() != l.Size || st.Mode().Perm()&0o044 != 0o044 {
				t.Errorf("%s layer %d: stat %v err %v, want size %d and world-readable", tag, i, st, err, l.Size)
			}
			if got := sha256File(t, p, true); got != cfg.RootFS.DiffIDs[i] {
				t.Errorf("%s layer %d: uncompressed sha256 %s, diff_id %s", tag, i, got, cfg.RootFS.DiffIDs[i])
			}
		}
		out[tag] = m
	}
	return out
}

func tarEntries(t *testing.T, p string) map[string]*tar.Header {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if gz.Header.Name != "" || !gz.Header.ModTime.IsZero() {
		t.Errorf("gzip header not fixed: %+v", gz.Header)
	}
	tr := tar.NewReader(gz)
	out := map[string]*tar.Header{}
	prev := ""
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name <= prev {
			t.Errorf("entries not sorted: %q after %q", h.Name, prev)
		}
		prev = h.Name
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(epoch) {
			t.Errorf("%s: uid %d gid %d mtime %v", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		out[strings.TrimSuffix(h.Name, "/")] = h
	}
	return out
}

func TestBuildIsReproducible(t *testing.T) {
	needBusybox(t)
	var digests []string
	for i := 0; i < 2; i++ {
		dir := filepath.Join(t.TempDir(), "busybox")
		res, err := build(options{outDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256File(t, filepath.Join(dir, "index.json"), false); got != res.index.Digest {
			t.Fatalf("index.json digest %s, build reported %s", got, res.index.Digest)
		}
		digests = append(digests, res.index.Digest+" "+res.images[0].manifest.Digest)

		ms := checkLayout(t, dir)
		m, ok := ms["latest"]
		if !ok || len(ms) != 1 || len(m.Layers) != 1 {
			t.Fatalf("want one image tagged latest with one layer, got %+v", ms)
		}
		if i > 0 {
			continue
		}
		var cfg imageConfig
		readJSON(t, blobFile(dir, m.Config.Digest), &cfg)
		if cfg.OS != "linux" || cfg.Config.WorkingDir != "/home" || strings.Join(cfg.Config.Cmd, " ") != "sh" ||
			cfg.Config.Labels["org.skiff.test"] != "busybox" || cfg.Config.Labels["maintainer"] != "skiff" {
			t.Errorf("unexpected config %+v", cfg)
		}
		if _, ok := cfg.Config.ExposedPorts["80/tcp"]; !ok {
			t.Errorf("80/tcp not exposed: %+v", cfg.Config.ExposedPorts)
		}
		ents := tarEntries(t, blobFile(dir, m.Layers[0].Digest))
		for name, want := range map[string]byte{
			"bin/busybox": tar.TypeReg, "bin/sh": tar.TypeSymlink, "usr/bin/env": tar.TypeSymlink,
			"etc/passwd": tar.TypeReg, "etc/group": tar.TypeReg, "etc/os-release": tar.TypeReg,
			"tmp": tar.TypeDir, "proc": tar.TypeDir, "sys": tar.TypeDir, "dev": tar.TypeDir, "root": tar.TypeDir,
			"home": tar.TypeDir, "var": tar.TypeDir, "usr/sbin": tar.TypeDir, "sbin": tar.TypeDir,
		} {
			h, ok := ents[name]
			if !ok || h.Typeflag != want {
				t.Errorf("%s: missing or wrong type (%+v)", name, h)
			}
		}
		if h := ents["bin/sh"]; h != nil && h.Linkname != "/bin/busybox" {
			t.Errorf("bin/sh -> %q", h.Linkname)
		}
		if h := ents["tmp"]; h != nil && h.Mode != 0o1777 {
			t.Errorf("tmp mode %o", h.Mode)
		}
		if _, ok := ents["etc/hostname"]; ok {
			t.Error("etc/hostname must be absent")
		}
	}
	if digests[0] != digests[1] {
		t.Fatalf("two builds differ: %s vs %s", digests[0], digests[1])
	}
}

func TestBigAndVariants(t *testing.T) {
	needBusybox(t)
	dir := filepath.Join(t.TempDir(), "big")
	if _, err := build(options{outDir: dir, bigMB: 2, variants: 2, tag: "big"}); err != nil {
		t.Fatal(err)
	}
	ms := checkLayout(t, dir)
	if len(ms) != 3 {
		t.Fatalf("want 3 images, got %d", len(ms))
	}
	big := ms["big"]
	if len(big.Layers) != 1+bigLayers {
		t.Fatalf("big image has %d layers", len(big.Layers))
	}
	var total int64
	for k, l := range big.Layers[1:] {
		total += l.Size
		ents := tarEntries(t, blobFile(dir, l.Digest))
		name := "data/layer" + string(rune('1'+k)) + ".bin"
		if _, ok := ents[name]; !ok {
			t.Errorf("layer %d lacks %s", k+1, name)
		}
	}
	// Incompressible: the compressed layers hold at least the 2 MiB of data.
	if total < 2<<20 {
		t.Errorf("data layers total %d bytes compressed, want >= 2 MiB", total)
	}
	v1, v2 := ms["variant-1"], ms["variant-2"]
	if len(v1.Layers) != len(big.Layers)+1 || v1.Config.Digest == v2.Config.Digest ||
		v1.Layers[len(v1.Layers)-1].Digest == v2.Layers[len(v2.Layers)-1].Digest {
		t.Errorf("variants are not distinct images on top of the main one: %+v %+v", v1, v2)
	}
	// Same seed, same bytes: a rebuild gives the same manifests.
	dir2 := filepath.Join(t.TempDir(), "big")
	if _, err := build(options{outDir: dir2, bigMB: 2, variants: 2, tag: "big"}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	b, _ := os.ReadFile(filepath.Join(dir2, "index.json"))
	if !bytes.Equal(a, b) {
		t.Errorf("big image is not reproducible:\n%s\n%s", a, b)
	}
}
