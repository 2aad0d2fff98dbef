package isolate

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOverlayMarks(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, make func(p string) error) string {
		p := filepath.Join(dir, name)
		if err := make(p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return p
	}
	file := func(data string, xattr string) func(string) error {
		return func(p string) error {
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil || xattr == "" {
				return err
			}
			return unix.Lsetxattr(p, xattr, nil, 0)
		}
	}
	dirWith := func(xattr, marker string) func(string) error {
		return func(p string) error {
			if err := os.Mkdir(p, 0o755); err != nil {
				return err
			}
			if marker != "" {
				return os.WriteFile(filepath.Join(p, marker), nil, 0o644)
			}
			if xattr != "" {
				return unix.Lsetxattr(p, xattr, []byte("y"), 0)
			}
			return nil
		}
	}
	type mark struct {
		path string
		want bool
	}
	whiteouts := []mark{
		{mk("plain", file("x", "")), false},
		{mk("empty", file("", "")), false},
		{mk("xattr-wh", file("", "user.overlay.whiteout")), true},
		{mk("xattr-not-empty", file("x", "user.overlay.whiteout")), false},
		{mk("dir", dirWith("", "")), false},
	}
	if os.Geteuid() == 0 {
		whiteouts = append(whiteouts,
			mark{mk("chardev-0-0", func(p string) error { return unix.Mknod(p, unix.S_IFCHR, 0) }), true},
			mark{mk("chardev-1-3", func(p string) error { return unix.Mknod(p, unix.S_IFCHR, int(unix.Mkdev(1, 3))) }), false})
	}
	for _, c := range whiteouts {
		fi, err := os.Lstat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := IsWhiteout(c.path, fi); got != c.want {
			t.Errorf("IsWhiteout(%s) = %v, want %v", filepath.Base(c.path), got, c.want)
		}
	}
	opaques := map[string]bool{
		mk("opq-user", dirWith("user.overlay.opaque", "")):       true,
		mk("opq-fuse", dirWith("user.fuseoverlayfs.opaque", "")): true,
		mk("opq-marker", dirWith("", ".wh..wh..opq")):            true,
		mk("not-opaque", dirWith("", "")):                        false,
		mk("other-marker", dirWith("", ".wh.gone")):              false,
	}
	if os.Geteuid() == 0 {
		opaques[mk("opq-trusted", dirWith("trusted.overlay.opaque", ""))] = true
	}
	for p, want := range opaques {
		if got := IsOpaqueDir(p); got != want {
			t.Errorf("IsOpaqueDir(%s) = %v, want %v", filepath.Base(p), got, want)
		}
	}
}
