package isolate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// secureJoin resolves unsafe inside root as if root were "/": symlinks
// (absolute or with "..") never lead outside it. A mount destination is
// resolved so before mounting, so an image cannot aim a mount at the host.
func secureJoin(root, unsafe string) (string, error) {
	resolved := "/"
	rest := unsafe
	for links := 0; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(strings.TrimLeft(rest, "/"), "/")
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir(resolved)
			continue
		}
		next := filepath.Join(resolved, part)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			resolved = next
			continue
		}
		if links++; links > 255 {
			return "", errors.New("too many symlinks in " + unsafe)
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			resolved = "/"
		}
		rest = target + "/" + rest
	}
	return filepath.Join(root, resolved), nil
}
