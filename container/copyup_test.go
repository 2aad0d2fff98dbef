package container

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCopyUp(t *testing.T) {
	base := map[string]string{"data/a": "base-a", "data/b": "base-b", "data/sub/c": "base-c", "other/x": "x"}
	top := map[string]string{"data/a": "top-a", "data/d": "top-d"}
	r := layers(t, base, top)
	// The top layer deletes data/b with an overlay whiteout (needs root).
	if err := unix.Mknod(filepath.Join(r.LowerDirs[1], "data", "b"), unix.S_IFCHR, 0); err != nil {
		t.Skipf("cannot make a whiteout here: %v", err)
	}
	dst := t.TempDir()
	if err := CopyUp(r.LowerDirs, "/data", dst); err != nil {
		t.Fatal(err)
	}
	var got []string
	filepath.Walk(dst, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dst, p)
			got = append(got, rel+"="+string(data))
		}
		return nil
	})
	sort.Strings(got)
	if want := "a=top-a d=top-d sub/c=base-c"; strings.Join(got, " ") != want {
		t.Errorf("volume holds %q, want %q", strings.Join(got, " "), want)
	}
	// Owners and modes come along, the volume's root included (as root
	// only: a rootless caller cannot give ids away).
	if os.Geteuid() == 0 {
		for _, c := range []struct {
			path     string
			uid, gid int
			mode     os.FileMode
		}{{"data", 999, 998, 0o750}, {"data/d", 1000, 1001, 0o600}} {
			src := filepath.Join(r.LowerDirs[1], c.path)
			if err := os.Chown(src, c.uid, c.gid); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(src, c.mode); err != nil {
				t.Fatal(err)
			}
		}
		meta := t.TempDir()
		if err := CopyUp(r.LowerDirs, "/data", meta); err != nil {
			t.Fatal(err)
		}
		for p, want := range map[string]string{meta: "999:998 750", filepath.Join(meta, "d"): "1000:1001 600", filepath.Join(meta, "a"): "0:0 644"} {
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%d:%d %o", st.Uid, st.Gid, st.Mode&0o7777); got != want {
				t.Errorf("%s: owner and mode %s, want %s", p, got, want)
			}
		}
	}
	// A path the image does not have leaves the volume empty.
	empty := t.TempDir()
	if err := CopyUp(r.LowerDirs, "/nothing", empty); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("copy-up of a missing path wrote %d entries", len(ents))
	}
}
