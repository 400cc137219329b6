package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	mediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	mediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	mediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
	annotationRefName = "org.opencontainers.image.ref.name"

	bigLayers = 5
)

// epoch is the fixed time stamped on every file, history entry and config.
var epoch = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

type options struct {
	outDir   string
	tag      string
	bigMB    int
	variants int
	busybox  string
}

// The OCI types below mirror image-spec with only the fields we write. Structs
// (not maps) keep the JSON field order, and so the digests, fixed.

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

type index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
}

type imageConfig struct {
	Created      string       `json:"created"`
	Author       string       `json:"author,omitempty"`
	Architecture string       `json:"architecture"`
	OS           string       `json:"os"`
	Config       runConfig    `json:"config"`
	RootFS       rootFS       `json:"rootfs"`
	History      []historyRec `json:"history"`
}

type runConfig struct {
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env"`
	Cmd          []string            `json:"Cmd"`
	WorkingDir   string              `json:"WorkingDir"`
	Labels       map[string]string   `json:"Labels"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type historyRec struct {
	Created    string `json:"created"`
	CreatedBy  string `json:"created_by"`
	Comment    string `json:"comment,omitempty"`
	EmptyLayer bool   `json:"empty_layer,omitempty"`
}

// layer is one written layer blob.
type layer struct {
	desc      descriptor // the compressed blob
	diffID    string     // sha256 of the uncompressed tar
	createdBy string
}

// image is one written image: its manifest and config descriptors.
type image struct {
	tag      string
	manifest descriptor
	config   descriptor
}

type result struct {
	images []image
	index  descriptor // digest of index.json itself, handy for tests
}

// build writes the whole layout into a temporary sibling of opts.outDir and
// renames it into place, so readers never see a half-written layout.
func build(opts options) (*result, error) {
	if opts.bigMB < 0 || opts.variants < 0 {
		return nil, errors.New("-big-mb and -variants must not be negative")
	}
	if opts.tag == "" {
		opts.tag = "latest"
	}
	bb, err := findBusybox(opts.busybox)
	if err != nil {
		return nil, err
	}
	out := filepath.Clean(opts.outDir)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	w := &layoutWriter{dir: tmp}
	res, err := w.write(opts, bb)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(out); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, err
	}
	return res, nil
}

func findBusybox(p string) (string, error) {
	if p != "" {
		return p, nil
	}
	if _, err := os.Stat("/bin/busybox"); err == nil {
		return "/bin/busybox", nil
	}
	if p, err := exec.LookPath("busybox"); err == nil {
		return p, nil
	}
	return "", errors.New("no busybox found: install busybox-static (hack/setup.sh does) or pass -busybox")
}

type layoutWriter struct {
	dir string
}

func (w *layoutWriter) write(opts options, busybox string) (*result, error) {
	if err := os.MkdirAll(filepath.Join(w.dir, "blobs", "sha256"), 0o755); err != nil {
		return nil, err
	}
	base, err := w.busyboxLayer(busybox)
	if err != nil {
		return nil, err
	}
	layers := []layer{base}
	labels := map[string]string{"org.skiff.test": "busybox", "maintainer": "skiff"}
	if opts.bigMB > 0 {
		total := int64(opts.bigMB) << 20
		for k := 1; k <= bigLayers; k++ {
			size := total / bigLayers
			if k == bigLayers {
				size = total - size*(bigLayers-1)
			}
			l, err := w.dataLayer(k, size)
			if err != nil {
				return nil, err
			}
			layers = append(layers, l)
		}
		labels["org.skiff.test"] = "big"
	}

	res := &result{}
	main, err := w.image(opts.tag, layers, labels)
	if err != nil {
		return nil, err
	}
	res.images = append(res.images, main)
	for k := 1; k <= opts.variants; k++ {
		l, err := w.variantLayer(k)
		if err != nil {
			return nil, err
		}
		vl := map[string]string{"org.skiff.variant": strconv.Itoa(k)}
		for key, v := range labels {
			vl[key] = v
		}
		img, err := w.image("variant-"+strconv.Itoa(k), append(append([]layer(nil), layers...), l), vl)
		if err != nil {
			return nil, err
		}
		res.images = append(res.images, img)
	}

	idx := index{SchemaVersion: 2, MediaType: mediaTypeIndex}
	for _, img := range res.images {
		d := img.manifest
		d.Annotations = map[string]string{annotationRefName: img.tag}
		idx.Manifests = append(idx.Manifests, d)
	}
	idxJSON, err := json.Marshal(idx)
	if err != nil {
		return nil, err
	}
	res.index = descriptor{MediaType: mediaTypeIndex, Digest: digestOf(idxJSON), Size: int64(len(idxJSON))}
	if err := os.WriteFile(filepath.Join(w.dir, "index.json"), idxJSON, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(w.dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return nil, err
	}
	return res, nil
}

// image writes the config and manifest of one image made of layers.
func (w *layoutWriter) image(tag string, layers []layer, labels map[string]string) (image, error) {
	cfg := imageConfig{
		Created:      epoch.Format(time.RFC3339),
		Author:       "skiff",
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Config: runConfig{
			ExposedPorts: map[string]struct{}{"80/tcp": {}},
			Env:          []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd:          []string{"sh"},
			WorkingDir:   "/home",
			Labels:       labels,
		},
		RootFS: rootFS{Type: "layers"},
	}
	m := manifest{SchemaVersion: 2, MediaType: mediaTypeManifest}
	for _, l := range layers {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.diffID)
		cfg.History = append(cfg.History, historyRec{Created: cfg.Created, CreatedBy: l.createdBy})
		m.Layers = append(m.Layers, l.desc)
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return image{}, err
	}
	cfgDesc, err := w.blob(mediaTypeConfig, cfgJSON)
	if err != nil {
		return image{}, err
	}
	m.Config = cfgDesc
	mJSON, err := json.Marshal(m)
	if err != nil {
		return image{}, err
	}
	mDesc, err := w.blob(mediaTypeManifest, mJSON)
	if err != nil {
		return image{}, err
	}
	return image{tag: tag, manifest: mDesc, config: cfgDesc}, nil
}

func (w *layoutWriter) blob(mediaType string, data []byte) (descriptor, error) {
	d := descriptor{MediaType: mediaType, Digest: digestOf(data), Size: int64(len(data))}
	return d, os.WriteFile(w.blobPath(d.Digest), data, 0o644)
}

func (w *layoutWriter) blobPath(digest string) string {
	return filepath.Join(w.dir, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// entry is one file in a layer tar.
type entry struct {
	name     string // relative, no leading slash
	typ      byte   // tar.TypeDir, tar.TypeReg, tar.TypeSymlink
	mode     int64
	linkname string
	size     int64
	// open returns the contents of a regular file.
	open func() (io.Reader, error)
}

func dir(name string, mode int64) entry { return entry{name: name, typ: tar.TypeDir, mode: mode} }

func symlink(name, target string) entry {
	return entry{name: name, typ: tar.TypeSymlink, mode: 0o777, linkname: target}
}

func file(name string, mode int64, content string) entry {
	return entry{name: name, typ: tar.TypeReg, mode: mode, size: int64(len(content)),
		open: func() (io.Reader, error) { return strings.NewReader(content), nil }}
}

func (w *layoutWriter) busyboxLayer(busybox string) (layer, error) {
	st, err := os.Stat(busybox)
	if err != nil {
		return layer{}, err
	}
	out, err := exec.Command(busybox, "--list-full").Output()
	if err != nil {
		return layer{}, fmt.Errorf("%s --list-full: %w (is it busybox-static?)", busybox, err)
	}
	entries := []entry{
		{name: "bin/busybox", typ: tar.TypeReg, mode: 0o755, size: st.Size(),
			open: func() (io.Reader, error) { return os.Open(busybox) }},
		symlink("bin/sh", "/bin/busybox"),
		dir("bin", 0o755), dir("dev", 0o755), dir("etc", 0o755), dir("home", 0o755),
		dir("proc", 0o555), dir("root", 0o700), dir("sbin", 0o755), dir("sys", 0o555),
		dir("tmp", 0o1777), dir("usr", 0o755), dir("usr/bin", 0o755), dir("usr/sbin", 0o755),
		dir("var", 0o755),
		file("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\n"+
			"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
		file("etc/group", 0o644, "root:x:0:\nnobody:x:65534:\nnogroup:x:65534:\n"),
		file("etc/os-release", 0o644, "NAME=\"skiff test busybox\"\nID=busybox\n"+
			"PRETTY_NAME=\"skiff test busybox\"\n"),
	}
	seen := map[string]bool{}
	for _, e := range entries {
		seen[e.name] = true
	}
	for _, line := range strings.Split(string(out), "\n") {
		name := strings.Trim(strings.TrimSpace(line), "/")
		if name == "" || seen[name] || path.Clean(name) != name || strings.HasPrefix(name, "..") {
			continue
		}
		seen[name] = true
		entries = append(entries, symlink(name, "/bin/busybox"))
	}
	return w.layer(entries, gzip.DefaultCompression, "COPY busybox-static /bin/busybox # and applet symlinks, /etc files")
}

// dataLayer adds /data/layerK.bin filled with seeded pseudo-random bytes, which
// gzip cannot shrink: pulls of this image move the full size over the wire.
func (w *layoutWriter) dataLayer(k int, size int64) (layer, error) {
	entries := []entry{
		dir("data", 0o755),
		{name: fmt.Sprintf("data/layer%d.bin", k), typ: tar.TypeReg, mode: 0o644, size: size,
			open: func() (io.Reader, error) {
				rng := rand.NewChaCha8([32]byte{'s', 'k', 'i', 'f', 'f', byte(k)})
				return io.LimitReader(rng, size), nil
			}},
	}
	// Random data does not compress: spend the least CPU trying.
	return w.layer(entries, gzip.BestSpeed, fmt.Sprintf("COPY layer%d.bin /data/ # %d bytes of random data", k, size))
}

// variantLayer is a tiny layer that makes variant image k distinct from the others.
func (w *layoutWriter) variantLayer(k int) (layer, error) {
	return w.layer([]entry{file("etc/skiff-variant", 0o644, strconv.Itoa(k)+"\n")},
		gzip.DefaultCompression, fmt.Sprintf("RUN echo %d > /etc/skiff-variant", k))
}

// layer writes entries as a gzip-compressed tar blob, hashing the uncompressed
// stream (diff_id) and the compressed one (blob digest) in the same pass.
func (w *layoutWriter) layer(entries []entry, level int, createdBy string) (layer, error) {
	entries = withParents(entries)
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })

	f, err := os.CreateTemp(filepath.Join(w.dir, "blobs", "sha256"), ".layer-")
	if err != nil {
		return layer{}, err
	}
	defer f.Close()
	compressed := sha256.New()
	counter := &countingWriter{}
	gz, err := gzip.NewWriterLevel(io.MultiWriter(f, compressed, counter), level)
	if err != nil {
		return layer{}, err
	}
	// The zero header (no name, zero mtime) is what makes gzip reproducible.
	gz.Header = gzip.Header{OS: 255}
	uncompressed := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(gz, uncompressed))
	for _, e := range entries {
		if err := writeEntry(tw, e); err != nil {
			return layer{}, fmt.Errorf("layer entry %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return layer{}, err
	}
	if err := gz.Close(); err != nil {
		return layer{}, err
	}
	if err := f.Close(); err != nil {
		return layer{}, err
	}
	// CreateTemp makes 0600 files; the rootless user must be able to read blobs.
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return layer{}, err
	}
	l := layer{
		desc:      descriptor{MediaType: mediaTypeLayer, Digest: hashDigest(compressed), Size: counter.n},
		diffID:    hashDigest(uncompressed),
		createdBy: createdBy,
	}
	return l, os.Rename(f.Name(), w.blobPath(l.desc.Digest))
}

func writeEntry(tw *tar.Writer, e entry) error {
	hdr := &tar.Header{
		Typeflag: e.typ,
		Name:     e.name,
		Linkname: e.linkname,
		Mode:     e.mode,
		Size:     e.size,
		ModTime:  epoch,
		Format:   tar.FormatPAX, // PAX only adds records when USTAR can't hold a field
	}
	if e.typ == tar.TypeDir {
		hdr.Name += "/"
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if e.typ != tar.TypeReg {
		return nil
	}
	r, err := e.open()
	if err != nil {
		return err
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	n, err := io.Copy(tw, r)
	if err != nil {
		return err
	}
	if n != e.size {
		return fmt.Errorf("size changed while reading: %d != %d", n, e.size)
	}
	return nil
}

// withParents adds a 0755 directory entry for every missing parent, so that
// extraction never has to invent directories (and their modes) on its own.
func withParents(entries []entry) []entry {
	have := map[string]bool{}
	for _, e := range entries {
		have[e.name] = true
	}
	for _, e := range entries {
		for p := path.Dir(e.name); p != "." && p != "/"; p = path.Dir(p) {
			if !have[p] {
				have[p] = true
				entries = append(entries, dir(p, 0o755))
			}
		}
	}
	return entries
}

func hashDigest(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
