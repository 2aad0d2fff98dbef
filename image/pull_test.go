package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/skiff-dev/skiff/store"
)

// pullTarLayer builds a gzip layer holding the given files.
func pullTarLayer(t *testing.T, files map[string]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for n, c := range files {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(c)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(c))
	}
	tw.Close()
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func pullTestImage(t *testing.T, arch string, layers ...map[string]string) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.DockerManifestSchema2)
	img = mutate.ConfigMediaType(img, types.DockerConfigJSON)
	for _, files := range layers {
		var err error
		img, err = mutate.Append(img, mutate.Addendum{Layer: pullTarLayer(t, files), History: v1.History{CreatedBy: "test"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Config.Cmd = []string{"/bin/sh"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// pullRegistry starts ggcr's registry on 127.0.0.1; corrupt, when set,
// rewrites the body of blob requests; blobGets counts blob GETs.
type pullRegistry struct {
	host     string
	mu       sync.Mutex
	corrupt  func(path string, body []byte) []byte
	blobGets int
}

func (tr *pullRegistry) gets() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.blobGets
}

func newPullRegistry(t *testing.T) *pullRegistry {
	t.Helper()
	tr := &pullRegistry{}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		corrupt := tr.corrupt
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			tr.blobGets++
		}
		tr.mu.Unlock()
		if corrupt == nil || r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/blobs/") {
			reg.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		reg.ServeHTTP(rec, r)
		body := corrupt(r.URL.Path, rec.Body.Bytes())
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	tr.host = strings.TrimPrefix(srv.URL, "http://")
	return tr
}

func (tr *pullRegistry) push(t *testing.T, ref string, img v1.Image) string {
	t.Helper()
	full := tr.host + "/" + ref
	r, err := name.ParseReference(full)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	return full
}

func pullTestStore(t *testing.T) *Store {
	t.Helper()
	t.Setenv("CONTAINERS_REGISTRIES_CONF", filepath.Join(t.TempDir(), "none.conf"))
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

// pullStoreFiles lists every visible file name under the image store, to check
// that failures leave it untouched.
func pullStoreFiles(t *testing.T, s *Store) []string {
	var out []string
	filepath.Walk(s.root, func(p string, info os.FileInfo, err error) error {
		if err == nil && p != s.root && !strings.HasSuffix(p, ".lock") {
			out = append(out, strings.TrimPrefix(p, s.root))
		}
		return nil
	})
	return out
}

func TestPullStoresImageAndReusesLayers(t *testing.T) {
	reg := newPullRegistry(t)
	ref := reg.push(t, "test/app:1", pullTestImage(t, "amd64", map[string]string{"a": "A"}, map[string]string{"b": "B"}))
	s := pullTestStore(t)
	var out bytes.Buffer
	img, err := s.Pull(context.Background(), ref, PullOptions{Out: &out, Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if got := img.RepoTags; len(got) != 1 || got[0] != ref {
		t.Errorf("RepoTags = %v, want [%s]", got, ref)
	}
	if !strings.Contains(out.String(), "Pull complete") || !strings.HasSuffix(out.String(), ref+"\n") {
		t.Errorf("pull output:\n%s", out.String())
	}
	paths, err := s.LayerPaths(img)
	if err != nil || len(paths) != 2 {
		t.Fatalf("LayerPaths = %v, %v", paths, err)
	}
	if data, err := os.ReadFile(filepath.Join(paths[1], "b")); err != nil || string(data) != "B" {
		t.Errorf("layer 2 file b = %q, %v", data, err)
	}
	for _, r := range []string{ref, img.ID, img.ID[7:19], img.RepoDigests[0]} {
		if got, err := s.Lookup(r); err != nil || got.ID != img.ID {
			t.Errorf("Lookup(%s) = %v, %v", r, got, err)
		}
	}
	out.Reset()
	gets := reg.gets()
	if _, err := s.Pull(context.Background(), ref, PullOptions{Out: &out, Platform: "linux/amd64"}); err != nil {
		t.Fatal(err)
	}
	if n := reg.gets() - gets; n != 0 {
		t.Errorf("an up-to-date pull fetched %d blobs", n)
	}
	// Up to date: like Docker, no layer lines, only the digest and status.
	if strings.Contains(out.String(), "Already exists") || strings.Contains(out.String(), "Pulling fs layer") ||
		!strings.Contains(out.String(), "Image is up to date") {
		t.Errorf("second pull output:\n%s", out.String())
	}
}

func TestPullResolvesPlatformFromIndex(t *testing.T) {
	reg := newPullRegistry(t)
	amd := pullTestImage(t, "amd64", map[string]string{"arch": "amd64"})
	arm := pullTestImage(t, "arm64", map[string]string{"arch": "arm64"})
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}})
	r, _ := name.ParseReference(reg.host + "/multi:latest")
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ platform, want string }{{"linux/amd64", "amd64"}, {"linux/arm64/v8", "arm64"}} {
		s := pullTestStore(t)
		img, err := s.Pull(context.Background(), r.String(), PullOptions{Platform: tc.platform})
		if err != nil {
			t.Fatalf("%s: %v", tc.platform, err)
		}
		paths, _ := s.LayerPaths(img)
		if data, _ := os.ReadFile(filepath.Join(paths[0], "arch")); string(data) != tc.want {
			t.Errorf("%s: got layer for %q", tc.platform, data)
		}
		idxDigest, _ := idx.Digest()
		if img.RepoDigests[0] != reg.host+"/multi@"+idxDigest.String() {
			t.Errorf("RepoDigests = %v, want the index digest", img.RepoDigests)
		}
	}
	s := pullTestStore(t)
	if _, err := s.Pull(context.Background(), r.String(), PullOptions{Platform: "linux/s390x"}); err == nil || !strings.Contains(err.Error(), "no matching manifest") {
		t.Errorf("pull for a missing platform: %v", err)
	}
}

func TestPullFailuresLeaveStoreUntouched(t *testing.T) {
	reg := newPullRegistry(t)
	good := pullTestImage(t, "amd64", map[string]string{"a": "A"}, map[string]string{"b": "B"})
	ref := reg.push(t, "test/bad:1", good)
	layers, _ := good.Layers()
	badDigest, _ := layers[1].Digest()
	tests := []struct {
		name    string
		ref     string
		corrupt func(path string, body []byte) []byte
		want    string
	}{
		{"unknown tag", reg.host + "/test/bad:nope", nil, "not found"},
		{"unknown repo", reg.host + "/test/none:1", nil, "not found"},
		{"unreachable", "127.0.0.1:1/test/bad:1", nil, "127.0.0.1:1/test/bad:1"},
		{"bad reference", "Bad//Ref", nil, "invalid reference format"},
		{"digest mismatch", ref, func(p string, b []byte) []byte {
			if strings.Contains(p, badDigest.Hex) {
				c := bytes.Clone(b)
				c[len(c)-1] ^= 0xff
				return c
			}
			return b
		}, "test/bad:1"},
		{"truncated blob", ref, func(p string, b []byte) []byte {
			if strings.Contains(p, badDigest.Hex) {
				return b[:len(b)/2]
			}
			return b
		}, "test/bad:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg.mu.Lock()
			reg.corrupt = tc.corrupt
			reg.mu.Unlock()
			s := pullTestStore(t)
			before := pullStoreFiles(t, s)
			_, err := s.Pull(context.Background(), tc.ref, PullOptions{Platform: "linux/amd64"})
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line containing %q", err, tc.want)
			}
			t.Log(err)
			if after := pullStoreFiles(t, s); strings.Join(after, ",") != strings.Join(before, ",") && !pullOnlyIndex(after, before) {
				t.Errorf("store changed: %v -> %v", before, after)
			}
			if imgs, _ := s.List(); len(imgs) != 0 {
				t.Errorf("images after a failed pull: %v", imgs)
			}
		})
	}
}

// pullOnlyIndex allows an empty index.json to appear (the lock holder may save it).
func pullOnlyIndex(after, before []string) bool {
	var rest []string
	for _, a := range after {
		if a != "/index.json" {
			rest = append(rest, a)
		}
	}
	return strings.Join(rest, ",") == strings.Join(before, ",")
}

func TestConcurrentPullsAndDelete(t *testing.T) {
	reg := newPullRegistry(t)
	ref := reg.push(t, "test/race:1", pullTestImage(t, "amd64", map[string]string{"a": "A"}, map[string]string{"b": "B"}))
	s := pullTestStore(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			img, err := s.Pull(context.Background(), ref, PullOptions{Platform: "linux/amd64"})
			if err != nil {
				errs <- err
				return
			}
			if err := s.Delete(img); err != nil && !errors.Is(err, store.ErrNotFound) {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Every image left in the index has all its files.
	imgs, _ := s.List()
	for _, img := range imgs {
		if _, err := s.LayerPaths(img); err != nil {
			t.Error(err)
		}
	}
}

func TestTagUntagDelete(t *testing.T) {
	reg := newPullRegistry(t)
	ref := reg.push(t, "test/tag:1", pullTestImage(t, "amd64", map[string]string{"a": "A"}))
	s := pullTestStore(t)
	img, err := s.Pull(context.Background(), ref, PullOptions{Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(img, "myapp:v2"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Lookup("docker.io/library/myapp:v2"); err != nil || got.ID != img.ID {
		t.Fatalf("Lookup after Tag: %v, %v", got, err)
	}
	if err := s.Untag("myapp:v2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup("myapp:v2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Lookup after Untag: %v", err)
	}
	if err := s.Delete(img); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(s.path("blobs", "sha256"))
	layers, _ := os.ReadDir(s.path("layers"))
	if len(left)+len(layers) != 0 {
		t.Errorf("Delete left %d blobs and %d layers", len(left), len(layers))
	}
}

func TestV1ImageRoundTrip(t *testing.T) {
	reg := newPullRegistry(t)
	src := pullTestImage(t, "amd64", map[string]string{"a": "A"})
	ref := reg.push(t, "test/v1:1", src)
	s := pullTestStore(t)
	img, err := s.Pull(context.Background(), ref, PullOptions{Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.V1Image(img)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := src.Digest()
	if got, _ := v.Digest(); got != want {
		t.Errorf("V1Image digest %s, want %s", got, want)
	}
	// Write of the same image under a new name reuses everything.
	again, err := s.Write(context.Background(), v, []string{"copy:1"})
	if err != nil || again.ID != img.ID {
		t.Fatalf("Write = %v, %v", again, err)
	}
}

// TestPullQuietPrintsReference: -q prints only the full reference, as Docker.
func TestPullQuietPrintsReference(t *testing.T) {
	reg := newPullRegistry(t)
	ref := reg.push(t, "test/quiet:1", pullTestImage(t, "amd64", map[string]string{"a": "A"}))
	s := pullTestStore(t)
	var out bytes.Buffer
	if _, err := s.Pull(context.Background(), ref, PullOptions{Out: &out, Quiet: true, Platform: "linux/amd64"}); err != nil {
		t.Fatal(err)
	}
	if out.String() != ref+"\n" {
		t.Errorf("quiet pull printed %q, want %q", out.String(), ref+"\n")
	}
}

// TestRetagLeavesDanglingAndRemoveCountsFreed: a tag moved by a pull leaves
// the old image with no tag but its repo digest; Remove reports only the
// layers no other image still uses.
func TestRetagLeavesDanglingAndRemoveCountsFreed(t *testing.T) {
	reg := newPullRegistry(t)
	base := map[string]string{"a": strings.Repeat("A", 1000)}
	ref := reg.push(t, "test/move:1", pullTestImage(t, "amd64", base))
	s := pullTestStore(t)
	ctx, opts := context.Background(), PullOptions{Platform: "linux/amd64"}
	old, err := s.Pull(ctx, ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	reg.push(t, "test/move:1", pullTestImage(t, "amd64", base, map[string]string{"b": strings.Repeat("B", 3000)}))
	cur, err := s.Pull(ctx, ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	if cur.ID == old.ID || len(cur.Layers) != 2 || cur.Layers[0] != old.Layers[0] {
		t.Fatalf("second image %+v does not share the first's base layer %v", cur, old.Layers)
	}
	old, err = s.Lookup(old.ID)
	if err != nil || len(old.RepoTags) != 0 || len(old.RepoDigests) != 1 {
		t.Fatalf("old image after the tag moved: %+v, %v", old, err)
	}
	sizes := s.LayerSizes(cur)
	tests := []struct {
		img  *Image
		want int64
	}{
		{old, 0},                   // its only layer is cur's base
		{cur, sizes[0] + sizes[1]}, // now nothing shares either
	}
	for _, tc := range tests {
		freed, err := s.Remove(tc.img)
		if err != nil || freed != tc.want {
			t.Errorf("Remove(%s) = %d, %v; want %d", shortHex(tc.img.ID), freed, err, tc.want)
		}
	}
}
