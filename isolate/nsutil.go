package isolate

import (
	"os"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// inUserNS says whether this process runs in a user namespace other than
// the initial one (its uid map is not the identity over all ids).
var inUserNS = sync.OnceValue(func() bool {
	data, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	f := strings.Fields(string(data))
	return !(len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295")
})

// nsFile is the name under /proc/<pid>/ns of a namespace type.
func nsFile(t specs.LinuxNamespaceType) string {
	switch t {
	case specs.NetworkNamespace:
		return "net"
	case specs.MountNamespace:
		return "mnt"
	}
	return string(t)
}

// sameNS says whether two namespace files name the same namespace.
func sameNS(a, b string) bool {
	var sa, sb unix.Stat_t
	if unix.Stat(a, &sa) != nil || unix.Stat(b, &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// Rootless says whether this process lacks host root: it is not uid 0, or
// it is uid 0 of a user namespace (a rootless supervisor started by
// StartInUserNS sees euid 0, yet must build a rootless spec).
func Rootless() bool { return os.Geteuid() != 0 || inUserNS() }
