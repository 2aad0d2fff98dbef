package container

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/skiff-dev/skiff/isolate"
)

// CopyUp fills dst (a new, empty volume) with what the image holds at
// path, as Docker does when a fresh volume is mounted over image content.
// It replays the layers base first, so upper layers' files and overlay
// whiteouts (0/0 char devices, opaque directories) win, without mounting
// anything. Ownership and modes are kept.
func CopyUp(lowerDirs []string, path, dst string) error {
	rel := filepath.Clean("/" + path)
	for _, layer := range lowerDirs {
		src := filepath.Join(layer, rel)
		fi, err := os.Lstat(src)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if isolate.IsWhiteout(src, fi) || !fi.IsDir() {
			// The path was deleted, or is no directory in this layer:
			// nothing below it from lower layers survives.
			if err := clearDir(dst); err != nil {
				return err
			}
			continue
		}
		if isolate.IsOpaqueDir(src) {
			if err := clearDir(dst); err != nil {
				return err
			}
		}
		if err := replayLayerDir(src, dst); err != nil {
			return err
		}
		// Docker gives the volume's root the image directory's owner and
		// mode too (redis' /data owned by redis), the top layer's winning.
		if err := copyMeta(dst, fi); err != nil {
			return err
		}
	}
	return nil
}

// replayLayerDir applies one layer's directory src onto dst.
func replayLayerDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "." {
			return nil
		}
		target := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if isolate.IsWhiteout(p, fi) {
			return os.RemoveAll(target)
		}
		if fi.IsDir() {
			if cur, err := os.Lstat(target); err == nil && !cur.IsDir() {
				os.RemoveAll(target)
			}
			if err := os.MkdirAll(target, fi.Mode().Perm()); err != nil {
				return err
			}
			if isolate.IsOpaqueDir(p) {
				if err := clearDir(target); err != nil {
					return err
				}
			}
			return copyMeta(target, fi)
		}
		os.RemoveAll(target) // the upper layer's entry replaces the lower one's
		switch {
		case fi.Mode().IsRegular():
			if err := copyFile(p, target, fi.Mode().Perm()); err != nil {
				return err
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		default:
			return nil // devices, fifos, sockets: not volume content
		}
		return copyMeta(target, fi)
	})
}

func clearDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// copyMeta keeps owner and mode; chown may fail rootless, where the
// caller's ids are the only ones it can give.
func copyMeta(p string, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if err := os.Lchown(p, int(st.Uid), int(st.Gid)); err != nil && os.Geteuid() == 0 && !strings.Contains(err.Error(), "invalid argument") {
			return err
		}
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil
	}
	return os.Chmod(p, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
}
