package engine

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// tarOf is a tar holding dir/ and dir/f ("hello").
func tarOf(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "dir/f", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5})
	tw.Write([]byte("hello"))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func compressWith(t *testing.T, data []byte, newW func(io.Writer) (io.WriteCloser, error)) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newW(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestExtractArchiveFormats: ADD unpacks plain, gzip, bzip2, xz and zstd
// tars under the destination, and copies other files (a compressed file
// that is no tar included) as they are.
func TestExtractArchiveFormats(t *testing.T) {
	plain := tarOf(t)
	cases := map[string][]byte{
		"plain": plain,
		"gzip":  compressWith(t, plain, func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriter(w), nil }),
		"xz":    compressWith(t, plain, func(w io.Writer) (io.WriteCloser, error) { return xz.NewWriter(w) }),
		"zstd":  compressWith(t, plain, func(w io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(w) }),
	}
	bz := exec.Command("bzip2", "-c") // Go has no bzip2 writer
	bz.Stdin = bytes.NewReader(plain)
	if out, err := bz.Output(); err == nil {
		cases["bzip2"] = out
	}
	dir := t.TempDir()
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, name)
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}
			names, ok := extracted(t, file)
			if !ok || strings.Join(names, ",") != "dest/,dest/dir/,dest/dir/f" {
				t.Errorf("extract %s: %v %v, want dest/, dest/dir/, dest/dir/f", name, ok, names)
			}
		})
	}
	notTar := filepath.Join(dir, "text.xz")
	os.WriteFile(notTar, compressWith(t, []byte("just text"), func(w io.Writer) (io.WriteCloser, error) { return xz.NewWriter(w) }), 0o644)
	if names, ok := extracted(t, notTar); ok || len(names) > 0 {
		t.Errorf("an xz file that is no tar was unpacked: %v", names)
	}
}

// extracted runs extractArchive into /dest of an empty image.
func extracted(t *testing.T, file string) ([]string, bool) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	ok, err := extractArchive(tw, file, "/dest", nil, map[string]bool{})
	if err != nil {
		t.Fatal(err)
	}
	tw.Close()
	var names []string
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, hdr.Name)
	}
	return names, ok
}
