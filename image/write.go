package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/skiff-dev/skiff/store"
)

// Write stores any v1.Image: blobs verified, layers unpacked once by chain
// id, the index updated under its lock, and the image tagged with names.
// Used by load, import, commit and build.
func (s *Store) Write(ctx context.Context, img v1.Image, names []string) (*Image, error) {
	return s.WriteWithParent(ctx, img, names, "")
}

// WriteWithParent is Write recording parent (an image id) as the image's
// Parent: build uses it for each step's image, so `images` can hide the
// untagged intermediates and `rmi` can remove them with their child. An
// image already stored keeps the parent it has.
func (s *Store) WriteWithParent(ctx context.Context, img v1.Image, names []string, parent string) (*Image, error) {
	var tags []string
	for _, n := range names {
		r, err := Normalize(n)
		if err != nil {
			return nil, err
		}
		tags = append(tags, Canonical(r))
	}
	return s.write(ctx, img, writeOptions{tags: tags, parent: parent, progress: noProgress{}})
}

type writeOptions struct {
	tags, digests []string // canonical names to give the image
	parent        string   // image id this one was built on
	progress      progress
	unpack        UnpackOptions
}

// plan is what an image needs in the store.
type plan struct {
	id       v1.Hash
	manifest v1.Hash
	rawMan   []byte
	rawCfg   []byte
	cfg      *v1.ConfigFile
	layers   []v1.Layer
	chains   []string
}

func planImage(img v1.Image) (*plan, error) {
	mt, err := img.MediaType()
	if err != nil {
		return nil, err
	}
	if mt != types.DockerManifestSchema2 && mt != types.OCIManifestSchema1 {
		return nil, fmt.Errorf("unsupported manifest media type %s", mt)
	}
	p := &plan{}
	if p.rawMan, err = img.RawManifest(); err != nil {
		return nil, err
	}
	p.manifest = sha256Hash(p.rawMan)
	if p.rawCfg, err = img.RawConfigFile(); err != nil {
		return nil, err
	}
	p.id = sha256Hash(p.rawCfg)
	if want, err := img.ConfigName(); err == nil && want != p.id {
		return nil, fmt.Errorf("config digest mismatch: got %s, want %s", p.id, want)
	}
	if p.cfg, err = img.ConfigFile(); err != nil {
		return nil, err
	}
	if p.layers, err = img.Layers(); err != nil {
		return nil, err
	}
	if len(p.layers) != len(p.cfg.RootFS.DiffIDs) {
		return nil, fmt.Errorf("manifest has %d layers but the config %d diff ids", len(p.layers), len(p.cfg.RootFS.DiffIDs))
	}
	p.chains = chainIDs(p.cfg.RootFS.DiffIDs)
	return p, nil
}

func (s *Store) write(ctx context.Context, img v1.Image, o writeOptions) (*Image, error) {
	// Writers share pull.lock; one that finds no other writer first clears
	// the temp files a killed writer left behind.
	s.cleanIfIdle()
	wl, err := store.RLockFile(s.path("pull.lock"))
	if err != nil {
		return nil, err
	}
	defer wl.Unlock()
	p, err := planImage(img)
	if err != nil {
		return nil, err
	}
	if !o.unpack.Rootless && o.unpack.IDMap == nil && store.Rootless() {
		o.unpack = UnpackOptions{Rootless: true, IgnoreChownErrors: true}
	}
	created := &createdSet{}
	var out *Image
	// A layer may vanish between fetching and committing when an rmi of
	// another image sweeps it; fetching again is then the right answer.
	for attempt := 0; ; attempt++ {
		if err = s.fetchLayers(ctx, p, o, created); err != nil {
			break
		}
		if err = s.putBlob(p.id, p.rawCfg); err != nil {
			break
		}
		if err = s.putBlob(p.manifest, p.rawMan); err != nil {
			break
		}
		out, err = s.commit(p, o)
		if !errors.Is(err, errVanished) || attempt == 3 {
			break
		}
	}
	if err != nil {
		s.discard(created)
		return nil, err
	}
	return out, nil
}

func (s *Store) cleanIfIdle() {
	l, ok, err := store.TryLockFile(s.path("pull.lock"))
	if err != nil || !ok {
		return
	}
	defer l.Unlock()
	s.CleanTemp(0)
}

var errVanished = errors.New("a layer vanished from the store")

// commit records the image in the index once every file it needs exists.
func (s *Store) commit(p *plan, o writeOptions) (*Image, error) {
	var out Image
	err := s.update(func(ix *index) error {
		for _, b := range p.blobs() {
			if !s.hasBlob(b) {
				return errVanished
			}
		}
		var size int64
		for _, c := range p.chains {
			m, err := s.layerMeta(c)
			if err != nil {
				return errVanished
			}
			size += m.Size
		}
		img := ix.byID(p.id.String())
		if img == nil {
			img = &Image{ID: p.id.String(), Manifest: p.manifest.String(), Created: p.cfg.Created.Time,
				Size: size, Layers: p.chains, Blobs: p.blobs(), Pulled: time.Now().UTC()}
			ix.Images = append(ix.Images, img)
		}
		if img.Parent == "" && o.parent != "" && o.parent != img.ID {
			img.Parent = o.parent
		}
		applyNames(ix, img, o)
		out = *img
		return nil
	})
	return &out, err
}

// applyNames gives img the tags in o, taking each from any image that had
// it (that image may be left dangling), and adds o's repo digests.
func applyNames(ix *index, img *Image, o writeOptions) {
	for _, t := range o.tags {
		for _, other := range ix.Images {
			other.RepoTags = slices.DeleteFunc(other.RepoTags, func(x string) bool { return x == t })
		}
		img.RepoTags = append(img.RepoTags, t)
	}
	for _, d := range o.digests {
		if !slices.Contains(img.RepoDigests, d) {
			img.RepoDigests = append(img.RepoDigests, d)
		}
	}
}

func (p *plan) blobs() []string {
	out := []string{p.manifest.String(), p.id.String()}
	for _, l := range p.layers {
		if d, err := l.Digest(); err == nil {
			out = append(out, d.String())
		}
	}
	return out
}

// createdSet remembers the blobs and layers one write created, so a failed
// write can take them back and leave the store as it found it.
type createdSet struct {
	mu     sync.Mutex
	blobs  []string
	layers []string
}

func (c *createdSet) add(blob, layer string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if blob != "" {
		c.blobs = append(c.blobs, blob)
	}
	if layer != "" {
		c.layers = append(c.layers, layer)
	}
}

// discard removes what a failed write created and no indexed image uses.
func (s *Store) discard(c *createdSet) {
	if len(c.blobs) == 0 && len(c.layers) == 0 {
		return
	}
	l, err := s.lock()
	if err != nil {
		return
	}
	defer l.Unlock()
	ix, err := s.load()
	if err != nil {
		return
	}
	s.sweep(ix, &Image{Blobs: c.blobs, Layers: c.layers})
}

// fetchLayers makes every layer of p present, in parallel.
func (s *Store) fetchLayers(ctx context.Context, p *plan, o writeOptions, created *createdSet) error {
	spreadLayers(s.path("layers"))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, l := range p.layers {
		g.Go(func() error {
			return s.fetchLayer(ctx, l, p.cfg.RootFS.DiffIDs[i], p.chains[i], o, created)
		})
	}
	return g.Wait()
}

// fetchLayer stores one layer's blob and unpacked tree, in one pass over the
// data: the download is teed into the blob file while it is decompressed and
// unpacked. Nothing becomes visible until both digests check out.
func (s *Store) fetchLayer(ctx context.Context, l v1.Layer, diffID v1.Hash, chain string, o writeOptions, created *createdSet) error {
	digest, err := l.Digest()
	if err != nil {
		return err
	}
	size, _ := l.Size()
	bar := o.progress.layer(digest.Hex, size)
	_, metaErr := s.layerMeta(chain)
	haveLayer, haveBlob := metaErr == nil, s.hasBlob(digest.String())
	if haveLayer && haveBlob {
		bar.exists()
		return nil
	}
	err = s.fillLayer(ctx, l, digest, diffID, chain, haveBlob, haveLayer, o, bar, created)
	if err != nil {
		bar.fail()
		return fmt.Errorf("layer %s: %w", shortHex(digest.String()), err)
	}
	bar.complete()
	return nil
}

func (s *Store) fillLayer(ctx context.Context, l v1.Layer, digest, diffID v1.Hash, chain string,
	haveBlob, haveLayer bool, o writeOptions, bar layerProgress, created *createdSet) error {
	var src io.ReadCloser
	var err error
	if haveBlob {
		src, err = s.openBlob(digest.String())
	} else {
		src, err = l.Compressed()
	}
	if err != nil {
		return err
	}
	defer src.Close()
	in := io.Reader(ctxReader{ctx, bar.reader(src)})
	var blob *blobWriter
	if !haveBlob {
		if blob, err = s.newBlob(digest); err != nil {
			return err
		}
		defer blob.abort() // no-op after commit: the temp file is gone
		in = io.TeeReader(in, blob)
	}
	var tmp string
	var unpacked int64
	if haveLayer {
		_, err = io.Copy(io.Discard, in)
	} else {
		tmp, unpacked, err = s.unpackLayer(in, diffID, o.unpack)
		if tmp != "" {
			defer os.RemoveAll(tmp)
		}
	}
	if err != nil {
		return err
	}
	if blob != nil {
		if err := blob.commit(); err != nil {
			return err
		}
		created.add(digest.String(), "")
	}
	if tmp == "" {
		return nil
	}
	compressed, _ := l.Size()
	meta := layerMeta{ChainID: chain, DiffID: diffID.String(), Digest: digest.String(),
		Size: unpacked, CompressedSize: compressed, Created: time.Now().UTC()}
	if err := store.WriteJSON(filepath.Join(tmp, "layer.json"), meta); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.layerDir(chain)); err != nil {
		if _, statErr := s.layerMeta(chain); statErr == nil {
			return nil // another pull unpacked it first
		}
		return err
	}
	created.add("", chain)
	return nil
}

// unpackLayer decompresses and unpacks a compressed layer stream into a new
// hidden directory, checking the uncompressed digest against diffID. It
// reads in to its end so a tee'd blob is complete.
func (s *Store) unpackLayer(in io.Reader, diffID v1.Hash, opts UnpackOptions) (string, int64, error) {
	tmp, err := os.MkdirTemp(s.path("layers"), ".tmp-"+diffID.Hex[:12]+"-")
	if err != nil {
		return "", 0, err
	}
	diff := filepath.Join(tmp, "diff")
	if err := os.Mkdir(diff, 0o755); err != nil {
		return tmp, 0, err
	}
	zr, err := layerReader(in)
	if err != nil {
		return tmp, 0, err
	}
	defer zr.Close()
	h := sha256.New()
	tr := io.TeeReader(zr, h)
	size, err := Unpack(tr, diff, opts)
	if err != nil {
		return tmp, 0, err
	}
	// The tar's trailing padding and the compressed stream's tail still
	// count for both digests.
	if _, err := io.Copy(io.Discard, tr); err != nil {
		return tmp, 0, err
	}
	if _, err := io.Copy(io.Discard, in); err != nil {
		return tmp, 0, err
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != diffID.String() {
		return tmp, 0, fmt.Errorf("diff id mismatch: got %s, want %s", got, diffID)
	}
	return tmp, size, nil
}

// ctxReader stops a copy when the context is cancelled (Ctrl-C).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
