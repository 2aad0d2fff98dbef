package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Diff writes the overlay upper directory upperDir as an OCI layer tar (PAX
// format) to w: overlay whiteouts (0/0 character devices, or zero-size
// files with an overlay.whiteout xattr) become ".wh.<name>" entries, opaque
// directories get a ".wh..wh..opq" entry after them, files sharing an inode
// become hardlinks to the first of them. Entries come in sorted order, and
// owners, modes, mtimes and xattrs (but overlay's own) are kept, so the same
// tree always gives the same tar. Sockets cannot be archived and are left
// out. fuse-overlayfs's upper dirs differ only in its own entries (see
// fuseInternal) and ".wh.<name>" files where it could not make a whiteout
// device, which are already in the layer's form. Owners are written as on
// disk: a rootless caller must run Diff where they read as the container's
// ids (inside its user namespace).
func Diff(w io.Writer, upperDir string) error {
	root, err := filepath.Abs(upperDir)
	if err != nil {
		return err
	}
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	d := &differ{tw: tar.NewWriter(w), buf: *bufp, links: map[inodeKey]string{}}
	if err := d.tree(root, ""); err != nil {
		return fmt.Errorf("diff %s: %w", upperDir, err)
	}
	if err := d.tw.Close(); err != nil {
		return fmt.Errorf("diff %s: %w", upperDir, err)
	}
	return nil
}

type inodeKey struct{ dev, ino uint64 }

type differ struct {
	tw    *tar.Writer
	buf   []byte
	links map[inodeKey]string // first name written for a multiply-linked file
}

// tree writes the entries under dir (rel is its name in the layer), sorted
// by name, each directory before its contents.
func (d *differ) tree(dir, rel string) error {
	names, err := ReadNames(dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		if fuseInternal(name) {
			continue // its directory's opaque marker is written with it
		}
		p := filepath.Join(dir, name)
		r := name
		if rel != "" {
			r = rel + "/" + name
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed while we walked
			}
			return err
		}
		if err := d.entry(p, r, &st); err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
	}
	return nil
}

// ReadNames lists dir's entries by name, sorted: the deterministic walk order
// layer tars and build checksums both rely on.
func ReadNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	sort.Strings(names)
	return names, err
}

// entry writes one upper-dir entry (and, for a directory, its contents).
func (d *differ) entry(p, rel string, st *unix.Stat_t) error {
	if isWhiteoutInode(p, st) {
		dir, base := splitRel(rel)
		return d.marker(dir, whiteoutPrefix+base, st)
	}
	hdr := headerFromStat(rel, st)
	xattrs, err := readXattrs(p)
	if err != nil {
		return err
	}
	hdr.PAXRecords = xattrs
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		hdr.Typeflag, hdr.Name = tar.TypeDir, rel+"/"
		if err := d.tw.WriteHeader(hdr); err != nil {
			return err
		}
		if isOpaqueDir(p) {
			if err := d.marker(rel, whiteoutOpaque, st); err != nil {
				return err
			}
		}
		return d.tree(p, rel)
	case unix.S_IFREG:
		return d.file(p, hdr, st)
	case unix.S_IFLNK:
		hdr.Typeflag = tar.TypeSymlink
		if hdr.Linkname, err = os.Readlink(p); err != nil {
			return err
		}
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	default:
		return nil // sockets have no tar form
	}
	return d.tw.WriteHeader(hdr)
}

// file writes a regular file, or a hardlink to the first name of its inode.
func (d *differ) file(p string, hdr *tar.Header, st *unix.Stat_t) error {
	if st.Nlink > 1 {
		key := inodeKey{uint64(st.Dev), st.Ino}
		if first, ok := d.links[key]; ok {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			hdr.PAXRecords = nil // the target carries them
			return d.tw.WriteHeader(hdr)
		}
		d.links[key] = hdr.Name
	}
	hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := d.tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.CopyBuffer(d.tw, io.LimitReader(f, st.Size), d.buf)
	if err == nil && n != st.Size {
		err = fmt.Errorf("file shrank while archiving (%d of %d bytes)", n, st.Size)
	}
	return err
}

// marker writes an empty whiteout or opaque marker entry named name in the
// layer directory dir.
func (d *differ) marker(dir, name string, st *unix.Stat_t) error {
	if dir != "" {
		name = dir + "/" + name
	}
	hdr := headerFromStat(name, st)
	hdr.Typeflag, hdr.Mode = tar.TypeReg, int64(st.Mode&0o777)
	return d.tw.WriteHeader(hdr)
}

// headerFromStat fills what every entry shares: name, owner, mode, mtime.
// Names of users and groups are left out: they belong to the image, not the
// host.
func headerFromStat(name string, st *unix.Stat_t) *tar.Header {
	return &tar.Header{
		Name:    name,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec),
		Format:  tar.FormatPAX,
	}
}

// isWhiteoutInode reports whether an upper-dir entry is an overlay
// whiteout: a 0/0 character device, or a zero-size file with an
// overlay.whiteout xattr.
func isWhiteoutInode(p string, st *unix.Stat_t) bool {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		return st.Rdev == 0
	case unix.S_IFREG:
		return st.Size == 0 && (hasXattr(p, "trusted.overlay.whiteout") || hasXattr(p, "user.overlay.whiteout"))
	}
	return false
}

// isOpaqueDir reports whether overlay hides the lower directories under p:
// an opaque xattr (kernel overlay's, or fuse-overlayfs's rootless one), or
// fuse-overlayfs's marker file where it could set no xattr.
func isOpaqueDir(p string) bool {
	for _, k := range []string{"trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque"} {
		val := make([]byte, 1)
		if n, err := unix.Lgetxattr(p, k, val); err == nil && n == 1 && val[0] == 'y' {
			return true
		}
	}
	var st unix.Stat_t
	return unix.Lstat(filepath.Join(p, whiteoutOpaque), &st) == nil
}

// fuseInternal reports whether an upper-dir name is fuse-overlayfs's own:
// the ".wh..wh..opq" file it puts in every directory it makes opaque (new
// ones too) and the ".wh..opq" whiteout beside it. Neither is container
// content; isOpaqueDir reads the first.
func fuseInternal(name string) bool {
	return name == whiteoutOpaque || name == ".wh..opq"
}

// isUpperXattr reports whether an xattr is the overlay's bookkeeping, not
// the file's: overlayfs's own, and fuse-overlayfs's (origin, opaque...).
func isUpperXattr(name string) bool {
	return isOverlayXattr(name) || strings.HasPrefix(name, "user.fuseoverlayfs.")
}

func hasXattr(p, name string) bool {
	_, err := unix.Lgetxattr(p, name, nil)
	return err == nil
}

// readXattrs returns p's xattrs as PAX records, overlay's own left out.
func readXattrs(p string) (map[string]string, error) {
	size, err := unix.Llistxattr(p, nil)
	if err != nil || size == 0 {
		if errors.Is(err, unix.ENOTSUP) {
			err = nil
		}
		return nil, err
	}
	list := make([]byte, size)
	if size, err = unix.Llistxattr(p, list); err != nil {
		return nil, err
	}
	var recs map[string]string
	for _, name := range strings.Split(string(bytes.TrimRight(list[:size], "\x00")), "\x00") {
		if name == "" || isUpperXattr(name) {
			continue
		}
		val, err := getXattr(p, name)
		if err != nil {
			if errors.Is(err, unix.ENODATA) {
				continue
			}
			return nil, err
		}
		if recs == nil {
			recs = map[string]string{}
		}
		recs[paxXattr+name] = string(val)
	}
	return recs, nil
}

func getXattr(p, name string) ([]byte, error) {
	for {
		n, err := unix.Lgetxattr(p, name, nil)
		if err != nil {
			return nil, err
		}
		val := make([]byte, n)
		m, err := unix.Lgetxattr(p, name, val)
		if errors.Is(err, unix.ERANGE) {
			continue // grew in between
		}
		return val[:m], err
	}
}
