package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func upMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func diffBytes(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Diff(&buf, dir); err != nil {
		t.Fatalf("Diff: %v", err)
	}
	return buf.Bytes()
}

// tarEntries lists a tar as "name type[ ->link]" lines plus its headers.
func tarEntries(t *testing.T, data []byte) ([]string, map[string]*tar.Header) {
	t.Helper()
	var lines []string
	hdrs := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return lines, hdrs
		}
		upMust(t, err)
		line := hdr.Name + " " + string(hdr.Typeflag)
		if hdr.Linkname != "" {
			line += " ->" + hdr.Linkname
		}
		lines = append(lines, line)
		hdrs[hdr.Name] = hdr
	}
}

// TestDiffEntries builds an upper dir by hand, as overlay leaves one, and
// checks every entry Diff writes for it.
func TestDiffEntries(t *testing.T) {
	up := t.TempDir()
	p := func(n string) string { return filepath.Join(up, n) }
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 600, time.UTC)
	upMust(t, os.Mkdir(p("a"), 0o750))
	upMust(t, unix.Lsetxattr(p("a"), "user.k", []byte("v"), 0))
	upMust(t, unix.Lsetxattr(p("a"), "trusted.overlay.origin", []byte("junk"), 0))
	upMust(t, os.WriteFile(p("a/f"), []byte("content"), 0o644))
	upMust(t, os.Lchown(p("a/f"), 12, 34))
	upMust(t, unix.Chmod(p("a/f"), 0o4755))
	upMust(t, os.Chtimes(p("a/f"), mtime, mtime))
	upMust(t, os.Link(p("a/f"), p("a/h")))
	upMust(t, os.Symlink("f", p("a/s")))
	upMust(t, unix.Mknod(p("a/wh"), unix.S_IFCHR, 0))
	upMust(t, os.Link(p("a/wh"), p("a/wh2"))) // overlay links whiteouts to one shared inode
	upMust(t, os.MkdirAll(p("b"), 0o755))
	upMust(t, unix.Lsetxattr(p("b"), "trusted.overlay.opaque", []byte("y"), 0))
	upMust(t, os.WriteFile(p("b/x"), nil, 0o600))
	upMust(t, os.MkdirAll(p("c"), 0o755))
	upMust(t, unix.Lsetxattr(p("c"), "user.overlay.opaque", []byte("y"), 0))
	upMust(t, os.MkdirAll(p("d"), 0o755))
	upMust(t, unix.Lsetxattr(p("d"), "user.overlay.opaque", []byte("x"), 0))
	upMust(t, os.WriteFile(p("d/xw"), nil, 0o600))
	upMust(t, unix.Lsetxattr(p("d/xw"), "user.overlay.whiteout", []byte("y"), 0))
	upMust(t, unix.Mkfifo(p("fifo"), 0o600))
	upMust(t, unix.Mknod(p("null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	l, err := net.Listen("unix", p("sock"))
	upMust(t, err)
	defer l.Close()

	data := diffBytes(t, up)
	lines, hdrs := tarEntries(t, data)
	want := []string{
		"a/ 5", "a/f 0", "a/h 1 ->a/f", "a/s 2 ->f", "a/.wh.wh 0", "a/.wh.wh2 0", // in the upper dir's name order
		"b/ 5", "b/.wh..wh..opq 0", "b/x 0",
		"c/ 5", "c/.wh..wh..opq 0",
		"d/ 5", "d/.wh.xw 0",
		"fifo 6", "null 3",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("entries\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if f := hdrs["a/f"]; f == nil || f.Mode != 0o4755 || f.Uid != 12 || f.Gid != 34 || !f.ModTime.Equal(mtime) || f.Size != 7 {
		t.Errorf("a/f header %+v", f)
	}
	if got := xattrRecords(hdrs["a/"]); !reflect.DeepEqual(got, map[string]string{"user.k": "v"}) {
		t.Errorf("a/ xattrs %v, want user.k only", got)
	}
	if n := hdrs["null"]; n == nil || n.Devmajor != 1 || n.Devminor != 3 {
		t.Errorf("null header %+v", n)
	}
	if again := diffBytes(t, up); !bytes.Equal(data, again) {
		t.Error("two Diffs of one tree differ")
	}
}

func xattrRecords(hdr *tar.Header) map[string]string {
	recs := map[string]string{}
	for k, v := range hdr.PAXRecords {
		if name, ok := strings.CutPrefix(k, paxXattr); ok {
			recs[name] = v
		}
	}
	return recs
}

// TestDiffRoundTrip unpacks a layer, diffs the result and unpacks that:
// both trees must match in every kept attribute.
func TestDiffRoundTrip(t *testing.T) {
	old := time.Date(1999, 12, 31, 23, 59, 58, 999, time.UTC)
	ents := []upEnt{
		{name: "usr/", typ: tar.TypeDir, mode: 0o755, uid: 1, gid: 2, mtime: old},
		{name: "usr/bin/", typ: tar.TypeDir, mode: 0o711},
		{name: "usr/bin/tool", typ: tar.TypeReg, mode: 0o6755, uid: 3, gid: 4, body: strings.Repeat("t", 5000),
			xattrs: map[string]string{"user.a": "1", "trusted.b": "\x00\x01binary"}},
		upLink("usr/bin/tool2", "usr/bin/tool"),
		{name: "usr/lib", typ: tar.TypeSymlink, link: "../lib", uid: 5, mtime: old},
		{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
		{name: "dev/null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 3},
		{name: "run/fifo", typ: tar.TypeFifo, mode: 0o620},
		upFile("etc/.wh.passwd", ""),
		upDir("var/"), upFile("var/.wh..wh..opq", ""), upFile("var/log", "l"),
		{name: "empty", typ: tar.TypeReg, mode: 0o400},
	}
	first := unpackEnts(t, UnpackOptions{}, ents...)
	second := t.TempDir()
	if _, err := Unpack(bytes.NewReader(diffBytes(t, first)), second, UnpackOptions{}); err != nil {
		t.Fatalf("Unpack of the diff: %v", err)
	}
	a, b := treeDesc(t, first), treeDesc(t, second)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("round trip changed the tree:\nfirst  %s\nsecond %s", strings.Join(a, "\n       "), strings.Join(b, "\n       "))
	}
	if len(a) < len(ents) {
		t.Errorf("only %d entries in the first tree", len(a))
	}
}

// treeDesc describes a tree by relative path: type, mode, owner, mtime,
// size, content, link, device, xattrs and which names share an inode.
func treeDesc(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	inodes := map[uint64]string{}
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		st := upLstat(t, p)
		d := fmt.Sprintf("%s mode=%o uid=%d gid=%d rdev=%d", rel, st.Mode, st.Uid, st.Gid, st.Rdev)
		if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 { // a whiteout's time means nothing
			d += fmt.Sprintf(" mtime=%d.%09d", st.Mtim.Sec, st.Mtim.Nsec)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			data, _ := os.ReadFile(p)
			d += fmt.Sprintf(" data=%x", sha256.Sum256(data))
			if first, ok := inodes[st.Ino]; ok {
				d += " sameas=" + first
			}
			inodes[st.Ino] = rel
		case unix.S_IFLNK:
			l, _ := os.Readlink(p)
			d += " link=" + l
		}
		size, _ := unix.Llistxattr(p, nil)
		if size > 0 {
			buf := make([]byte, size)
			n, _ := unix.Llistxattr(p, buf)
			names := strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00")
			sort.Strings(names)
			for _, k := range names {
				if k == "" {
					continue
				}
				d += fmt.Sprintf(" %s=%q", k, upXattr(p, k))
			}
		}
		out = append(out, d)
		return nil
	})
	upMust(t, err)
	return out
}

// TestDiffOverlayUpper lets the kernel make an upper dir (deletes, an opaque
// re-created directory, new hardlinked files), diffs it, and mounts the
// diff as a layer over the same lower: the view must be the one the
// container saw.
func TestDiffOverlayUpper(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting overlayfs needs root")
	}
	lower := unpackEnts(t, UnpackOptions{},
		upFile("etc/keep", "k"), upFile("etc/gone", "g"), upFile("opq/old", "o"), upFile("opq/sub/deep", "d"))
	upper, work, merged := t.TempDir(), t.TempDir(), t.TempDir()
	upMust(t, unix.Mount("overlay", merged, "overlay", 0, "lowerdir="+lower+",upperdir="+upper+",workdir="+work))
	m := func(n string) string { return filepath.Join(merged, n) }
	upMust(t, os.Remove(m("etc/gone")))
	upMust(t, os.RemoveAll(m("opq")))
	upMust(t, os.Mkdir(m("opq"), 0o700))
	upMust(t, os.WriteFile(m("opq/new"), []byte("n"), 0o644))
	upMust(t, os.WriteFile(m("etc/new"), []byte("new"), 0o644))
	upMust(t, os.Link(m("etc/new"), m("etc/new2")))
	want := treeDesc(t, merged)
	upMust(t, unix.Unmount(merged, 0))

	layer := t.TempDir()
	if _, err := Unpack(bytes.NewReader(diffBytes(t, upper)), layer, UnpackOptions{}); err != nil {
		t.Fatalf("Unpack of the diff: %v", err)
	}
	merged2 := t.TempDir()
	upMust(t, unix.Mount("overlay", merged2, "overlay", 0, "lowerdir="+layer+":"+lower))
	defer unix.Unmount(merged2, unix.MNT_DETACH)
	if got := treeDesc(t, merged2); !reflect.DeepEqual(got, want) {
		t.Errorf("view through the diffed layer:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
