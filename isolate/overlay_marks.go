package isolate

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// Overlay's marks in a layer or upper directory, in every form skiff meets:
// the kernel's (0/0 character device, trusted.* xattrs as root, user.*
// rootless), the kernel's xattr-only whiteout (an empty file with
// overlay.whiteout), and fuse-overlayfs's (user.fuseoverlayfs.opaque, or a
// .wh..wh..opq file where it could set no xattr). container and engine use
// these; image keeps its own copies, as the layering keeps it from
// importing isolate.

// IsWhiteout reports whether the entry at p, whose Lstat is fi, marks a
// deletion.
func IsWhiteout(p string, fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t) // what os gives, not unix.Stat_t
	if !ok {
		return false
	}
	return whiteoutMark(p, st.Mode, st.Rdev, st.Size)
}

func whiteoutMark(p string, mode uint32, rdev uint64, size int64) bool {
	switch mode & unix.S_IFMT {
	case unix.S_IFCHR:
		return rdev == 0
	case unix.S_IFREG:
		if size != 0 {
			return false
		}
		for _, k := range []string{"trusted.overlay.whiteout", "user.overlay.whiteout"} {
			if _, err := unix.Lgetxattr(p, k, nil); err == nil {
				return true
			}
		}
	}
	return false
}

// IsOpaqueDir reports whether the directory p hides what lower layers hold
// below it.
func IsOpaqueDir(p string) bool {
	val := make([]byte, 1)
	for _, k := range []string{"trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque"} {
		if n, err := unix.Lgetxattr(p, k, val); err == nil && n == 1 && val[0] == 'y' {
			return true
		}
	}
	_, err := os.Lstat(filepath.Join(p, ".wh..wh..opq"))
	return err == nil
}
