package image

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// capNetBindService is a vfs_cap_data v2 value: effective, cap_net_bind_service.
const capNetBindService = "\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

func unpackEnts(t *testing.T, opts UnpackOptions, ents ...upEnt) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := Unpack(bytes.NewReader(upTar(t, ents...)), dir, opts); err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	return dir
}

// TestUnpackMetadata checks that owners, modes (setuid, setgid, sticky
// included), nanosecond mtimes (directories' after their contents, symlinks'
// own) and xattrs land as the tar says.
func TestUnpackMetadata(t *testing.T) {
	old := time.Date(2001, 2, 3, 4, 5, 6, 987654321, time.UTC)
	ents := []upEnt{
		{name: "bin/", typ: tar.TypeDir, mode: 0o555, uid: 11, gid: 12, mtime: old},
		{name: "bin/su", typ: tar.TypeReg, mode: 0o4755, uid: 0, gid: 0, body: "#!", mtime: old},
		{name: "bin/wall", typ: tar.TypeReg, mode: 0o2711, uid: 3, gid: 5, body: "w", mtime: old,
			xattrs: map[string]string{"security.capability": capNetBindService}}, // survives the chown
		{name: "tmp/", typ: tar.TypeDir, mode: 0o1777, mtime: old},
		{name: "srv/", typ: tar.TypeDir, mode: 0o2750, uid: 33, gid: 34, mtime: old},
		{name: "srv/data", typ: tar.TypeReg, mode: 0o600, uid: 33, gid: 34, body: "data",
			xattrs: map[string]string{"user.origin": "layer", "trusted.skiff": "t"}},
		{name: "srv/link", typ: tar.TypeSymlink, link: "data", uid: 33, gid: 34, mtime: old},
		{name: "srv/fifo", typ: tar.TypeFifo, mode: 0o640, uid: 7, gid: 8, mtime: old},
		{name: "dev/null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 3, mtime: old},
		{name: "dev/loop0", typ: tar.TypeBlock, mode: 0o660, major: 7, minor: 0, gid: 6},
	}
	dir := unpackEnts(t, UnpackOptions{}, ents...)
	for _, e := range ents {
		t.Run(e.name, func(t *testing.T) {
			st := upLstat(t, filepath.Join(dir, e.name))
			mtime := e.mtime
			if mtime.IsZero() {
				mtime = upTime
			}
			if got := time.Unix(st.Mtim.Sec, st.Mtim.Nsec); !got.Equal(mtime) {
				t.Errorf("mtime %v, want %v", got, mtime)
			}
			if int(st.Uid) != e.uid || int(st.Gid) != e.gid {
				t.Errorf("owner %d:%d, want %d:%d", st.Uid, st.Gid, e.uid, e.gid)
			}
			if e.typ != tar.TypeSymlink && int64(st.Mode&0o7777) != e.mode {
				t.Errorf("mode %o, want %o", st.Mode&0o7777, e.mode)
			}
			if e.typ == tar.TypeChar || e.typ == tar.TypeBlock {
				if unix.Major(st.Rdev) != uint32(e.major) || unix.Minor(st.Rdev) != uint32(e.minor) {
					t.Errorf("device %d:%d, want %d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev), e.major, e.minor)
				}
			}
			for k, v := range e.xattrs {
				if got := upXattr(filepath.Join(dir, e.name), k); got != v {
					t.Errorf("xattr %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestUnpackOptions checks IDMap, rootless device skipping, and the size.
func TestUnpackOptions(t *testing.T) {
	ents := []upEnt{
		{name: "f", typ: tar.TypeReg, uid: 1, gid: 2, body: "12345", mode: 0o644},
		{name: "g", typ: tar.TypeReg, body: "678", mode: 0o644},
		{name: "null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 3},
		{name: "fifo", typ: tar.TypeFifo, mode: 0o600},
		upLink("h", "f"),
	}
	idmap := func(uid, gid int) (int, int) { return uid + 100000, gid + 200000 }
	dir := t.TempDir()
	n, err := Unpack(bytes.NewReader(upTar(t, ents...)), dir, UnpackOptions{Rootless: true, IDMap: idmap})
	if err != nil {
		t.Fatal(err)
	}
	if n != 8 {
		t.Errorf("size %d, want 8 (hardlinks and specials count nothing)", n)
	}
	if st := upLstat(t, filepath.Join(dir, "f")); st.Uid != 100001 || st.Gid != 200002 {
		t.Errorf("f owned by %d:%d, want the mapped 100001:200002", st.Uid, st.Gid)
	}
	if _, err := os.Lstat(filepath.Join(dir, "null")); !os.IsNotExist(err) {
		t.Errorf("rootless unpack made a device node (%v)", err)
	}
	if st := upLstat(t, filepath.Join(dir, "fifo")); st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("fifo has mode %o", st.Mode)
	}
}

// TestUnpackDuplicates checks that a later entry wins and a directory over a
// directory merges.
func TestUnpackDuplicates(t *testing.T) {
	cases := []struct {
		name  string
		ents  []upEnt
		check func(t *testing.T, dir string)
	}{
		{"file over file", []upEnt{upFile("f", "old"), upFile("f", "new")}, func(t *testing.T, dir string) {
			wantContent(t, filepath.Join(dir, "f"), "new")
		}},
		{"directory over directory merges", []upEnt{upDir("d/"), upFile("d/a", "a"), upDir("d/"), upFile("d/b", "b")},
			func(t *testing.T, dir string) {
				wantContent(t, filepath.Join(dir, "d/a"), "a")
				wantContent(t, filepath.Join(dir, "d/b"), "b")
			}},
		{"file over directory", []upEnt{upDir("d/"), upFile("d/a", "a"), upFile("d", "file")}, func(t *testing.T, dir string) {
			wantContent(t, filepath.Join(dir, "d"), "file")
		}},
		{"directory over file", []upEnt{upFile("d", "file"), upDir("d/"), upFile("d/a", "a")}, func(t *testing.T, dir string) {
			wantContent(t, filepath.Join(dir, "d/a"), "a")
		}},
		{"directory over symlink to directory", []upEnt{upDir("real/"), upFile("real/x", "x"), upSymlink("d", "real"), upDir("d/")},
			func(t *testing.T, dir string) {
				if st := upLstat(t, filepath.Join(dir, "d")); st.Mode&unix.S_IFMT != unix.S_IFDIR {
					t.Errorf("d has mode %o, want a real directory", st.Mode)
				}
				wantContent(t, filepath.Join(dir, "real/x"), "x")
			}},
		{"replacing a hardlinked file leaves the other name", []upEnt{upFile("a", "old"), upLink("b", "a"), upFile("a", "new")},
			func(t *testing.T, dir string) {
				wantContent(t, filepath.Join(dir, "a"), "new")
				wantContent(t, filepath.Join(dir, "b"), "old")
			}},
		{"hardlinks share an inode", []upEnt{upFile("a", "x"), upLink("b", "a"), upLink("./c/../c", "/a"), upDir("c/")},
			func(t *testing.T, dir string) {
				a, b, c := upLstat(t, filepath.Join(dir, "a")), upLstat(t, filepath.Join(dir, "b")), upLstat(t, filepath.Join(dir, "c"))
				if a.Ino != b.Ino || a.Nlink != 2 {
					t.Errorf("a (ino %d, nlink %d) and b (ino %d) are not one inode", a.Ino, a.Nlink, b.Ino)
				}
				if c.Mode&unix.S_IFMT != unix.S_IFDIR {
					t.Errorf("c mode %o, want the later directory", c.Mode)
				}
			}},
		{"implicit parents", []upEnt{upFile("a/b/c/f", "f")}, func(t *testing.T, dir string) {
			wantContent(t, filepath.Join(dir, "a/b/c/f"), "f")
		}},
		{"root entry", []upEnt{{name: "./", typ: tar.TypeDir, mode: 0o700}, upFile("./f", "f")}, func(t *testing.T, dir string) {
			if st := upLstat(t, dir); st.Mode&0o7777 != 0o700 {
				t.Errorf("root mode %o, want 700", st.Mode&0o7777)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, unpackEnts(t, UnpackOptions{}, tc.ents...))
		})
	}
}

func wantContent(t *testing.T, p, want string) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil || string(got) != want {
		t.Errorf("%s = %q (%v), want %q", filepath.Base(p), got, err, want)
	}
}

// TestUnpackErrors checks that malformed layers fail instead of half-working.
func TestUnpackErrors(t *testing.T) {
	cases := []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"hardlink to a missing file", func(t *testing.T) []byte { return upTar(t, upLink("b", "a")) }},
		{"hardlink to a directory", func(t *testing.T) []byte { return upTar(t, upDir("d/"), upLink("b", "d")) }},
		{"file under a file", func(t *testing.T) []byte { return upTar(t, upFile("f", "x"), upFile("f/g", "y")) }},
		{"root is a symlink", func(t *testing.T) []byte { return upTar(t, upSymlink("./", "/")) }},
		{"truncated", func(t *testing.T) []byte { b := upTar(t, upFile("f", "0123456789")); return b[:515] }},
		{"unknown type", func(t *testing.T) []byte { return upTar(t, upEnt{name: "x", typ: 'Z'}) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Unpack(bytes.NewReader(tc.data(t)), t.TempDir(), UnpackOptions{}); err == nil {
				t.Error("Unpack succeeded, want an error")
			}
		})
	}
}

// TestUnpackReadsToEnd checks that the tar's trailing padding is consumed,
// so a digest computed while unpacking covers the whole blob.
func TestUnpackReadsToEnd(t *testing.T) {
	data := append(upTar(t, upFile("f", "x")), make([]byte, 8192)...)
	r := bytes.NewReader(data)
	if _, err := Unpack(r, t.TempDir(), UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(r); len(rest) != 0 {
		t.Errorf("%d bytes left unread", len(rest))
	}
}
