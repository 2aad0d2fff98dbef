package container

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	units "github.com/docker/go-units"

	"github.com/skiff-dev/skiff/store"
)

// MountFlag is one --mount, turned into what -v or --tmpfs would have
// given: a Binds entry (bind and volume mounts) or a tmpfs.
type MountFlag struct {
	Bind                string // "src:dst[:opts]" for HostConfig.Binds
	TmpfsDst, TmpfsOpts string
}

// ParseMountFlag reads Docker's --mount: comma-separated key=value fields
// (CSV, so a value may be quoted), type bind, volume (the default) or
// tmpfs. Unlike -v, a bind's source must exist.
func ParseMountFlag(spec string) (MountFlag, error) {
	bad := func(format string, a ...any) (MountFlag, error) {
		return MountFlag{}, store.Invalid("invalid argument %q for \"--mount\" flag: %s", spec, fmt.Sprintf(format, a...))
	}
	fields, err := csv.NewReader(strings.NewReader(spec)).Read()
	if err != nil {
		return bad("%v", err)
	}
	typ, src, dst := "volume", "", ""
	var opts []string
	var size int64
	mode := ""
	for _, f := range fields {
		k, v, hasVal := strings.Cut(strings.TrimSpace(f), "=")
		switch strings.ToLower(k) {
		case "type":
			typ = v
		case "source", "src":
			src = v
		case "target", "destination", "dst":
			dst = v
		case "readonly", "ro":
			ro := true
			if hasVal {
				if ro, err = strconv.ParseBool(v); err != nil {
					return bad("invalid value for %s: %s", k, v)
				}
			}
			if ro {
				opts = append(opts, "ro")
			}
		case "bind-propagation":
			if !volumeModes[v] || v == "ro" || v == "rw" || v == "nocopy" {
				return bad("invalid value for bind-propagation: %s", v)
			}
			opts = append(opts, v)
		case "volume-nocopy":
			if !hasVal || v == "true" || v == "1" {
				opts = append(opts, "nocopy")
			}
		case "tmpfs-size":
			if size, err = units.RAMInBytes(v); err != nil || size < 0 {
				return bad("invalid value for tmpfs-size: %s", v)
			}
		case "tmpfs-mode":
			if _, err := strconv.ParseUint(v, 8, 32); err != nil {
				return bad("invalid value for tmpfs-mode: %s", v)
			}
			mode = v
		default:
			return bad("unexpected key '%s' in '%s'", k, f)
		}
	}
	if dst == "" {
		return bad("target is required")
	}
	switch typ {
	case "bind":
		if src == "" {
			return bad("source is required when specifying a bind mount")
		}
		if !filepath.IsAbs(src) {
			return bad("invalid mount config for type \"bind\": invalid mount path: '%s' mount path must be absolute", src)
		}
		if _, err := os.Stat(src); err != nil {
			return bad("invalid mount config for type \"bind\": bind source path does not exist: %s", src)
		}
	case "volume":
		if src != "" && !validName(src) {
			return bad("invalid volume name %q", src)
		}
	case "tmpfs":
		if src != "" {
			return bad("invalid mount config for type \"tmpfs\": source must not be specified")
		}
		var t []string
		if size > 0 {
			t = append(t, "size="+strconv.FormatInt(size, 10))
		}
		if mode != "" {
			t = append(t, "mode="+mode)
		}
		t = append(t, opts...)
		d, _, err := ParseTmpfs(dst)
		return MountFlag{TmpfsDst: d, TmpfsOpts: strings.Join(t, ",")}, err
	default:
		return bad("invalid mount type %q: must be bind, volume or tmpfs", typ)
	}
	bind := dst
	if src != "" {
		bind = src + ":" + dst
	} else if len(opts) > 0 {
		return bad("options need a named volume (source=NAME)")
	}
	if len(opts) > 0 {
		bind += ":" + strings.Join(opts, ",")
	}
	if _, err := ParseVolume(bind); err != nil {
		return MountFlag{}, err
	}
	return MountFlag{Bind: bind}, nil
}
