package container

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/skiff-dev/skiff/isolate"
)

// Change is one line of `diff`: Kind is 'A' (added), 'C' (changed) or
// 'D' (deleted), Path absolute inside the container.
type Change struct {
	Kind byte
	Path string
}

// Changes lists what c changed against its image, from its overlay upper
// dir (kernel overlay or fuse-overlayfs): whiteouts are deletions, entries
// the layers have are changes, the rest additions. A container on the vfs
// driver has no upper dir: the engine compares its copy with the layers
// and passes the list through FilterChanges.
func Changes(c *Container) ([]Change, error) {
	var out []Change
	upper := c.Rootfs.UpperDir
	err := filepath.Walk(upper, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if p == upper {
			return nil
		}
		rel := "/" + filepath.ToSlash(strings.TrimPrefix(p, upper+"/"))
		name := fi.Name()
		switch {
		case name == ".wh..wh..opq" || name == ".wh..opq":
			return nil // fuse-overlayfs's opaque marks, not content
		case strings.HasPrefix(name, ".wh."):
			// fuse-overlayfs's whiteout where it could make no device
			out = append(out, Change{'D', path.Join(path.Dir(rel), strings.TrimPrefix(name, ".wh."))})
			return nil
		case isolate.IsWhiteout(p, fi):
			out = append(out, Change{'D', rel})
		case inLowers(c.Rootfs.LowerDirs, rel):
			out = append(out, Change{'C', rel})
		default:
			out = append(out, Change{'A', rel})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return FilterChanges(c, out, upper), nil
}

// InitPaths are the mount points every container's rootfs gets, made
// there (empty) by the mounts when the image lacks them. Docker makes
// them in the container's init layer, below the layer that commit and
// diff read, so neither ever shows them: the container's writes to them
// go to what is mounted there, not to its filesystem.
func InitPaths() []string {
	return []string{"/proc", "/sys", "/dev", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", InitPath}
}

// FilterChanges makes a raw list of changes (found in dir, the upper dir
// or the vfs copy) what `diff` shows: mount points skiff made (InitPaths
// and the container's volumes) left out, and so is a directory changed
// only to hold them or with nothing reported below it. Sorted by path, as
// Docker.
func FilterChanges(c *Container, list []Change, dir string) []Change {
	skip := map[string]bool{}
	for _, p := range InitPaths() {
		skip[p] = true
	}
	for _, m := range c.Mounts {
		skip[path.Clean(m.Destination)] = true
	}
	out := list[:0]
	for _, ch := range list {
		if !skip[ch.Path] && !underAny(ch.Path, skip) {
			out = append(out, ch)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return dropBareDirs(out, dir)
}

// underAny reports whether p is below one of dirs.
func underAny(p string, dirs map[string]bool) bool {
	for d := path.Dir(p); d != "/"; d = path.Dir(d) {
		if dirs[d] {
			return true
		}
	}
	return false
}

// dropBareDirs removes directories with nothing reported below them
// that are changed, or added but not empty: they were copied up or made
// only to hold mount points.
func dropBareDirs(list []Change, upper string) []Change {
	var out []Change
	for i, ch := range list {
		if ch.Kind != 'D' && (i+1 >= len(list) || !strings.HasPrefix(list[i+1].Path, ch.Path+"/")) {
			if fi, err := os.Lstat(filepath.Join(upper, ch.Path)); err == nil && fi.IsDir() {
				if names, _ := readDirNames(filepath.Join(upper, ch.Path)); ch.Kind == 'C' || len(names) > 0 {
					continue
				}
			}
		}
		out = append(out, ch)
	}
	return out
}

func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// inLowers says whether the image's layers (base first) have rel: the
// top-most layer that names it decides (a whiteout there means no).
func inLowers(lowers []string, rel string) bool {
	for i := len(lowers) - 1; i >= 0; i-- {
		p := filepath.Join(lowers[i], rel)
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		return !isolate.IsWhiteout(p, fi)
	}
	return false
}
