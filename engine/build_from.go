package engine

import (
	"io"
	"os"
	"path/filepath"

	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/isolate"
)

// mergeTree materializes p (a path in an image) from its unpacked layers
// into root/p, applying whiteouts and opaque directories as overlayfs
// would: what COPY --from reads.
func mergeTree(layers []string, p, root string) error {
	target := filepath.Join(root, p)
	for _, l := range layers {
		_, fi, state := lookupIn(l, p)
		switch state {
		case lookupHidden:
			if err := os.RemoveAll(target); err != nil {
				return err
			}
			continue
		case lookupAbsent:
			continue
		}
		if err := applyTree(filepath.Join(l, p), fi, target); err != nil {
			return err
		}
	}
	return nil
}

// applyTree lays one layer's src over target.
func applyTree(src string, fi os.FileInfo, target string) error {
	if isolate.IsWhiteout(src, fi) {
		return os.RemoveAll(target)
	}
	if !fi.IsDir() {
		os.RemoveAll(target)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return copyFile(src, fi, target)
	}
	if cur, err := os.Lstat(target); err == nil && (!cur.IsDir() || isolate.IsOpaqueDir(src)) {
		os.RemoveAll(target)
	}
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	os.Chmod(target, fi.Mode().Perm()|0o700)
	names, err := image.ReadNames(src)
	if err != nil {
		return err
	}
	for _, n := range names {
		cfi, err := os.Lstat(filepath.Join(src, n))
		if err != nil {
			return err
		}
		if err := applyTree(filepath.Join(src, n), cfi, filepath.Join(target, n)); err != nil {
			return err
		}
	}
	return nil
}

// copyFile copies a regular file or symlink; other types are skipped.
func copyFile(src string, fi os.FileInfo, dst string) error {
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		link, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(link, dst)
	case fi.Mode().IsRegular():
		in, err := os.Open(src)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		if e := out.Close(); err == nil {
			err = e
		}
		os.Chtimes(dst, fi.ModTime(), fi.ModTime())
		return err
	}
	return nil
}
