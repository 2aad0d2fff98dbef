package e2e

// Building layer tarballs entry by entry, deterministically (fixed times and
// owners), so fixture digests are stable between runs.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// fixtureTime is every fixture's creation time and file mtime.
var fixtureTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// entry is one tar header (and body). Zero mode means 0644 for files and
// 0755 for directories.
type entry struct {
	name     string
	typ      byte
	mode     int64
	uid, gid int
	body     []byte
	link     string
}

func file(name, body string) entry { return entry{name: name, typ: tar.TypeReg, body: []byte(body)} }
func dir(name string) entry        { return entry{name: name, typ: tar.TypeDir} }
func symlink(name, target string) entry {
	return entry{name: name, typ: tar.TypeSymlink, mode: 0o777, link: target}
}
func hardlink(name, target string) entry { return entry{name: name, typ: tar.TypeLink, link: target} }

func (e entry) owned(uid, gid int) entry { e.uid, e.gid = uid, gid; return e }
func (e entry) perm(m int64) entry       { e.mode = m; return e }

// tarOf writes entries, in order, as an uncompressed tar.
func tarOf(entries ...entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			Linkname: e.link, ModTime: fixtureTime, Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.body); err != nil {
				panic(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// gz compresses b with a zero mtime in the header.
func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// layerOf makes a gzip layer of media type mt from an uncompressed tar.
func layerOf(mt types.MediaType, rawTar []byte) v1.Layer {
	compressed := gz(rawTar)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(compressed)), nil
	}, tarball.WithMediaType(mt))
	if err != nil {
		panic(err)
	}
	return l
}

func dockerLayer(entries ...entry) v1.Layer { return layerOf(types.DockerLayer, tarOf(entries...)) }
