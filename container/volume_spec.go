package container

import (
	"path/filepath"
	"strings"

	"github.com/skiff-dev/skiff/store"
)

// Mount types, as Docker's inspect names them.
const (
	MountBind   = "bind"
	MountVolume = "volume"
	MountTmpfs  = "tmpfs"
)

// volumeModes are the -v options Docker accepts (SELinux labels and
// nocopy are accepted and ignored here).
var volumeModes = map[string]bool{
	"ro": true, "rw": true, "z": true, "Z": true, "nocopy": true,
	"private": true, "rprivate": true, "shared": true, "rshared": true,
	"slave": true, "rslave": true,
}

// ParseVolume parses one -v argument: host-path:ctr-path[:mode],
// volume-name:ctr-path[:mode], or ctr-path (an anonymous volume). A volume's
// Source is left empty: the engine fills it with the volume's directory.
func ParseVolume(spec string) (Mount, error) {
	parts := strings.Split(spec, ":")
	var src, dst, mode string
	switch len(parts) {
	case 1:
		dst = parts[0]
	case 2:
		src, dst = parts[0], parts[1]
	case 3:
		src, dst, mode = parts[0], parts[1], parts[2]
	default:
		return Mount{}, store.Invalid("invalid volume specification: '%s'", spec)
	}
	if dst == "" || (len(parts) > 1 && src == "") {
		return Mount{}, store.Invalid("invalid volume specification: '%s'", spec)
	}
	if !filepath.IsAbs(dst) {
		return Mount{}, store.Invalid("invalid volume specification: '%s': mount path must be absolute", spec)
	}
	if dst == "/" {
		return Mount{}, store.Invalid("invalid volume specification: '%s': destination can't be '/'", spec)
	}
	m := Mount{Destination: filepath.Clean(dst), RW: true, Mode: mode}
	for _, o := range strings.Split(mode, ",") {
		if o == "" {
			continue
		}
		if !volumeModes[o] {
			return Mount{}, store.Invalid("invalid mode: %s", mode)
		}
		if o == "ro" {
			m.RW = false
		}
	}
	switch {
	case src == "":
		m.Type = MountVolume // anonymous: the engine names it
	case filepath.IsAbs(src):
		m.Type = MountBind
		m.Source = filepath.Clean(src)
	default:
		if !validName(src) {
			return Mount{}, store.Invalid("create %s: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path", src, src)
		}
		m.Type = MountVolume
		m.Name = src
	}
	return m, nil
}

// ParseTmpfs parses one --tmpfs argument, path[:options]. Docker's default
// options are rw,noexec,nosuid,nodev.
func ParseTmpfs(spec string) (dst, opts string, err error) {
	dst, opts, _ = strings.Cut(spec, ":")
	if !filepath.IsAbs(dst) {
		return "", "", store.Invalid("invalid mount path %q for --tmpfs: mount path must be absolute", dst)
	}
	return filepath.Clean(dst), opts, nil
}

// propagation returns the mount propagation named in a -v mode, rprivate by default.
func propagation(mode string) string {
	for _, o := range strings.Split(mode, ",") {
		switch o {
		case "private", "rprivate", "shared", "rshared", "slave", "rslave":
			return o
		}
	}
	return "rprivate"
}
