package image

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/store"
)

// OCI whiteout names (image-spec layer.md).
const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."     // aufs metadata: skipped
	whiteoutOpaque = ".wh..wh..opq" // the parent directory is opaque
)

func isWhiteout(base string) bool { return strings.HasPrefix(base, whiteoutPrefix) }

// overlayPrefix is the xattr namespace overlayfs reads: trusted.overlay.* as
// root, user.overlay.* for rootless mounts (which use the userxattr option,
// as trusted.* cannot be set in a user namespace).
func (x *extractor) overlayPrefix() string {
	if x.opts.Rootless {
		return "user.overlay."
	}
	return "trusted.overlay."
}

// mknodWhiteout makes overlay's standard whiteout, a 0/0 character device
// (allowed unprivileged since Linux 5.8). A variable so tests can make the
// kernel refuse it and exercise the xattr form.
var mknodWhiteout = func(p string) error { return unix.Mknod(p, unix.S_IFCHR, 0) }

// whiteout turns ".wh.<name>" into an overlay whiteout for name, and
// ".wh..wh..opq" into an opaque parent directory. A whiteout also deletes
// whatever this layer put at name earlier.
func (x *extractor) whiteout(dirRel, base string) error {
	if base == whiteoutOpaque {
		parent, err := x.parent(dirRel)
		if err != nil {
			return err
		}
		return unix.Lsetxattr(parent, x.overlayPrefix()+"opaque", []byte("y"), 0)
	}
	if strings.HasPrefix(base, whiteoutMeta) {
		return nil
	}
	name := strings.TrimPrefix(base, whiteoutPrefix)
	if name == "" || name == "." || name == ".." {
		return store.Invalid("invalid whiteout %q", base)
	}
	parent, err := x.parent(dirRel)
	if err != nil {
		return err
	}
	p := filepath.Join(parent, name)
	if _, err := os.Lstat(p); err == nil {
		if err := x.remove(p); err != nil {
			return err
		}
	}
	if !x.xattrWhiteouts {
		err := mknodWhiteout(p)
		if !errors.Is(err, unix.EPERM) {
			return err
		}
		x.xattrWhiteouts = true
	}
	return x.xattrWhiteout(parent, p)
}

// xattrWhiteout is overlay's other whiteout form (Linux 6.7+): a zero-size
// file with the overlay.whiteout xattr, in a directory marked with
// overlay.opaque=x (unless it is fully opaque already), which tells overlay
// to look for such files when it reads the directory.
func (x *extractor) xattrWhiteout(parent, p string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	prefix := x.overlayPrefix()
	if err := unix.Lsetxattr(p, prefix+"whiteout", []byte("y"), 0); err != nil {
		return err
	}
	val := make([]byte, 1)
	if n, err := unix.Lgetxattr(parent, prefix+"opaque", val); err == nil && n == 1 && val[0] == 'y' {
		return nil
	}
	return unix.Lsetxattr(parent, prefix+"opaque", []byte("x"), 0)
}
