package engine

import (
	"os"
	"strconv"
	"strings"

	"github.com/skiff-dev/skiff/store"
)

// resolveChown reads --chown user[:group] against the image's passwd and
// group files; a missing group takes the uid's number, as in Docker.
func resolveChown(layers []string, spec string) (int, int, error) {
	if spec == "" {
		return 0, 0, nil
	}
	u, g, hasGroup := strings.Cut(spec, ":")
	uid, err := lookupID(layers, "/etc/passwd", u)
	if err != nil {
		return 0, 0, err
	}
	gid := uid
	if hasGroup {
		if gid, err = lookupID(layers, "/etc/group", g); err != nil {
			return 0, 0, err
		}
	}
	return uid, gid, nil
}

func lookupID(layers []string, file, name string) (int, error) {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, nil
	}
	host, _, ok := layerLookup(layers, file)
	if ok {
		if data, err := os.ReadFile(host); err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				f := strings.Split(line, ":")
				if len(f) >= 3 && f[0] == name {
					if n, err := strconv.Atoi(f[2]); err == nil {
						return n, nil
					}
				}
			}
		}
	}
	return 0, store.Invalid("unable to convert uid/gid chown string to host mapping: can't find uid for user %s: no such user: %s", name, name)
}
