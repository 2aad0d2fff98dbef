package image

import (
	"archive/tar"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/store"
)

// file writes a regular file. It is created fresh (O_EXCL|O_NOFOLLOW), so
// it can never write through a symlink or into an earlier entry's inode
// (which a hardlink may share). It works on the raw fd: *os.File would add
// poller and blocking-mode syscalls to every one of a layer's many files.
func (x *extractor) file(tr *tar.Reader, p string, hdr *tar.Header) error {
	fd := -1
	err := x.create(p, func() (err error) {
		fd, err = unix.Open(p, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		return err
	})
	if err != nil {
		return err
	}
	n, err := io.CopyBuffer(fdWriter(fd), tr, x.buf)
	x.size += n
	if err == nil {
		err = x.fileMeta(fd, hdr)
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return setTimes(p, hdr)
}

// fdWriter writes to a raw file descriptor.
type fdWriter int

func (w fdWriter) Write(b []byte) (int, error) {
	written := 0
	for written < len(b) {
		n, err := unix.Write(int(w), b[written:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return written, err
		}
		written += n
	}
	return written, nil
}

// fileMeta sets an open file's owner, mode and xattrs, in that order: chown
// clears setuid bits and security.capability, so they come after it.
func (x *extractor) fileMeta(fd int, hdr *tar.Header) error {
	uid, gid := x.ids(hdr)
	if err := x.chownErr(unix.Fchown(fd, uid, gid)); err != nil {
		return err
	}
	if err := unix.Fchmod(fd, tarMode(hdr)); err != nil {
		return err
	}
	return x.setXattrs(hdr, func(k string, v []byte) error { return unix.Fsetxattr(fd, k, v, 0) })
}

// dir creates a directory or merges into an existing one; its mode and
// times are applied at the end (finishDirs).
func (x *extractor) dir(p string, hdr *tar.Header) error {
	err := os.Mkdir(p, 0o755)
	if errors.Is(err, fs.ErrExist) {
		if isDirNoFollow(p) {
			err = nil // a directory over a directory merges
		} else if err = x.remove(p); err == nil {
			err = os.Mkdir(p, 0o755)
		}
	}
	if err != nil {
		return err
	}
	return x.dirMeta(p, hdr)
}

func (x *extractor) dirMeta(p string, hdr *tar.Header) error {
	if err := x.pathMeta(p, hdr); err != nil {
		return err
	}
	x.dirs[x.key(p)] = hdr
	return nil
}

// symlink stores the link text as it is: it is only ever resolved inside
// the root (by parent) or by the kernel inside the container.
func (x *extractor) symlink(p string, hdr *tar.Header) error {
	if err := x.create(p, func() error { return os.Symlink(hdr.Linkname, p) }); err != nil {
		return err
	}
	if err := x.pathMeta(p, hdr); err != nil {
		return err
	}
	return setTimes(p, hdr)
}

// hardlink links p to an earlier entry. The target's parents are resolved
// inside the root and its last component is not followed (link(2) without
// AT_SYMLINK_FOLLOW), so a hardlink can only ever share an inode that is in
// the root. The target already carries its own metadata.
func (x *extractor) hardlink(p string, hdr *tar.Header) error {
	target, err := cleanRel(hdr.Linkname)
	if err != nil {
		return store.Invalid("hardlink %q -> %q escapes the layer directory", hdr.Name, hdr.Linkname)
	}
	if target == "" {
		return store.Invalid("hardlink %q -> %q: target is a directory", hdr.Name, hdr.Linkname)
	}
	tp, fi, err := x.lookup(target)
	if err != nil {
		return store.Invalid("hardlink %q -> %q: target not in layer", hdr.Name, hdr.Linkname)
	}
	if fi.IsDir() {
		return store.Invalid("hardlink %q -> %q: target is a directory", hdr.Name, hdr.Linkname)
	}
	if tp == p {
		return nil // a link to itself: already in place
	}
	return x.create(p, func() error { return unix.Linkat(unix.AT_FDCWD, tp, unix.AT_FDCWD, p, 0) })
}

// special makes a device node or fifo (callers skip devices rootless).
func (x *extractor) special(p string, hdr *tar.Header) error {
	mode := tarMode(hdr)
	switch hdr.Typeflag {
	case tar.TypeChar:
		mode |= unix.S_IFCHR
	case tar.TypeBlock:
		mode |= unix.S_IFBLK
	default:
		mode |= unix.S_IFIFO
	}
	dev := int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
	if err := x.create(p, func() error { return unix.Mknod(p, mode, dev) }); err != nil {
		return err
	}
	if err := x.pathMeta(p, hdr); err != nil {
		return err
	}
	// mknod's mode went through the umask; the entry is not a symlink, so
	// chmod through the path reaches it.
	if err := unix.Fchmodat(unix.AT_FDCWD, p, tarMode(hdr), 0); err != nil {
		return err
	}
	return setTimes(p, hdr)
}

// finishDirs applies directories' modes and times once their contents are
// written. Each path is resolved again inside the root, as a later entry
// may have replaced one of its parents with a symlink.
func (x *extractor) finishDirs() error {
	for key, hdr := range x.dirs {
		p, err := x.resolveDir(key)
		if err != nil || p == "" {
			continue // gone or replaced: nothing to apply
		}
		if err := unix.Fchmodat(unix.AT_FDCWD, p, tarMode(hdr), 0); err != nil {
			return err
		}
		if err := setTimes(p, hdr); err != nil {
			return err
		}
	}
	return nil
}

// resolveDir returns key's real directory inside the root, or "" if it is
// no longer a directory.
func (x *extractor) resolveDir(key string) (string, error) {
	if key == "" {
		return x.root, nil
	}
	p, _, err := x.lookup(key)
	if err != nil || !isDirNoFollow(p) {
		return "", err
	}
	return filepath.Clean(p), nil
}
