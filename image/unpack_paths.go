package image

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/store"
)

// cleanRel turns a tar name into a clean path relative to the layer root
// ("" for the root itself). A leading "/" is dropped, as every layer path is
// relative to its root; a name that climbs out with ".." is refused outright,
// as no honest layer has one.
func cleanRel(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", store.Invalid("layer entry %q has a NUL byte", name)
	}
	rel := path.Clean(strings.TrimLeft(name, "/"))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", store.Invalid("layer entry %q escapes the layer directory", name)
	}
	if rel == "." {
		return "", nil
	}
	return rel, nil
}

// splitRel splits a clean relative path into its parent ("" for the root)
// and base name.
func splitRel(rel string) (dir, base string) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return "", rel
	}
	return rel[:i], rel[i+1:]
}

// parent resolves the directory dirRel inside the root, following symlinks
// as if the root were "/" (securejoin), and creates what is missing of it.
// The result is a real directory whose every component is inside the root.
func (x *extractor) parent(dirRel string) (string, error) {
	if p, ok := x.parents[dirRel]; ok {
		return p, nil
	}
	p, err := securejoin.SecureJoin(x.root, dirRel)
	if err != nil {
		return "", err
	}
	// securejoin resolved every existing component, so MkdirAll only adds
	// plain directories under real ones.
	if err := os.MkdirAll(p, 0o755); err != nil {
		return "", err
	}
	x.parents[dirRel] = p
	return p, nil
}

// lookup resolves an existing entry rel inside the root without creating
// anything and without following rel's final component.
func (x *extractor) lookup(rel string) (string, os.FileInfo, error) {
	dirRel, base := splitRel(rel)
	parent, ok := x.parents[dirRel]
	if !ok {
		var err error
		if parent, err = securejoin.SecureJoin(x.root, dirRel); err != nil {
			return "", nil, err
		}
	}
	p := filepath.Join(parent, base)
	fi, err := os.Lstat(p)
	return p, fi, err
}

// remove deletes whatever is at p (a whole tree for a directory) so that a
// later entry can take its place, and forgets cached resolutions and
// pending directory metadata that may have run through it.
func (x *extractor) remove(p string) error {
	if err := os.RemoveAll(p); err != nil {
		return err
	}
	clear(x.parents)
	x.parents[""] = x.root
	key := x.key(p)
	for d := range x.dirs {
		if d == key || strings.HasPrefix(d, key+"/") {
			delete(x.dirs, d)
		}
	}
	return nil
}

// key names a resolved path p by its place under the root. Resolved paths
// have no symlinks, so one directory always has one key.
func (x *extractor) key(p string) string {
	if p == x.root {
		return ""
	}
	return strings.TrimPrefix(p, x.root+"/")
}

// create runs mk to make a new entry at p; if something is in the way, it is
// removed (a later entry wins) and mk runs again. mk must never follow or
// reuse an existing entry (O_EXCL, mknod, symlink, link all fail with EEXIST).
func (x *extractor) create(p string, mk func() error) error {
	err := mk()
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := x.remove(p); err != nil {
		return err
	}
	return mk()
}

// isDirNoFollow reports whether p is a real directory (not a symlink to one).
func isDirNoFollow(p string) bool {
	var st unix.Stat_t
	return unix.Lstat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
}
