package engine

import (
	"archive/tar"
	"io"
	"os"
	"path"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/skiff-dev/skiff/image"
)

// layerWriter writes a layer tar, gzip-compressed, to a file in the
// build's scratch space.
type layerWriter struct {
	f  *os.File
	gz *gzip.Writer
	*tar.Writer
}

func (b *builder) newLayer() (*layerWriter, error) {
	dir, err := b.scratchDir()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "layer-*.tar.gz")
	if err != nil {
		return nil, err
	}
	gz, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	return &layerWriter{f: f, gz: gz, Writer: tar.NewWriter(gz)}, nil
}

// finish closes the layer and returns its file.
func (w *layerWriter) finish() (string, error) {
	err := w.Writer.Close()
	if e := w.gz.Close(); err == nil {
		err = e
	}
	if e := w.f.Close(); err == nil {
		err = e
	}
	return w.f.Name(), err
}

func (w *layerWriter) abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// scratchDir is the build's private temp dir inside the store (same file
// system as the layers, so nothing large crosses devices).
func (b *builder) scratchDir() (string, error) {
	if b.tmp != "" {
		return b.tmp, nil
	}
	parent, err := b.e.Store.Dir("build-cache", "tmp")
	if err != nil {
		return "", err
	}
	b.tmp, err = os.MkdirTemp(parent, "build-")
	return b.tmp, err
}

func (b *builder) removeScratch() {
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
}

// commitLayer finishes a step that made a layer: the stage's image plus
// the layer (a gzipped tar file), with cfg's config and a history entry.
func (b *builder) commitLayer(s *stage, cfg *v1.ConfigFile, layerFile, createdBy, key string) error {
	defer os.Remove(layerFile)
	img, err := b.appendLayer(s.img, cfg, layerFile, v1.History{CreatedBy: createdBy})
	if err != nil {
		return err
	}
	return b.stepDone(s, img, key)
}

// appendLayer stores base + layer with cfg's config (commit uses it too).
func appendLayer(is *image.Store, ctxWrite func(v1.Image) (*image.Image, error), base *image.Image,
	cfg *v1.ConfigFile, layerFile string, h v1.History) (*image.Image, error) {
	bimg, err := is.V1Image(base)
	if err != nil {
		return nil, err
	}
	mt := types.DockerLayer
	if m, err := bimg.MediaType(); err == nil && m == types.OCIManifestSchema1 {
		mt = types.OCILayer
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return os.Open(layerFile) }, tarball.WithMediaType(mt))
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	h.Created = v1.Time{Time: now}
	img, err := mutate.Append(bimg, mutate.Addendum{Layer: layer, History: h, MediaType: mt})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config = cfg.Config
	cf.Author = cfg.Author
	cf.Created = v1.Time{Time: now}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, err
	}
	return ctxWrite(img)
}

func (b *builder) appendLayer(base *image.Image, cfg *v1.ConfigFile, layerFile string, h v1.History) (*image.Image, error) {
	return appendLayer(b.is, func(img v1.Image) (*image.Image, error) {
		return b.is.WriteWithParent(b.ctx, img, b.finalNames(), base.ID)
	}, base, cfg, layerFile, h)
}

// dirsLayer is a layer creating dir p and its missing parents (root-owned, 0755).
func (b *builder) dirsLayer(s *stage, p string) (string, error) {
	w, err := b.newLayer()
	if err != nil {
		return "", err
	}
	layers, _ := b.layerPaths(s)
	if err := writeParents(w.Writer, layers, path.Join(p, "x"), map[string]bool{}); err != nil {
		w.abort()
		return "", err
	}
	return w.finish()
}

// writeParents writes directory entries for every ancestor of p (a path
// in the image) that the image lacks, once each.
func writeParents(tw *tar.Writer, layers []string, p string, done map[string]bool) error {
	var dirs []string
	for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
		dirs = append([]string{d}, dirs...)
	}
	for _, d := range dirs {
		if done[d] {
			continue
		}
		done[d] = true
		if layerExists(layers, d) {
			continue
		}
		hdr := &tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755, ModTime: time.Now()}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
	}
	return nil
}
