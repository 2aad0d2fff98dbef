package image

import (
	"archive/tar"
	"errors"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// paxXattr is the PAX record prefix that carries extended attributes.
const paxXattr = "SCHILY.xattr."

// tarMode is the permission part of an entry's mode, setuid, setgid and
// sticky bits included.
func tarMode(hdr *tar.Header) uint32 { return uint32(hdr.Mode) & 0o7777 }

// ids is the owner an entry gets on disk, mapped when an IDMap is set.
func (x *extractor) ids(hdr *tar.Header) (int, int) {
	if x.opts.IDMap != nil {
		return x.opts.IDMap(hdr.Uid, hdr.Gid)
	}
	return hdr.Uid, hdr.Gid
}

// chownErr drops a chown failure when the caller tolerates them.
func (x *extractor) chownErr(err error) error {
	if err != nil && (x.opts.IgnoreChownErrors || x.opts.Rootless) {
		return nil
	}
	return err
}

// pathMeta sets the owner and xattrs of an entry that was not opened
// (directories, symlinks, devices), without following a final symlink.
func (x *extractor) pathMeta(p string, hdr *tar.Header) error {
	uid, gid := x.ids(hdr)
	if err := x.chownErr(unix.Lchown(p, uid, gid)); err != nil {
		return err
	}
	return x.setXattrs(hdr, func(k string, v []byte) error { return unix.Lsetxattr(p, k, v, 0) })
}

// setXattrs applies the entry's SCHILY.xattr.* records. Overlay's own
// attributes are never taken from a layer (they would forge whiteouts,
// opaque dirs or redirects). As Docker does, attributes the filesystem or
// our privileges cannot hold (ENOTSUP, EPERM: security.* and trusted.*
// rootless, user.* on symlinks) are skipped.
func (x *extractor) setXattrs(hdr *tar.Header, set func(k string, v []byte) error) error {
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, paxXattr)
		if !ok || isOverlayXattr(name) {
			continue
		}
		err := set(name, []byte(v))
		if err != nil && !errors.Is(err, unix.ENOTSUP) && !errors.Is(err, unix.EPERM) &&
			!(x.opts.Rootless && errors.Is(err, unix.EACCES)) {
			return err
		}
	}
	return nil
}

// isOverlayXattr reports whether an xattr name belongs to overlayfs.
func isOverlayXattr(name string) bool {
	return strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.")
}

// setTimes sets an entry's access and modification times with nanosecond
// precision, on a symlink itself rather than its target.
func setTimes(p string, hdr *tar.Header) error {
	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = hdr.ModTime
	}
	ts := []unix.Timespec{timespec(atime), timespec(hdr.ModTime)}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func timespec(t time.Time) unix.Timespec {
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}
