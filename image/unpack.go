package image

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/skiff-dev/skiff/store"
)

// UnpackOptions says how a layer's owners and device nodes land on disk.
type UnpackOptions struct {
	Rootless          bool                          // skip device nodes (except overlay whiteouts), tolerate chown errors, user.overlay.* xattrs
	IDMap             func(uid, gid int) (int, int) // host ids to chown to (nil: as in the tar)
	IgnoreChownErrors bool
}

// copyBufSize is the chunk size of file copies: large enough that a layer's
// big files are written in few syscalls, pooled so concurrent unpacks share.
const copyBufSize = 1 << 20

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// Unpack extracts the uncompressed layer tar r into dir (created if missing)
// and returns the bytes of regular files written. Every path is resolved
// inside dir, so no entry, symlink or hardlink can create or change anything
// outside it; entries that try to climb out (../) are refused with
// store.ErrInvalid. OCI whiteouts become overlayfs whiteouts. r is read to its
// end, tar padding included, so a digest computed over it is complete.
func Unpack(r io.Reader, dir string, opts UnpackOptions) (int64, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return 0, fmt.Errorf("unpack: %w", err)
	}
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)

	x := newExtractor(root, opts, *bufp)
	// Headers are read 512 bytes at a time: buffer them. File data is read
	// in copyBufSize chunks, which bufio passes straight through.
	r = bufio.NewReaderSize(r, 64<<10)
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return x.size, fmt.Errorf("unpack: reading layer: %w", err)
		}
		if err := x.entry(tr, hdr); err != nil {
			return x.size, fmt.Errorf("unpack %q: %w", hdr.Name, err)
		}
	}
	if err := x.finishDirs(); err != nil {
		return x.size, fmt.Errorf("unpack: %w", err)
	}
	if _, err := io.CopyBuffer(io.Discard, r, x.buf); err != nil {
		return x.size, fmt.Errorf("unpack: reading layer: %w", err)
	}
	return x.size, nil
}

// extractor holds one Unpack's state.
type extractor struct {
	root string
	opts UnpackOptions
	buf  []byte
	size int64

	// parents caches resolved parent directories (relative path -> real
	// directory inside root). Entries are only ever real directories, and the
	// cache is dropped whenever something is removed, so a cached path never
	// runs through a symlink planted later.
	parents map[string]string
	// dirs holds directories' headers: their modes and times are applied
	// after all entries, so that writing their contents neither fails on a
	// read-only mode nor bumps the mtime.
	dirs map[string]*tar.Header
	// xattrWhiteouts is set once mknod(0/0) was refused: whiteouts are then
	// zero-size files with the overlay.whiteout xattr.
	xattrWhiteouts bool
}

func newExtractor(root string, opts UnpackOptions, buf []byte) *extractor {
	return &extractor{
		root:    filepath.Clean(root),
		opts:    opts,
		buf:     buf,
		parents: map[string]string{"": filepath.Clean(root)},
		dirs:    map[string]*tar.Header{},
	}
}

// entry places one tar entry.
func (x *extractor) entry(tr *tar.Reader, hdr *tar.Header) error {
	rel, err := cleanRel(hdr.Name)
	if err != nil {
		return err
	}
	if rel == "" {
		return x.rootEntry(hdr)
	}
	dirRel, base := splitRel(rel)
	if isWhiteout(base) {
		return x.whiteout(dirRel, base)
	}
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader:
		return nil
	case tar.TypeDir, tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont,
		tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return store.Invalid("unsupported tar entry type %q", hdr.Typeflag)
	}
	if x.opts.Rootless && (hdr.Typeflag == tar.TypeChar || hdr.Typeflag == tar.TypeBlock) {
		return nil // an unprivileged user cannot make device nodes
	}
	parent, err := x.parent(dirRel)
	if err != nil {
		return err
	}
	p := filepath.Join(parent, base)
	switch hdr.Typeflag {
	case tar.TypeDir:
		return x.dir(p, hdr)
	case tar.TypeSymlink:
		return x.symlink(p, hdr)
	case tar.TypeLink:
		return x.hardlink(p, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return x.special(p, hdr)
	default:
		return x.file(tr, p, hdr)
	}
}

// rootEntry applies a "./" entry's metadata to dir itself.
func (x *extractor) rootEntry(hdr *tar.Header) error {
	if hdr.Typeflag != tar.TypeDir {
		return store.Invalid("layer root entry is not a directory")
	}
	return x.dirMeta(x.root, hdr)
}
