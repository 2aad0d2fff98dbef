package image

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestSpreadLayers checks that the layer directory gets ext4's top-of-tree
// flag, keeps the flags it had, and that a second call changes nothing.
// Filesystems without the flag (tmpfs, btrfs) skip: it is best effort.
func TestSpreadLayers(t *testing.T) {
	dir := t.TempDir()
	flags := func() int {
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		f, err := unix.IoctlGetInt(fd, unix.FS_IOC_GETFLAGS)
		if err != nil {
			t.Skipf("no inode flags here: %v", err)
		}
		return f
	}
	before := flags()
	spreadLayers(dir)
	after := flags()
	if after&fsTopdirFl == 0 {
		t.Skip("this filesystem does not keep FS_TOPDIR_FL")
	}
	if after != before|fsTopdirFl {
		t.Fatalf("flags %#x -> %#x: want only FS_TOPDIR_FL added", before, after)
	}
	spreadLayers(dir)
	if again := flags(); again != after {
		t.Fatalf("second call changed flags %#x -> %#x", after, again)
	}
}
