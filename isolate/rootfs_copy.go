package isolate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// materialise copies layers (base first, in overlay's on-disk form) into
// dir, applying whiteouts and opaque directories as overlayfs would show
// them merged. It builds a temporary dir beside it and renames it, so a
// dir that exists is complete; of two copies made at once (cp, export and
// start of a container that never ran), the first renamed is kept.
func materialise(layers []string, dir string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err == nil {
		err = os.Chmod(tmp, 0o755)
	}
	if err != nil {
		return err
	}
	for _, l := range layers {
		if err := applyLayerCopy(l, tmp); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("copy layer %s: %w", l, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if _, serr := os.Stat(dir); serr == nil {
			return nil // another made it first
		}
		return err
	}
	return nil
}

// applyLayerCopy copies one layer dir over dst.
func applyLayerCopy(src, dst string) error {
	links := map[[2]uint64]string{} // inode in this layer -> first copy
	var dirs []string               // their times are set once their contents are in
	err := filepath.WalkDir(src, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if rel == "." {
			return copyMeta(p, target, &st)
		}
		if whiteoutMark(p, st.Mode, st.Rdev, st.Size) {
			return os.RemoveAll(target)
		}
		if name, ok := strings.CutPrefix(filepath.Base(p), ".wh."); ok {
			// fuse-overlayfs's whiteout files, where it cannot mknod.
			if name == ".wh..opq" {
				return nil // read by IsOpaqueDir with its directory
			}
			return os.RemoveAll(filepath.Join(filepath.Dir(target), name))
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			if fi, err := os.Lstat(target); err == nil && (!fi.IsDir() || IsOpaqueDir(p)) {
				if err := os.RemoveAll(target); err != nil {
					return err
				}
			}
			if err := os.Mkdir(target, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			dirs = append(dirs, p)
			return copyMeta(p, target, &st)
		}
		if err := os.RemoveAll(target); err != nil {
			return err
		}
		key := [2]uint64{uint64(st.Dev), st.Ino}
		if first, ok := links[key]; ok && st.Nlink > 1 {
			return os.Link(first, target)
		}
		if err := copyEntry(p, target, &st); err != nil {
			if errors.Is(err, unix.EPERM) && (st.Mode&unix.S_IFMT == unix.S_IFCHR || st.Mode&unix.S_IFMT == unix.S_IFBLK) {
				return nil // device nodes cannot be made in a user namespace
			}
			return err
		}
		if st.Nlink > 1 {
			links[key] = target
		}
		return copyMeta(p, target, &st)
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		var st unix.Stat_t
		rel, _ := filepath.Rel(src, dirs[i])
		if unix.Lstat(dirs[i], &st) == nil {
			setTimesFromStat(filepath.Join(dst, rel), &st)
		}
	}
	return nil
}

// copyEntry creates target as a copy of the non-directory p.
func copyEntry(p, target string, st *unix.Stat_t) error {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return copyFileData(p, target)
	case unix.S_IFLNK:
		link, err := os.Readlink(p)
		if err != nil {
			return err
		}
		return os.Symlink(link, target)
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		return unix.Mknod(target, st.Mode, int(st.Rdev))
	}
	return nil // sockets are not copied
}

func copyFileData(p, target string) error {
	in, err := os.Open(p)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyMeta gives target p's owner, mode, xattrs (but overlay's) and times.
func copyMeta(p, target string, st *unix.Stat_t) error {
	if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
		return nil // a socket, left out
	}
	if err := unix.Lchown(target, int(st.Uid), int(st.Gid)); err != nil && !errors.Is(err, unix.EINVAL) {
		return err // EINVAL: an id not mapped in this namespace
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Chmod(target, st.Mode&0o7777); err != nil {
			return err
		}
	}
	copyXattrs(p, target)
	return setTimesFromStat(target, st)
}

func setTimesFromStat(p string, st *unix.Stat_t) error {
	ts := []unix.Timespec{st.Atim, st.Mtim}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// copyXattrs is best effort: a filesystem without xattrs still runs.
func copyXattrs(p, target string) {
	size, err := unix.Llistxattr(p, nil)
	if err != nil || size == 0 {
		return
	}
	list := make([]byte, size)
	if size, err = unix.Llistxattr(p, list); err != nil {
		return
	}
	for _, name := range strings.Split(string(bytes.TrimRight(list[:size], "\x00")), "\x00") {
		if name == "" || strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.") {
			continue
		}
		n, err := unix.Lgetxattr(p, name, nil)
		if err != nil {
			continue
		}
		val := make([]byte, n)
		if n, err = unix.Lgetxattr(p, name, val); err == nil {
			unix.Lsetxattr(target, name, val[:n], 0)
		}
	}
}
