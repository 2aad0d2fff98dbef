package container

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Change is one line of `diff`: Kind is 'A' (added), 'C' (changed) or
// 'D' (deleted), Path absolute inside the container.
type Change struct {
	Kind byte
	Path string
}

// Changes lists what c changed against its image, from its overlay upper
// dir: whiteouts are deletions, entries the layers have are changes, the
// rest additions. Mount points skiff made (/proc, /etc/hosts...) are left
// out, as Docker keeps them in a hidden init layer, and so is a changed
// directory with nothing reported below it. Sorted by path, as Docker.
func Changes(c *Container) ([]Change, error) {
	skip := map[string]bool{"/proc": true, "/sys": true, "/dev": true,
		"/etc/hosts": true, "/etc/hostname": true, "/etc/resolv.conf": true}
	for _, m := range c.Mounts {
		skip[path.Clean(m.Destination)] = true
	}
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
		if skip[rel] || strings.HasPrefix(rel, "/dev/") {
			if fi.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		kind := byte('A')
		switch {
		case upperWhiteout(p, fi):
			kind = 'D'
		case inLowers(c.Rootfs.LowerDirs, rel):
			kind = 'C'
		}
		out = append(out, Change{kind, rel})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return dropBareDirs(out, c.Rootfs.UpperDir), nil
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

// upperWhiteout: overlay marks a deletion with a 0/0 character device, or
// (rootless, userxattr) a file with the user.overlay.whiteout xattr.
func upperWhiteout(p string, fi os.FileInfo) bool {
	if fi.Mode()&os.ModeCharDevice != 0 {
		st, ok := fi.Sys().(*syscall.Stat_t)
		return ok && st.Rdev == 0
	}
	if fi.Mode().IsRegular() && fi.Size() == 0 {
		_, err := unix.Lgetxattr(p, "user.overlay.whiteout", nil)
		return err == nil
	}
	return false
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
		return !upperWhiteout(p, fi)
	}
	return false
}
