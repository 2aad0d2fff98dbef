package container

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestExtractStaysInRoot feeds Extract hostile archives: every write must
// land inside root, whatever the names and symlinks say.
func TestExtractStaysInRoot(t *testing.T) {
	type entry struct {
		name, link string
		typ        byte
	}
	for _, tc := range []struct {
		name    string
		entries []entry
		inside  string // a file that must exist below root afterwards
	}{
		{"dotdot", []entry{{name: "../../escape", typ: tar.TypeReg}}, "escape"},
		{"absolute", []entry{{name: "/escape", typ: tar.TypeReg}}, "escape"},
		{"through symlink", []entry{{name: "l", link: "/out", typ: tar.TypeSymlink}, {name: "l/escape", typ: tar.TypeReg}}, "out/escape"},
		{"relative symlink", []entry{{name: "l", link: "../../..", typ: tar.TypeSymlink}, {name: "l/escape", typ: tar.TypeReg}}, "escape"},
		{"hardlink out", []entry{{name: "h", link: "../../../etc/hostname", typ: tar.TypeLink}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			root := filepath.Join(base, "root")
			os.MkdirAll(filepath.Join(root, "out"), 0o755)
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, e := range tc.entries {
				h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644}
				if e.typ == tar.TypeReg {
					h.Size = 1
				}
				tw.WriteHeader(h)
				if e.typ == tar.TypeReg {
					tw.Write([]byte("x"))
				}
			}
			tw.Close()
			Extract(&buf, root, "/", ExtractOptions{})
			if _, err := os.Lstat(filepath.Join(base, "escape")); err == nil {
				t.Fatalf("wrote outside root")
			}
			host, _ := os.Stat("/etc/hostname")
			filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
				if err == nil && host != nil && os.SameFile(fi, host) {
					t.Errorf("%s is the host's /etc/hostname", p)
				}
				return nil
			})
			if tc.inside != "" {
				if _, err := os.Stat(filepath.Join(root, tc.inside)); err != nil {
					t.Errorf("want %s inside root: %v", tc.inside, err)
				}
			}
		})
	}
}

func TestArchiveRoundTrip(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "d", "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "d", "sub", "f"), []byte("data"), 0o600)
	os.Symlink("/etc/passwd", filepath.Join(src, "d", "link"))
	for _, tc := range []struct{ name, want string }{
		{"d", "d/sub/f"},
		{"renamed", "renamed/sub/f"},
		{".", "sub/f"},
	} {
		var buf bytes.Buffer
		if err := Archive(&buf, filepath.Join(src, "d"), tc.name); err != nil {
			t.Fatal(err)
		}
		dst := t.TempDir()
		if err := Extract(&buf, dst, "/", ExtractOptions{}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dst, tc.want))
		if err != nil || string(b) != "data" {
			t.Errorf("%s: %q, %v", tc.name, b, err)
		}
		if l, _ := os.Readlink(filepath.Join(dst, filepath.Dir(filepath.Dir(tc.want)), "link")); l != "/etc/passwd" {
			t.Errorf("%s: symlink reads %q", tc.name, l)
		}
	}
}
