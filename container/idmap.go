package container

import (
	"bufio"
	"os"
	"os/user"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/skiff-dev/skiff/store"
)

// IDMappings returns the user namespace maps for a rootless container: the
// caller as root plus its /etc/subuid and /etc/subgid ranges (mapped by
// newuidmap/newgidmap), or only the caller as root when it has no ranges.
// multi reports whether subordinate ranges were found.
func IDMappings() (uids, gids []specs.LinuxIDMapping, multi bool) {
	uid, gid := os.Getuid(), os.Getgid()
	name := strconv.Itoa(uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	uids = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(uid), Size: 1}}
	gids = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(gid), Size: 1}}
	su := subRanges("/etc/subuid", name, uid)
	sg := subRanges("/etc/subgid", name, uid)
	if len(su) == 0 || len(sg) == 0 {
		return uids, gids, false
	}
	return append(uids, shift(su)...), append(gids, shift(sg)...), true
}

// shift places subordinate ranges after container id 0, one after another.
func shift(r []specs.LinuxIDMapping) []specs.LinuxIDMapping {
	next := uint32(1)
	out := make([]specs.LinuxIDMapping, len(r))
	for i, m := range r {
		out[i] = specs.LinuxIDMapping{ContainerID: next, HostID: m.HostID, Size: m.Size}
		next += m.Size
	}
	return out
}

// subRanges reads "name:start:count" lines for the user (by name or uid).
func subRanges(path, name string, uid int) []specs.LinuxIDMapping {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []specs.LinuxIDMapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(fields) != 3 || (fields[0] != name && fields[0] != strconv.Itoa(uid)) {
			continue
		}
		start, err1 := strconv.ParseUint(fields[1], 10, 32)
		count, err2 := strconv.ParseUint(fields[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 {
			continue
		}
		out = append(out, specs.LinuxIDMapping{HostID: uint32(start), Size: uint32(count)})
	}
	return out
}

// InUserNS reports whether this process runs in a user namespace other
// than the host's (a rootless supervisor started inside one sees euid 0).
func InUserNS() bool { return store.InUserNS() }

// gidMapped reports whether gid exists in this process's user namespace.
func gidMapped(gid uint32) bool {
	data, err := os.ReadFile("/proc/self/gid_map")
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		start, err1 := strconv.ParseUint(f[0], 10, 32)
		size, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 == nil && err2 == nil && uint64(gid) >= start && uint64(gid) < start+size {
			return true
		}
	}
	return false
}
