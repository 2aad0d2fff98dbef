package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// DiffRootfs writes, as Diff does, the changes of a container that runs on
// a plain copy of its image (the vfs storage driver: no upper dir) to w:
// every entry of rootfs whose type, mode, owner, size, mtime, device or
// link target differs from the merged layers (base first), and a whiteout
// for every merged entry rootfs no longer has. Content is not compared:
// as Docker's naive diff, a file rewritten with the same size within the
// same mtime is missed.
func DiffRootfs(w io.Writer, rootfs string, layers []string) error {
	root, err := filepath.Abs(rootfs)
	if err != nil {
		return err
	}
	merged, err := mergeLayers(layers)
	if err != nil {
		return fmt.Errorf("diff %s: %w", rootfs, err)
	}
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	d := &differ{tw: tar.NewWriter(w), buf: *bufp, links: map[inodeKey]string{}}
	if err := d.rootfsTree(root, "", merged); err != nil {
		return fmt.Errorf("diff %s: %w", rootfs, err)
	}
	if err := d.tw.Close(); err != nil {
		return fmt.Errorf("diff %s: %w", rootfs, err)
	}
	return nil
}

// lowerEntry is what DiffRootfs compares of a merged layer entry.
type lowerEntry struct {
	st   unix.Stat_t
	link string
}

// mergedView is the layers as overlayfs would show them merged.
type mergedView struct {
	entries  map[string]lowerEntry
	children map[string][]string // dir rel ("" the root) -> names
}

func mergeLayers(layers []string) (*mergedView, error) {
	entries := map[string]lowerEntry{}
	removeTree := func(rel string) {
		delete(entries, rel)
		for k := range entries {
			if strings.HasPrefix(k, rel+"/") {
				delete(entries, k)
			}
		}
	}
	for _, l := range layers {
		err := filepath.WalkDir(l, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(l, p)
			if rel == "." {
				return nil
			}
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil {
				return err
			}
			if isWhiteoutInode(p, &st) {
				removeTree(rel)
				return nil
			}
			if old, ok := entries[rel]; ok && (old.st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Mode&unix.S_IFMT != unix.S_IFDIR || isOpaqueDir(p)) {
				removeTree(rel)
			}
			e := lowerEntry{st: st}
			if st.Mode&unix.S_IFMT == unix.S_IFLNK {
				e.link, _ = os.Readlink(p)
			}
			entries[rel] = e
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	v := &mergedView{entries: entries, children: map[string][]string{}}
	for k := range entries {
		dir := filepath.Dir(k)
		if dir == "." {
			dir = ""
		}
		v.children[dir] = append(v.children[dir], filepath.Base(k))
	}
	return v, nil
}

// rootfsTree writes the changed entries under dir (rel its layer name),
// then whiteouts for the merged entries it lost.
func (d *differ) rootfsTree(dir, rel string, merged *mergedView) error {
	names, err := ReadNames(dir)
	if err != nil {
		return err
	}
	have := make(map[string]bool, len(names))
	for _, name := range names {
		have[name] = true
		p, r := filepath.Join(dir, name), name
		if rel != "" {
			r = rel + "/" + name
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return err
		}
		lower, inLower := merged.entries[r]
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		if inLower && sameEntry(p, &st, &lower) {
			if isDir {
				if err := d.rootfsTree(p, r, merged); err != nil {
					return err
				}
			}
			continue
		}
		if isDir && inLower && lower.st.Mode&unix.S_IFMT == unix.S_IFDIR {
			// A changed directory: its header, then its own changes.
			hdr := headerFromStat(r+"/", &st)
			if hdr.PAXRecords, err = readXattrs(p); err != nil {
				return err
			}
			hdr.Typeflag = tar.TypeDir
			if err := d.tw.WriteHeader(hdr); err != nil {
				return err
			}
			if err := d.rootfsTree(p, r, merged); err != nil {
				return err
			}
			continue
		}
		// New, or of another type than below: all of it (a whole new tree).
		if err := d.entry(p, r, &st); err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
	}
	gone := merged.children[rel]
	sort.Strings(gone)
	var dirSt unix.Stat_t
	for _, name := range gone {
		if have[name] {
			continue
		}
		if dirSt.Ino == 0 {
			if err := unix.Lstat(dir, &dirSt); err != nil {
				return err
			}
		}
		if err := d.marker(rel, whiteoutPrefix+name, &dirSt); err != nil {
			return err
		}
	}
	return nil
}

// sameEntry reports whether a rootfs entry still is the merged one.
func sameEntry(p string, st *unix.Stat_t, l *lowerEntry) bool {
	o := &l.st
	if st.Mode != o.Mode || st.Uid != o.Uid || st.Gid != o.Gid || st.Mtim != o.Mtim {
		return false
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return st.Size == o.Size
	case unix.S_IFLNK:
		link, err := os.Readlink(p)
		return err == nil && link == l.link
	case unix.S_IFCHR, unix.S_IFBLK:
		return st.Rdev == o.Rdev
	}
	return true
}
