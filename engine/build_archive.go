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

// extractArchive is ADD's unpacking of a local tar (plain, gzip or bzip2)
// into dest. It reports false, writing nothing, when the file is not one.
// Entry names are cleaned as absolute paths under dest, so none leaves it.
func extractArchive(tw *tar.Writer, file, dest string, layers []string, done map[string]bool) (bool, error) {
	f, err := os.Open(file)
	if err != nil {
		return false, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(512)
	var r io.Reader = br
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return false, nil
		}
		defer zr.Close()
		r = zr
	case bytes.HasPrefix(head, []byte("BZh")):
		r = bzip2.NewReader(br)
	case len(head) >= 262 && string(head[257:262]) == "ustar":
	default:
		return false, nil
	}
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
