package container

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// TestChangesUpperDirs: diff reads kernel overlay's and fuse-overlayfs's
// upper dirs alike: whiteout devices and fuse's ".wh." files are
// deletions, fuse's opaque marker files are not content, entries the
// layers have are changes, mount points skiff made are left out, and so is
// a directory changed only to hold them.
func TestChangesUpperDirs(t *testing.T) {
	lower, upper := t.TempDir(), t.TempDir()
	mk := func(root string, dirs []string, files ...string) {
		for _, d := range dirs {
			must(t, os.MkdirAll(filepath.Join(root, d), 0o755))
		}
		for _, f := range files {
			must(t, os.WriteFile(filepath.Join(root, f), []byte("x"), 0o644))
		}
	}
	mk(lower, []string{"bin", "etc", "o", "run"}, "bin/ls", "bin/vi", "etc/passwd", "o/a")
	mk(upper, []string{"bin", "etc", "o", "new", "run", "vol/sub"},
		"etc/passwd", "etc/hosts", "o/b", "o/.wh..wh..opq", "new/f", "bin/.wh.vi", "vol/sub/f")
	if err := unix.Mknod(filepath.Join(upper, "bin/ls"), unix.S_IFCHR, 0); err != nil {
		if errors.Is(err, unix.EPERM) {
			t.Skip("making a whiteout device needs root")
		}
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(upper, "o/.wh..opq"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	c := &Container{Rootfs: Rootfs{LowerDirs: []string{lower}, UpperDir: upper},
		Mounts: []Mount{{Destination: "/vol"}}}
	got, err := Changes(c)
	must(t, err)
	want := []Change{{'C', "/bin"}, {'D', "/bin/ls"}, {'D', "/bin/vi"}, {'C', "/etc"}, {'C', "/etc/passwd"},
		{'A', "/new"}, {'A', "/new/f"}, {'C', "/o"}, {'A', "/o/b"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes\n%q\nwant\n%q", got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
