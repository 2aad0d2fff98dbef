package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
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
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	d := &differ{tw: tar.NewWriter(w), buf: *bufp, links: map[inodeKey]string{}}
	err := compareRootfs(rootfs, layers, func(ch rootfsChange) error {
		switch {
		case ch.kind == changeGone:
			return d.marker(ch.dir, whiteoutPrefix+ch.name, ch.st)
		case ch.kind == changeMeta && ch.st.Mode&unix.S_IFMT == unix.S_IFDIR:
			// A changed directory: its header only; compareRootfs goes on
			// below it.
			hdr := headerFromStat(ch.rel+"/", ch.st)
			var err error
			if hdr.PAXRecords, err = readXattrs(ch.path); err != nil {
				return err
			}
			hdr.Typeflag = tar.TypeDir
			return d.tw.WriteHeader(hdr)
		}
		// New, of another type than below, or a changed file: all of it
		// (a whole new tree for a directory).
		if err := d.entry(ch.path, ch.rel, ch.st); err != nil {
			return fmt.Errorf("%s: %w", ch.rel, err)
		}
		return nil
	})
	if err == nil {
		err = d.tw.Close()
	}
	if err != nil {
		return fmt.Errorf("diff %s: %w", rootfs, err)
	}
	return nil
}

// Change is one line of a container's `diff`: Kind 'A' (added), 'C'
// (changed) or 'D' (deleted), Path absolute inside the container.
type Change struct {
	Kind byte
	Path string
}

// RootfsChanges lists what DiffRootfs would write, as `diff` shows it:
// each entry of an added tree, changed entries, deleted ones (not what
// was below them). In walk order: sort by Path for Docker's.
func RootfsChanges(rootfs string, layers []string) ([]Change, error) {
	var out []Change
	err := compareRootfs(rootfs, layers, func(ch rootfsChange) error {
		switch ch.kind {
		case changeGone:
			out = append(out, Change{'D', "/" + path.Join(ch.dir, ch.name)})
			return nil
		case changeMeta: // for a directory, compareRootfs goes on below it
			out = append(out, Change{'C', "/" + ch.rel})
			return nil
		}
		kind := byte('A')
		if ch.inLower {
			kind = 'C' // another type than below
		}
		out = append(out, Change{kind, "/" + ch.rel})
		if ch.st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return nil
		}
		return filepath.WalkDir(ch.path, func(p string, _ fs.DirEntry, err error) error {
			if err != nil || p == ch.path {
				return err
			}
			out = append(out, Change{'A', "/" + ch.rel + "/" + filepath.ToSlash(strings.TrimPrefix(p, ch.path+"/"))})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", rootfs, err)
	}
	return out, nil
}

// ChangesSize is the bytes of the regular files changes added or changed
// in rootfs, a file with several names counted once (Docker's SizeRw).
func ChangesSize(rootfs string, changes []Change) int64 {
	var n int64
	seen := map[inodeKey]bool{}
	for _, ch := range changes {
		if ch.Kind == 'D' {
			continue
		}
		var st unix.Stat_t
		if unix.Lstat(filepath.Join(rootfs, ch.Path), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			continue
		}
		if k := (inodeKey{uint64(st.Dev), st.Ino}); !seen[k] {
			seen[k] = true
			n += st.Size
		}
	}
	return n
}

// Kinds of rootfsChange.
const (
	changeNew  = iota // not in the layers, or of another type there
	changeMeta        // the same type, other attributes
	changeGone        // in the layers, not in rootfs
)

// rootfsChange is one difference compareRootfs found. For changeGone,
// dir/name is the entry the layers have and path/st its parent in rootfs.
type rootfsChange struct {
	kind      int
	path, rel string
	st        *unix.Stat_t
	inLower   bool
	dir, name string
}

// compareRootfs walks rootfs against its layers merged, calling fn for
// each difference, sorted by name in each directory (deletions after the
// directory's entries); it descends into the directories that are in
// both, changed or not, and leaves new trees to fn.
func compareRootfs(rootfs string, layers []string, fn func(rootfsChange) error) error {
	root, err := filepath.Abs(rootfs)
	if err != nil {
		return err
	}
	merged, err := mergeLayers(layers)
	if err != nil {
		return err
	}
	return merged.compareDir(root, "", fn)
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

// compareDir compares the rootfs directory dir (rel its layer name).
func (merged *mergedView) compareDir(dir, rel string, fn func(rootfsChange) error) error {
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
		st := new(unix.Stat_t)
		if err := unix.Lstat(p, st); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return err
		}
		lower, inLower := merged.entries[r]
		isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
		sameType := inLower && lower.st.Mode&unix.S_IFMT == st.Mode&unix.S_IFMT
		ch := rootfsChange{kind: changeNew, path: p, rel: r, st: st, inLower: inLower}
		switch {
		case sameType && sameEntry(p, st, &lower):
			ch.kind = -1
		case sameType:
			ch.kind = changeMeta
		}
		if ch.kind >= 0 {
			if err := fn(ch); err != nil {
				return err
			}
		}
		if isDir && sameType {
			if err := merged.compareDir(p, r, fn); err != nil {
				return err
			}
		}
	}
	gone := merged.children[rel]
	sort.Strings(gone)
	var dirSt *unix.Stat_t
	for _, name := range gone {
		if have[name] {
			continue
		}
		if dirSt == nil {
			dirSt = new(unix.Stat_t)
			if err := unix.Lstat(dir, dirSt); err != nil {
				return err
			}
		}
		if err := fn(rootfsChange{kind: changeGone, path: dir, rel: rel, st: dirSt, dir: rel, name: name}); err != nil {
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
