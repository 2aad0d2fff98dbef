package image

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// tarIndex gives random access to the files of an image archive (docker-archive
// or OCI layout in a tar) without unpacking it: one pass records where each
// file's bytes lie in a seekable file, which is the archive itself when it is
// a plain tar on disk, or a spooled copy of its decompressed stream.
type tarIndex struct {
	f     *os.File
	files map[string]section
	links map[string]string // symlinks and hard links, resolved on lookup
}

type section struct{ off, size int64 }

// indexArchive reads the archive in r to its end. A plain tar that is already
// a regular file is indexed in place; anything else (stdin, gzip, zstd) is
// spooled into tmpDir while it is read.
func indexArchive(ctx context.Context, r io.Reader, tmpDir string) (*tarIndex, error) {
	br := bufio.NewReaderSize(cancelReader{ctx, r}, 1<<20)
	if _, err := br.Peek(1); err == io.EOF {
		return nil, errors.New("empty input: no image archive")
	}
	if f, ok := r.(*os.File); ok && sniff(br) == plain {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			if off, err := f.Seek(0, io.SeekCurrent); err == nil && off == 0 {
				return scanTar(br, f)
			}
		}
	}
	plainR, done, err := decompress(br)
	if err != nil {
		return nil, err
	}
	defer done()
	spool, err := os.CreateTemp(tmpDir, "archive-*.tar")
	if err != nil {
		return nil, err
	}
	os.Remove(spool.Name()) // the open handle keeps it while we need it
	bw := bufio.NewWriterSize(spool, 1<<20)
	ix, err := scanTar(&flushingTee{r: plainR, w: bw}, spool)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		spool.Close()
		return nil, err
	}
	return ix, nil
}

// flushingTee copies what is read from r into w, like io.TeeReader, with a
// write error reported as the read's.
type flushingTee struct {
	r io.Reader
	w *bufio.Writer
}

func (t *flushingTee) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		if _, werr := t.w.Write(p[:n]); werr != nil {
			return n, werr
		}
	}
	return n, err
}

// scanTar walks the tar stream r, whose bytes are also those of f from offset
// 0, and records each regular file's data section. Every entry is read to its
// end, so a truncated archive fails here, before anything is stored.
func scanTar(r io.Reader, f *os.File) (*tarIndex, error) {
	cr := &countingReader{r: r}
	tr := tar.NewReader(cr)
	ix := &tarIndex{f: f, files: map[string]section{}, links: map[string]string{}}
	entries := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil && entries == 0 {
			return nil, errNotTar
		}
		if err != nil {
			return nil, notTar(err)
		}
		entries++
		name := cleanEntry(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeReg:
			ix.files[name] = section{off: cr.n, size: hdr.Size}
		case tar.TypeSymlink:
			ix.links[name] = path.Join(path.Dir(name), hdr.Linkname)
		case tar.TypeLink:
			ix.links[name] = cleanEntry(hdr.Linkname)
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return nil, notTar(err)
		}
	}
	if entries == 0 {
		return nil, errors.New("not an image archive: empty tar")
	}
	// Bytes after the end-of-archive blocks (padding) are fine; reading them
	// keeps a spooled copy complete.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return nil, err
	}
	return ix, nil
}

func cleanEntry(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// open returns a reader of the named file's bytes, following links inside
// the archive (Docker's legacy format links repeated layers).
func (ix *tarIndex) open(name string) (io.ReadCloser, error) {
	name = cleanEntry(name)
	for hops := 0; hops < 16; hops++ {
		if s, ok := ix.files[name]; ok {
			return io.NopCloser(io.NewSectionReader(ix.f, s.off, s.size)), nil
		}
		target, ok := ix.links[name]
		if !ok {
			break
		}
		name = cleanEntry(target)
	}
	return nil, fmt.Errorf("%s: %w in the archive", name, fs.ErrNotExist)
}

func (ix *tarIndex) has(name string) bool {
	rc, err := ix.open(name)
	if err == nil {
		rc.Close()
	}
	return err == nil
}

func (ix *tarIndex) readFile(name string) ([]byte, error) {
	rc, err := ix.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func (ix *tarIndex) opener(name string) opener {
	return func() (io.ReadCloser, error) { return ix.open(name) }
}

// Close releases the archive (and so a spooled copy).
func (ix *tarIndex) Close() error { return ix.f.Close() }
