package engine

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// copyN copies exactly n bytes (a file that shrank while copied would
// otherwise corrupt the tar stream).
func copyN(w io.Writer, r io.Reader, n int64) (int64, error) {
	c, err := io.CopyN(w, r, n)
	if err == io.EOF {
		err = fmt.Errorf("file changed size while copying")
	}
	return c, err
}

// extractArchive is ADD's unpacking of a local tar (plain, or compressed
// with gzip, bzip2, xz or zstd, as Docker's) into dest. It reports false,
// writing nothing, when the file is not one. Entry names are cleaned as
// absolute paths under dest, so none leaves it.
func extractArchive(tw *tar.Writer, file, dest string, layers []string, done map[string]bool) (bool, error) {
	f, err := os.Open(file)
	if err != nil {
		return false, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(512)
	r, closeFn, err := decompressor(head, br)
	if r == nil || err != nil {
		return false, nil // not an archive, or a header the codec refuses: copied as is
	}
	defer closeFn()
	tr := tar.NewReader(r)
	first := true
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			if first {
				return false, nil // compressed, but not a tar: copied as is
			}
			return true, fmt.Errorf("ADD %s: %w", filepath.Base(file), err)
		}
		if first {
			first = false
			if err := writeParents(tw, layers, path.Join(dest, "x"), done); err != nil {
				return true, err
			}
		}
		name := path.Join(dest, path.Join("/", hdr.Name))
		hdr.Name = strings.TrimPrefix(name, "/")
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = strings.TrimPrefix(path.Join(dest, path.Join("/", hdr.Linkname)), "/")
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return true, err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return true, err
		}
	}
}

// Magic numbers of the compressed tars ADD unpacks.
var (
	magicGzip  = []byte{0x1f, 0x8b}
	magicBzip2 = []byte("BZh")
	magicXz    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicZstd  = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// decompressor picks the reader for a file starting with head: a codec
// by its magic number, the file itself for a plain tar ("ustar" at 257),
// nil for anything else.
func decompressor(head []byte, br *bufio.Reader) (io.Reader, func(), error) {
	nop := func() {}
	switch {
	case bytes.HasPrefix(head, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nop, err
		}
		return zr, func() { zr.Close() }, nil
	case bytes.HasPrefix(head, magicBzip2):
		return bzip2.NewReader(br), nop, nil
	case bytes.HasPrefix(head, magicXz):
		xr, err := xz.NewReader(br)
		return xr, nop, err
	case bytes.HasPrefix(head, magicZstd):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, nop, err
		}
		return zr, zr.Close, nil
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return br, nop, nil
	}
	return nil, nop, nil
}
