package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/klauspost/compress/gzip"

	"github.com/skiff-dev/skiff/store"
)

func newTransferStore(t *testing.T) *Store {
	t.Helper()
	st, err := store.Open(t.TempDir(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(st)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// transferTar builds an uncompressed tar of regular files (path -> content).
func transferTar(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[n]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func transferGzip(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// transferImage stores a two-layer image under names and returns it.
func transferImage(t *testing.T, s *Store, names ...string) *Image {
	t.Helper()
	var layers []v1.Layer
	for _, files := range []map[string]string{{"etc/os": "base\n", "bin/x": "x"}, {"etc/os": "top\n"}} {
		data := transferTar(t, files)
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, l)
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config.Cmd = "linux", "amd64", []string{"/bin/x"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	stored, err := s.Write(context.Background(), img, names)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

// transferTop is the content of etc/os in the image's top layer dir.
func transferTop(t *testing.T, s *Store, img *Image) string {
	t.Helper()
	paths, err := s.LayerPaths(img)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(paths[len(paths)-1], "etc/os"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestSaveLoadRoundTrip(t *testing.T) {
	tests := []struct {
		format string
		gzip   bool
	}{
		{FormatDockerArchive, false},
		{FormatDockerArchive, true},
		{FormatOCIArchive, false},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			ctx := context.Background()
			src := newTransferStore(t)
			img := transferImage(t, src, "busybox:latest", "example.com:5000/team/app:1")
			var buf bytes.Buffer
			if err := src.Save(ctx, &buf, []string{"busybox", "example.com:5000/team/app:1"}, tt.format); err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			if tt.gzip {
				data = transferGzip(t, data)
			}
			dst := newTransferStore(t)
			loaded, err := dst.Load(ctx, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, l := range loaded {
				if l.Image.ID != img.ID {
					t.Errorf("loaded id %s, saved %s", l.Image.ID, img.ID)
				}
				names = append(names, l.Names...)
			}
			sort.Strings(names)
			if want := []string{"busybox:latest", "example.com:5000/team/app:1"}; !reflect.DeepEqual(names, want) {
				t.Errorf("loaded names %q, want %q", names, want)
			}
			got, err := dst.Lookup("example.com:5000/team/app:1")
			if err != nil {
				t.Fatal(err)
			}
			if top := transferTop(t, dst, got); top != "top\n" {
				t.Errorf("top layer etc/os = %q", top)
			}
			cf, err := dst.ConfigFile(got)
			if err != nil || !reflect.DeepEqual(cf.Config.Cmd, []string{"/bin/x"}) {
				t.Errorf("config after round trip: %+v, %v", cf, err)
			}
		})
	}
}

func TestSaveByIDIsUntagged(t *testing.T) {
	ctx := context.Background()
	src := newTransferStore(t)
	img := transferImage(t, src, "busybox:latest")
	var buf bytes.Buffer
	if err := src.Save(ctx, &buf, []string{img.ID}, ""); err != nil {
		t.Fatal(err)
	}
	dst := newTransferStore(t)
	loaded, err := dst.Load(ctx, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 1 || len(loaded[0].Names) != 0 || loaded[0].Image.ID != img.ID {
		t.Fatalf("loaded %+v, want one untagged %s", loaded, img.ID)
	}
}

func TestSaveUnknownImage(t *testing.T) {
	s := newTransferStore(t)
	var buf bytes.Buffer
	err := s.Save(context.Background(), &buf, []string{"nosuch:tag"}, "")
	if err == nil || buf.Len() != 0 {
		t.Fatalf("Save(nosuch) = %v with %d bytes written", err, buf.Len())
	}
}

// assertNoImages fails unless the store holds no image, blob or scratch file.
func assertNoImages(t *testing.T, s *Store) {
	t.Helper()
	imgs, err := s.List()
	if err != nil || len(imgs) != 0 {
		t.Errorf("store lists %d images (%v)", len(imgs), err)
	}
	for _, d := range []string{s.path("blobs", "sha256"), s.st.Path("tmp")} {
		entries, _ := os.ReadDir(d)
		if len(entries) != 0 {
			t.Errorf("%s holds %d entries after a failed load", d, len(entries))
		}
	}
}

func TestLoadBadInput(t *testing.T) {
	src := newTransferStore(t)
	transferImage(t, src, "busybox:latest")
	var good bytes.Buffer
	if err := src.Save(context.Background(), &good, []string{"busybox"}, ""); err != nil {
		t.Fatal(err)
	}
	// A docker-archive whose layer does not match the config's diff id.
	var tampered bytes.Buffer
	tr := tar.NewReader(bytes.NewReader(good.Bytes()))
	tw := tar.NewWriter(&tampered)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		body, _ := io.ReadAll(tr)
		if filepath.Ext(hdr.Name) == ".gz" {
			body = transferGzip(t, transferTar(t, map[string]string{"evil": "1"}))
			hdr.Size = int64(len(body))
		}
		tw.WriteHeader(hdr)
		tw.Write(body)
	}
	tw.Close()
	gz := transferGzip(t, good.Bytes())
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not a tar", []byte("hello, this is not an archive at all")},
		{"truncated", good.Bytes()[:good.Len()/2]},
		{"corrupt gzip", append([]byte{0x1f, 0x8b, 8, 0}, bytes.Repeat([]byte{0xff}, 64)...)},
		{"truncated gzip", gz[:len(gz)/2]},
		{"tar without manifest", transferTar(t, map[string]string{"hello.txt": "hi"})},
		{"layer does not match diff id", tampered.Bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTransferStore(t)
			if _, err := s.Load(context.Background(), bytes.NewReader(tt.data)); err == nil {
				t.Fatal("Load succeeded")
			}
			assertNoImages(t, s)
		})
	}
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	s := newTransferStore(t)
	rootfs := transferGzip(t, transferTar(t, map[string]string{"etc/os": "imported\n", "bin/app": "#!"}))
	img, err := s.Import(ctx, bytes.NewReader(rootfs), []string{"myimport"}, ImportOptions{
		Changes: []string{`CMD ["/bin/app"]`, "ENV A=b"}, Platform: "linux/arm64/v8"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Lookup("myimport:latest"); err != nil || got.ID != img.ID {
		t.Fatalf("Lookup(myimport:latest) = %v, %v", got, err)
	}
	cf, err := s.ConfigFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "arm64" || cf.Variant != "v8" ||
		!reflect.DeepEqual(cf.Config.Cmd, []string{"/bin/app"}) || !reflect.DeepEqual(cf.Config.Env, []string{"A=b"}) {
		t.Errorf("config %+v", cf)
	}
	if len(cf.History) != 1 || cf.History[0].Comment != "Imported from -" || cf.Created.IsZero() {
		t.Errorf("history %+v created %v", cf.History, cf.Created)
	}
	if top := transferTop(t, s, img); top != "imported\n" {
		t.Errorf("etc/os = %q", top)
	}

	untagged, err := s.Import(ctx, bytes.NewReader(transferTar(t, map[string]string{"a": "b"})), nil, ImportOptions{Message: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if len(untagged.RepoTags) != 0 {
		t.Errorf("import without a name got tags %q", untagged.RepoTags)
	}
}

func TestImportBadInput(t *testing.T) {
	rootfs := transferTar(t, map[string]string{"etc/os": strings.Repeat("x", 2000)})
	tests := []struct {
		name    string
		data    []byte
		changes []string
	}{
		{"empty", nil, nil},
		{"not a tar", []byte("plain text, not a tarball"), nil},
		{"truncated tar", rootfs[:1000], nil},
		{"corrupt gzip", append([]byte{0x1f, 0x8b, 8, 0}, bytes.Repeat([]byte{1}, 64)...), nil},
		{"bad change", rootfs, []string{"RUN rm -rf /"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTransferStore(t)
			_, err := s.Import(context.Background(), bytes.NewReader(tt.data), []string{"x"}, ImportOptions{Changes: tt.changes})
			if err == nil {
				t.Fatal("Import succeeded")
			}
			assertNoImages(t, s)
		})
	}
}

// Docker's legacy save format keeps layers as <id>/layer.tar and links a
// layer that several images share; load follows links inside the archive.
func TestLoadFollowsLinks(t *testing.T) {
	ctx := context.Background()
	src := newTransferStore(t)
	img := transferImage(t, src, "busybox:latest")
	var saved bytes.Buffer
	if err := src.Save(ctx, &saved, []string{"busybox"}, ""); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(&saved)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		files[hdr.Name], _ = io.ReadAll(tr)
	}
	var m []dockerManifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	add := func(hdr *tar.Header, body []byte) {
		hdr.Size = int64(len(body))
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	for i, l := range m[0].Layers {
		real, link := fmt.Sprintf("l%d/layer.tar", i), fmt.Sprintf("link%d/layer.tar", i)
		add(&tar.Header{Name: real, Mode: 0o644, Typeflag: tar.TypeReg}, files[l])
		add(&tar.Header{Name: link, Linkname: "../" + real, Typeflag: tar.TypeSymlink}, nil)
		m[0].Layers[i] = link
	}
	add(&tar.Header{Name: m[0].Config, Mode: 0o644, Typeflag: tar.TypeReg}, files[m[0].Config])
	manifest, _ := json.Marshal(m)
	add(&tar.Header{Name: "manifest.json", Mode: 0o644, Typeflag: tar.TypeReg}, manifest)
	tw.Close()

	dst := newTransferStore(t)
	loaded, err := dst.Load(ctx, &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 1 || loaded[0].Image.ID != img.ID {
		t.Fatalf("loaded %+v, want %s", loaded, img.ID)
	}
}

// An OCI archive holding a multi-platform index loads the host's image,
// named by the containerd annotation Docker 25+ writes.
func TestLoadOCIIndexPicksHostPlatform(t *testing.T) {
	ctx := context.Background()
	src := newTransferStore(t)
	imgFor := func(arch, content string) v1.Image {
		data := transferTar(t, map[string]string{"etc/os": content})
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			t.Fatal(err)
		}
		img, _ := mutate.AppendLayers(empty.Image, l)
		cf, _ := img.ConfigFile()
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", arch
		img, _ = mutate.ConfigFile(img, cf)
		return img
	}
	host, other := runtime.GOARCH, "s390x"
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: imgFor(other, "other\n"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: other}}},
		mutate.IndexAddendum{Add: imgFor(host, "host\n"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: host}}})
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		annotationContainerdName: "example.com/multi:v1", annotationRefName: "v1"})); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tarDir(&buf, dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := src.Load(ctx, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 1 || !reflect.DeepEqual(loaded[0].Names, []string{"example.com/multi:v1"}) {
		t.Fatalf("loaded %+v", loaded)
	}
	if got := transferTop(t, src, loaded[0].Image); got != "host\n" {
		t.Errorf("loaded the %q image, want the host's", got)
	}
}

func TestSweepTransfers(t *testing.T) {
	parent := t.TempDir()
	mk := func(name string, lock bool, age time.Duration, held bool) string {
		dir := filepath.Join(parent, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if lock {
			p := filepath.Join(dir, transferLock)
			l, err := store.LockFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if held {
				t.Cleanup(func() { l.Unlock() })
			} else {
				l.Unlock()
			}
			old := time.Now().Add(-age)
			os.Chtimes(p, old, old)
		}
		old := time.Now().Add(-age)
		os.Chtimes(dir, old, old)
		return dir
	}
	tests := []struct {
		name      string
		lock      bool
		age       time.Duration
		held      bool
		wantStays bool
	}{
		{"transfer-dead", true, time.Minute, false, false},
		{"transfer-live", true, time.Minute, true, true},
		{"transfer-new", true, 0, false, true}, // its owner may not have locked it yet
		{"transfer-nolock-old", false, 2 * time.Hour, false, false},
		{"transfer-nolock-new", false, time.Minute, false, true},
		{"other", false, 2 * time.Hour, false, true},
	}
	for _, tc := range tests {
		mk(tc.name, tc.lock, tc.age, tc.held)
	}
	sweepTransfers(parent)
	for _, tc := range tests {
		_, err := os.Stat(filepath.Join(parent, tc.name))
		if stays := err == nil; stays != tc.wantStays {
			t.Errorf("%s: stays = %v, want %v", tc.name, stays, tc.wantStays)
		}
	}
}
