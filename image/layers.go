package image

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/store"
)

// layerMeta is layers/<chainid-hex>/layer.json.
type layerMeta struct {
	ChainID        string    `json:"ChainID"`
	DiffID         string    `json:"DiffID"`
	Digest         string    `json:"Digest"` // compressed blob as pulled
	Size           int64     `json:"Size"`   // unpacked bytes
	CompressedSize int64     `json:"CompressedSize"`
	Created        time.Time `json:"Created"`
}

func (s *Store) layerDir(chainID string) string {
	return s.path("layers", strings.TrimPrefix(chainID, "sha256:"))
}

// layerDiff is the unpacked file tree of a layer: an overlay lowerdir.
func (s *Store) layerDiff(chainID string) string {
	return filepath.Join(s.layerDir(chainID), "diff")
}

func (s *Store) layerMeta(chainID string) (*layerMeta, error) {
	var m layerMeta
	if err := store.ReadJSON(filepath.Join(s.layerDir(chainID), "layer.json"), &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// chainIDs computes the OCI chain ids of a diff id stack.
func chainIDs(diffIDs []v1.Hash) []string {
	out := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d.String()
			continue
		}
		sum := sha256.Sum256([]byte(out[i-1] + " " + d.String()))
		out[i] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return out
}

// removeLayer renames the layer out of sight first, so no reader ever finds
// a half-removed tree under its chain id.
func (s *Store) removeLayer(chainID string) {
	dir := s.layerDir(chainID)
	tmp, err := os.MkdirTemp(s.path("layers"), ".del-")
	if err != nil {
		return
	}
	if os.Rename(dir, filepath.Join(tmp, "l")) != nil {
		os.RemoveAll(tmp)
		return
	}
	os.RemoveAll(tmp)
}

// fsTopdirFl is FS_TOPDIR_FL from linux/fs.h (chattr +T), which x/sys/unix
// does not define.
const fsTopdirFl = 0x00020000

// spreadLayers marks the layer directory as the top of independent trees
// (chattr +T), which each layer is. ext4's Orlov allocator then puts each
// new layer directory, and so the files unpacked into it, in a block group
// of its own rather than in the store's. That matters on ext4 without a
// journal: it will not reuse an inode freed in the last minute or so and
// skips such inodes one at a time on every create (recently_deleted() in
// find_inode_bit), so unpacking beside a just-removed store or container
// cost 2-4 s of system time per 230 MB pull; spread out, 0.5 s. Best
// effort: other filesystems refuse or ignore the flag, and nothing depends
// on it.
func spreadLayers(dir string) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetInt(fd, unix.FS_IOC_GETFLAGS)
	if err != nil || flags&fsTopdirFl != 0 {
		return
	}
	_ = unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, flags|fsTopdirFl)
}

// LayerPaths returns the unpacked layer directories of img, base first.
func (s *Store) LayerPaths(img *Image) ([]string, error) {
	out := make([]string, len(img.Layers))
	for i, l := range img.Layers {
		out[i] = s.layerDiff(l)
		if _, err := os.Stat(out[i]); err != nil {
			return nil, fmt.Errorf("image %s: layer %s missing from the store", shortHex(img.ID), shortHex(l))
		}
	}
	return out, nil
}

// layerReader returns the uncompressed stream of a layer blob, recognising
// gzip and zstd by their magic numbers (an uncompressed tar passes through).
func layerReader(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("corrupt gzip: %w", err)
		}
		return zr, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}

func shortHex(d string) string {
	h := strings.TrimPrefix(d, "sha256:")
	if len(h) > 12 {
		h = h[:12]
	}
	return h
}

// LayerSizes returns the unpacked size of each of img's layers, base first
// (0 for a layer whose metadata cannot be read).
func (s *Store) LayerSizes(img *Image) []int64 {
	out := make([]int64, len(img.Layers))
	for i, l := range img.Layers {
		if m, err := s.layerMeta(l); err == nil {
			out[i] = m.Size
		}
	}
	return out
}

// CleanTemp removes leftovers of killed pulls (hidden temp blobs and layer
// directories) older than age; younger ones may belong to a running pull
// (age 0 is for a caller that knows no write is running).
func (s *Store) CleanTemp(age time.Duration) {
	sweepTransfers(s.st.Path("tmp"))
	for _, dir := range []string{s.path("blobs", "sha256"), s.path("layers")} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), ".tmp-") && !strings.HasPrefix(e.Name(), ".del-") {
				continue
			}
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) >= age {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}
}
