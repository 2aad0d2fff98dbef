package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// blobPath is where the blob with digest "sha256:<hex>" lives.
func (s *Store) blobPath(digest string) string {
	return s.path("blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

func (s *Store) hasBlob(digest string) bool {
	_, err := os.Stat(s.blobPath(digest))
	return err == nil
}

// blobWriter receives a blob into a hidden temp file beside its final place;
// commit checks the digest and renames it in, so a killed pull never leaves
// a visible partial blob.
type blobWriter struct {
	s    *Store
	want v1.Hash
	f    *os.File
	h    hash.Hash
	n    int64
}

func (s *Store) newBlob(want v1.Hash) (*blobWriter, error) {
	f, err := os.CreateTemp(s.path("blobs", "sha256"), ".tmp-"+want.Hex+"-")
	if err != nil {
		return nil, err
	}
	return &blobWriter{s: s, want: want, f: f, h: sha256.New()}, nil
}

func (b *blobWriter) Write(p []byte) (int, error) {
	n, err := b.f.Write(p)
	b.h.Write(p[:n])
	b.n += int64(n)
	return n, err
}

// commit verifies and publishes the blob.
func (b *blobWriter) commit() error {
	got := "sha256:" + hex.EncodeToString(b.h.Sum(nil))
	if got != b.want.String() {
		b.abort()
		return fmt.Errorf("digest mismatch for blob %s: got %s", b.want, got)
	}
	if err := b.f.Sync(); err != nil {
		b.abort()
		return err
	}
	if err := b.f.Close(); err != nil {
		os.Remove(b.f.Name())
		return err
	}
	if err := os.Rename(b.f.Name(), b.s.blobPath(b.want.String())); err != nil {
		os.Remove(b.f.Name())
		return err
	}
	return nil
}

func (b *blobWriter) abort() {
	b.f.Close()
	os.Remove(b.f.Name())
}

// putBlob stores small content (manifests, configs) whose digest is known.
func (s *Store) putBlob(want v1.Hash, data []byte) error {
	if s.hasBlob(want.String()) {
		return nil
	}
	b, err := s.newBlob(want)
	if err != nil {
		return err
	}
	if _, err := b.Write(data); err != nil {
		b.abort()
		return err
	}
	return b.commit()
}

// openBlob opens a stored blob for reading.
func (s *Store) openBlob(digest string) (io.ReadCloser, error) {
	return os.Open(s.blobPath(digest))
}

func sha256Hash(data []byte) v1.Hash {
	sum := sha256.Sum256(data)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}
