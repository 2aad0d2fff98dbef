package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// opener opens a blob for reading; it may be called more than once.
type opener func() (io.ReadCloser, error)

// blobLayer is a v1.Layer read from an archive or an import: its gzip blob is
// either the archive's own bytes (already gzip) or a temp file written while
// the layer was checked. Digest and DiffID are computed from the real bytes,
// never trusted from a manifest.
type blobLayer struct {
	blob   opener
	digest v1.Hash
	diffID v1.Hash
	size   int64
	mt     types.MediaType
	// original: the blob is the source's own bytes (it was gzip already),
	// so its digest is the one the source's manifest names.
	original bool
}

var _ v1.Layer = (*blobLayer)(nil)

func (l *blobLayer) Digest() (v1.Hash, error)             { return l.digest, nil }
func (l *blobLayer) DiffID() (v1.Hash, error)             { return l.diffID, nil }
func (l *blobLayer) Size() (int64, error)                 { return l.size, nil }
func (l *blobLayer) MediaType() (types.MediaType, error)  { return l.mt, nil }
func (l *blobLayer) Compressed() (io.ReadCloser, error)   { return l.blob() }
func (l *blobLayer) Uncompressed() (io.ReadCloser, error) { return gunzipOpener(l.blob)() }

// gunzipOpener opens the decompressed stream of a gzip blob.
func gunzipOpener(open opener) opener {
	return func() (io.ReadCloser, error) {
		rc, err := open()
		if err != nil {
			return nil, err
		}
		zr, err := gzip.NewReader(bufio.NewReaderSize(rc, 1<<16))
		if err != nil {
			rc.Close()
			return nil, err
		}
		return readCloser{zr, func() error { zr.Close(); return rc.Close() }}, nil
	}
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// compression is what a stream's magic bytes say it is.
type compression int

const (
	plain compression = iota
	gzipped
	zstded
	bzipped
)

// sniff peeks at br's first bytes.
func sniff(br *bufio.Reader) compression {
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return gzipped
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return zstded
	case bytes.HasPrefix(head, []byte("BZh")):
		return bzipped
	}
	return plain
}

// decompress returns the plain stream of br (Docker's load and import take
// gzip, bzip2 and zstd as well as plain tar). The close func releases the
// decoder.
func decompress(br *bufio.Reader) (io.Reader, func(), error) {
	switch sniff(br) {
	case gzipped:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("corrupt gzip: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case zstded:
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("corrupt zstd: %w", err)
		}
		return zr, zr.Close, nil
	case bzipped:
		return bzip2.NewReader(br), func() {}, nil
	}
	return br, func() {}, nil
}

// checkTar reads r to its end as a tar stream: every header parses and every
// entry is complete. Trailing bytes after the end-of-archive blocks are read
// too, so a hash fed from r covers the whole stream.
func checkTar(r io.Reader) error {
	tr := tar.NewReader(r)
	for entries := 0; ; entries++ {
		_, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil && entries == 0 {
			return errNotTar
		}
		if err != nil {
			return notTar(err)
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return notTar(err)
		}
	}
	_, err := io.Copy(io.Discard, r)
	return err
}

var errNotTar = errors.New("not a tar archive")

func notTar(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("truncated tar archive")
	}
	if errors.Is(err, tar.ErrHeader) {
		return fmt.Errorf("%w (invalid tar header)", errNotTar)
	}
	return err
}

// newLayer checks the layer tar that open yields (plain, gzip or zstd) and
// returns it as a gzip layer. A gzip blob is kept as it is; anything else is
// compressed once into a file in tmpDir. wantDiffID, when not zero, must
// match the uncompressed content.
func newLayer(ctx context.Context, open opener, tmpDir string, wantDiffID v1.Hash) (*blobLayer, error) {
	rc, err := open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(cancelReader{ctx, rc}, 1<<20)
	var l *blobLayer
	switch {
	case sniff(br) == gzipped && wantDiffID != (v1.Hash{}):
		// Store.Write checks the content against the diff id while it
		// unpacks (and undoes everything on a mismatch), so a second
		// decompression here would buy nothing.
		l, err = hashGzipLayer(br, open, wantDiffID)
	case sniff(br) == gzipped:
		l, err = checkGzipLayer(br, open)
	default:
		l, err = compressLayer(br, tmpDir)
	}
	if err != nil {
		return nil, err
	}
	if wantDiffID != (v1.Hash{}) && l.diffID != wantDiffID {
		return nil, fmt.Errorf("layer content %s does not match the config's diff id %s", l.diffID, wantDiffID)
	}
	return l, nil
}

func hashGzipLayer(r io.Reader, open opener, diffID v1.Hash) (*blobLayer, error) {
	digest := sha256.New()
	n, err := io.Copy(digest, r)
	if err != nil {
		return nil, err
	}
	return &blobLayer{blob: open, digest: sum(digest), diffID: diffID, size: n,
		mt: types.DockerLayer, original: true}, nil
}

func checkGzipLayer(br *bufio.Reader, open opener) (*blobLayer, error) {
	digest := sha256.New()
	counted := &countingReader{r: io.TeeReader(br, digest)}
	zr, err := gzip.NewReader(counted)
	if err != nil {
		return nil, fmt.Errorf("corrupt gzip: %w", err)
	}
	defer zr.Close()
	diffID := sha256.New()
	if err := checkTar(io.TeeReader(zr, diffID)); err != nil {
		return nil, err
	}
	// Bytes after the gzip stream's end still belong to the blob.
	if _, err := io.Copy(io.Discard, counted); err != nil {
		return nil, err
	}
	return &blobLayer{blob: open, digest: sum(digest), diffID: sum(diffID), size: counted.n,
		mt: types.DockerLayer, original: true}, nil
}

func compressLayer(br *bufio.Reader, tmpDir string) (*blobLayer, error) {
	plainR, done, err := decompress(br)
	if err != nil {
		return nil, err
	}
	defer done()
	f, err := os.CreateTemp(tmpDir, "layer-*.tar.gz")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	digest := sha256.New()
	counted := &countingWriter{w: io.MultiWriter(f, digest)}
	bw := bufio.NewWriterSize(counted, 1<<20)
	zw, err := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	diffID := sha256.New()
	if err := checkTar(io.TeeReader(plainR, io.MultiWriter(zw, diffID))); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	path := f.Name()
	return &blobLayer{blob: fileOpener(path), digest: sum(digest), diffID: sum(diffID),
		size: counted.n, mt: types.DockerLayer}, nil
}

func fileOpener(path string) opener {
	return func() (io.ReadCloser, error) { return os.Open(path) }
}

func sum(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

// cancelReader ends a long read when ctx is cancelled (Ctrl-C).
type cancelReader struct {
	ctx context.Context
	r   io.Reader
}

func (c cancelReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
