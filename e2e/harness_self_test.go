package e2e

// Checks of the harness itself, so a broken fixture or user setup shows up
// as such rather than as a skiff failure.

import (
	"archive/tar"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestHarnessModes: the binary runs as every mode's user, in its own dirs.
func TestHarnessModes(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		res := env.run("--version")
		if res.Code != 0 || !strings.Contains(res.Stdout, "skiff") {
			t.Errorf("skiff --version as %s: %s", env.Mode, res)
		}
		fi, err := os.Stat(env.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if uid := int(fi.Sys().(*syscall.Stat_t).Uid); env.User != nil && uid != env.User.Uid {
			t.Errorf("env dir owned by %d, want %d", uid, env.User.Uid)
		}
	})
	if u := users["skiffsub"]; u.SubStart == 0 || u.SubCount == 0 {
		t.Errorf("skiffsub has no subordinate ids: %+v", u)
	}
}

// TestHarnessFixtures: the honest fixtures are valid images on the registry.
func TestHarnessFixtures(t *testing.T) {
	t.Parallel()
	for _, f := range []*Fixture{fx.Busybox, fx.Hello, fx.Layers} {
		r, err := reg.parse(f.Repo + ":" + f.Tag)
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(r)
		if err != nil {
			t.Fatalf("%s: %v", f.Short, err)
		}
		if err := readAllLayers(img); err != nil {
			t.Errorf("%s: %v", f.Short, err)
		}
		if d, _ := img.Digest(); d.String() != f.Digest {
			t.Errorf("%s: digest %s, want %s", f.Short, d, f.Digest)
		}
	}
	// The broken fixtures really are broken, for a client that checks.
	for _, f := range []*Fixture{fx.BadDigest, fx.Truncated, fx.BadGzip, fx.ShortBlob} {
		r, err := reg.parse(f.Repo + ":" + f.Tag)
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(r)
		if err == nil {
			err = readAllLayers(img)
		}
		if err == nil {
			t.Errorf("%s: ggcr reads it without error", f.Short)
		}
	}
	r, _ := reg.parse("library/multiarch:latest")
	idx, err := remote.Index(r)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := idx.IndexManifest(); err != nil || len(m.Manifests) != 2 {
		t.Errorf("multiarch index: %v %v", m, err)
	}
	if err := checkSentinel(); err != nil {
		t.Error(err)
	}
}

// readAllLayers reads every layer through ggcr, which checks each digest
// and decompresses each stream.
func readAllLayers(img v1.Image) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// TestHarnessLayersScript: the layers image, flattened by ggcr (whiteouts and
// opaque dirs applied) and run in a chroot, gives what TestRunLayersContent
// expects from skiff, so that test checks skiff and not its own script.
func TestHarnessLayersScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rc := mutate.Extract(fx.Layers.Image)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := extractEntry(dir, h, tr); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("chroot", dir, "/bin/sh", "-c", layersScript).CombinedOutput()
	if err != nil || string(out) != layersWant("1000:1000") {
		t.Errorf("script in a flattened layers: %v\n%s\nwant:\n%s", err, out, layersWant("1000:1000"))
	}
}

// extractEntry writes one (trusted) tar entry under dir.
func extractEntry(dir string, h *tar.Header, r io.Reader) error {
	p := filepath.Join(dir, h.Name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(p, os.FileMode(h.Mode).Perm()); err != nil {
			return err
		}
	case tar.TypeReg:
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode).Perm())
		if err != nil {
			return err
		}
		_, err = io.Copy(f, r)
		f.Close()
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		return os.Symlink(h.Linkname, p)
	case tar.TypeLink:
		return os.Link(filepath.Join(dir, h.Linkname), p)
	default:
		return nil
	}
	if err := os.Lchown(p, h.Uid, h.Gid); err != nil {
		return err
	}
	return os.Chmod(p, os.FileMode(h.Mode).Perm())
}
