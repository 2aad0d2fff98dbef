package image

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// vfsFixture is two layers (a whiteout and an opaque directory in the
// second) and a rootfs made as the vfs driver's copy of them: the same
// entries with the same metadata.
func vfsFixture(t *testing.T) (rootfs string, layers []string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("unpacking whiteouts as devices needs root")
	}
	l1 := unpackEnts(t, UnpackOptions{}, upDir("etc"), upFile("etc/passwd", "root\n"), upFile("etc/group", "g\n"),
		upDir("bin"), upFile("bin/ls", "ls"), upDir("opq"), upFile("opq/a", "a"), upSymlink("link", "etc/passwd"))
	l2 := unpackEnts(t, UnpackOptions{}, upDir("bin"), upFile("bin/.wh.ls", ""),
		upDir("opq"), upFile("opq/.wh..wh..opq", ""), upFile("opq/c", "c"))
	rootfs = unpackEnts(t, UnpackOptions{}, upDir("etc"), upFile("etc/passwd", "root\n"), upFile("etc/group", "g\n"),
		upDir("bin"), upDir("opq"), upFile("opq/c", "c"), upSymlink("link", "etc/passwd"))
	return rootfs, []string{l1, l2}
}

// TestRootfsChanges: a pristine copy has no changes; then additions, a
// deletion, a grown file, a symlink replaced by a directory and a touched
// file are found, as diff lists them and as DiffRootfs writes them.
func TestRootfsChanges(t *testing.T) {
	rootfs, layers := vfsFixture(t)
	if got, err := RootfsChanges(rootfs, layers); err != nil || len(got) > 0 {
		t.Fatalf("changes of an unchanged copy: %v %v", got, err)
	}
	p := func(n string) string { return filepath.Join(rootfs, n) }
	f, err := os.OpenFile(p("etc/passwd"), os.O_APPEND|os.O_WRONLY, 0)
	upMust(t, err)
	f.WriteString("x\n")
	f.Close()
	upMust(t, os.Remove(p("etc/group")))
	upMust(t, os.MkdirAll(p("new"), 0o755))
	upMust(t, os.WriteFile(p("new/f"), []byte("four"), 0o644))
	upMust(t, os.Link(p("new/f"), p("new/g")))
	upMust(t, os.Remove(p("link")))
	upMust(t, os.Mkdir(p("link"), 0o755))
	upMust(t, os.WriteFile(p("link/x"), []byte("xx"), 0o644))
	later := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	upMust(t, os.Chtimes(p("opq/c"), later, later))

	got, err := RootfsChanges(rootfs, layers)
	upMust(t, err)
	sort.Slice(got, func(i, j int) bool { return got[i].Path < got[j].Path })
	var lines []string
	for _, ch := range got {
		lines = append(lines, string(ch.Kind)+" "+ch.Path)
	}
	want := []string{"C /etc", "D /etc/group", "C /etc/passwd", "C /link", "A /link/x", "A /new", "A /new/f", "A /new/g", "C /opq/c"}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("changes\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// passwd 7, new/f 4 (new/g is the same file), link/x 2, opq/c 1
	if n := ChangesSize(rootfs, got); n != 14 {
		t.Errorf("ChangesSize = %d, want 14", n)
	}

	var buf strings.Builder
	upMust(t, DiffRootfs(&buf, rootfs, layers))
	entries, _ := tarEntries(t, []byte(buf.String()))
	wantTar := []string{"etc/ 5", "etc/passwd 0", "etc/.wh.group 0", "link/ 5", "link/x 0",
		"new/ 5", "new/f 0", "new/g 1 ->new/f", "opq/c 0"}
	if !reflect.DeepEqual(entries, wantTar) {
		t.Errorf("DiffRootfs entries\n%s\nwant\n%s", strings.Join(entries, "\n"), strings.Join(wantTar, "\n"))
	}
}

// TestDiffFuseOverlayUpper: fuse-overlayfs's own entries in an upper dir
// (its opaque marker file and the whiteout beside it, its xattrs) are not
// layer content; its ".wh.<name>" whiteout files are whiteouts.
func TestDiffFuseOverlayUpper(t *testing.T) {
	up := t.TempDir()
	p := func(n string) string { return filepath.Join(up, n) }
	upMust(t, os.MkdirAll(p("etc"), 0o755))
	upMust(t, os.WriteFile(p("etc/passwd"), []byte("x"), 0o644))
	if err := unix.Lsetxattr(p("etc/passwd"), "user.fuseoverlayfs.origin", []byte("etc/passwd\x00"), 0); errors.Is(err, unix.ENOTSUP) {
		t.Skip("no user xattrs here")
	}
	upMust(t, os.WriteFile(p(".wh.gone"), nil, 0o700))
	upMust(t, os.MkdirAll(p("o"), 0o755))
	upMust(t, unix.Lsetxattr(p("o"), "user.fuseoverlayfs.opaque", []byte("y"), 0))
	upMust(t, os.WriteFile(p("o/.wh..wh..opq"), nil, 0o700))
	if err := unix.Mknod(p("o/.wh..opq"), unix.S_IFCHR, 0); err != nil && !errors.Is(err, unix.EPERM) {
		t.Fatal(err)
	}
	upMust(t, os.WriteFile(p("o/b"), []byte("b"), 0o644))
	upMust(t, os.MkdirAll(p("n"), 0o755)) // opaque by its marker file only
	upMust(t, os.WriteFile(p("n/.wh..wh..opq"), nil, 0o700))

	lines, hdrs := tarEntries(t, diffBytes(t, up))
	want := []string{".wh.gone 0", "etc/ 5", "etc/passwd 0", "n/ 5", "n/.wh..wh..opq 0", "o/ 5", "o/.wh..wh..opq 0", "o/b 0"}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("entries\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if x := xattrRecords(hdrs["etc/passwd"]); len(x) > 0 || len(xattrRecords(hdrs["o/"])) > 0 {
		t.Errorf("fuse-overlayfs xattrs written: %v %v", x, xattrRecords(hdrs["o/"]))
	}
}
