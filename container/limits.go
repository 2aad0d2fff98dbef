package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	units "github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/isolate"
	"github.com/skiff-dev/skiff/store"
)

// Limits are the host settings of issue 7 beyond Resources, under Docker's
// inspect names (HostConfig embeds them, so they sit at its top level).
type Limits struct {
	CgroupParent string            `json:"CgroupParent,omitempty"`
	NanoCpus     int64             `json:"NanoCpus,omitempty"` // --cpus, kept as given (Resources holds quota/period)
	Devices      []DeviceMapping   `json:"Devices,omitempty"`
	Ulimits      []*units.Ulimit   `json:"Ulimits,omitempty"`
	Sysctls      map[string]string `json:"Sysctls,omitempty"`
	ShmSize      int64             `json:"ShmSize,omitempty"`
	OomScoreAdj  int               `json:"OomScoreAdj,omitempty"`
}

// DeviceMapping is one --device, as Docker's inspect shows it.
type DeviceMapping struct {
	PathOnHost        string `json:"PathOnHost"`
	PathInContainer   string `json:"PathInContainer"`
	CgroupPermissions string `json:"CgroupPermissions"`
}

// DefaultShmSize is Docker's /dev/shm size.
const DefaultShmSize = 64 << 20

// ParseDevice reads --device HOST[:CONTAINER][:PERMS] (Docker's syntax and
// message) and checks the host side is a device node.
func ParseDevice(s string) (DeviceMapping, error) {
	d := DeviceMapping{CgroupPermissions: "rwm"}
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 3:
		d.PathOnHost, d.PathInContainer, d.CgroupPermissions = parts[0], parts[1], parts[2]
	case 2:
		d.PathOnHost = parts[0]
		if validDeviceMode(parts[1]) {
			d.CgroupPermissions = parts[1]
		} else {
			d.PathInContainer = parts[1]
		}
	case 1:
		d.PathOnHost = parts[0]
	default:
		return d, store.Invalid("invalid device specification: %s", s)
	}
	if d.PathInContainer == "" {
		d.PathInContainer = d.PathOnHost
	}
	if !validDeviceMode(d.CgroupPermissions) || !filepath.IsAbs(d.PathInContainer) || d.PathOnHost == "" {
		return d, store.Invalid("invalid device specification: %s", s)
	}
	if _, err := hostDevice(d); err != nil {
		return d, err
	}
	return d, nil
}

func validDeviceMode(m string) bool {
	if m == "" || len(m) > 3 {
		return false
	}
	seen := map[rune]bool{}
	for _, c := range m {
		if !strings.ContainsRune("rwm", c) || seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}

// hostDevice describes d's host node for the container's /dev.
func hostDevice(d DeviceMapping) (specs.LinuxDevice, error) {
	var st unix.Stat_t
	if err := unix.Stat(d.PathOnHost, &st); err != nil {
		return specs.LinuxDevice{}, store.Invalid("error gathering device information while adding custom device %q: %v", d.PathOnHost, err)
	}
	typ := ""
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	default:
		return specs.LinuxDevice{}, store.Invalid("error gathering device information while adding custom device %q: not a device node", d.PathOnHost)
	}
	mode := os.FileMode(st.Mode & 0o777)
	return specs.LinuxDevice{
		Path: d.PathInContainer, Type: typ,
		Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev)),
		FileMode: &mode, UID: ptr(st.Uid), GID: ptr(st.Gid),
	}, nil
}

// ParseUlimit reads --ulimit NAME=SOFT[:HARD] and refuses a hard limit
// above this process's own when it cannot raise it (no CAP_SYS_RESOURCE):
// the container's init could only fail later with a vaguer EPERM.
func ParseUlimit(s string) (*units.Ulimit, error) {
	u, err := units.ParseUlimit(s)
	if err != nil {
		return nil, store.Invalid("invalid argument %q for \"--ulimit\" flag: %v", s, err)
	}
	return u, checkUlimit(u)
}

func checkUlimit(u *units.Ulimit) error {
	rl, err := u.GetRlimit()
	if err != nil {
		return store.Invalid("%v", err)
	}
	var cur unix.Rlimit
	if unix.Getrlimit(rl.Type, &cur) != nil || rl.Hard <= cur.Max || haveCap(unix.CAP_SYS_RESOURCE) {
		return nil
	}
	return store.Invalid("ulimit %s: hard limit %d is above this process's hard limit %d (raising it needs CAP_SYS_RESOURCE)", u.Name, rl.Hard, cur.Max)
}

func haveCap(bit int) bool {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			var n uint64
			fmt.Sscanf(strings.TrimSpace(v), "%x", &n)
			return n&(1<<bit) != 0
		}
	}
	return false
}

// namespacedSysctls are the kernel.* sysctls an IPC namespace owns
// (Docker's list); fs.mqueue.* and net.* are namespaced as a whole.
var namespacedSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
	"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
	"kernel.domainname": true, "kernel.hostname": true,
}

// ValidateSysctl accepts only sysctls the container's own namespaces own;
// a net.* one needs the container's own network namespace.
func ValidateSysctl(kv, network string) (string, string, error) {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return "", "", store.Invalid("invalid argument %q for \"--sysctl\" flag: sysctl '%s' is not allowed", kv, kv)
	}
	switch {
	case namespacedSysctls[k], strings.HasPrefix(k, "fs.mqueue."):
	case strings.HasPrefix(k, "net."):
		if network == "host" {
			return "", "", store.Invalid("sysctl %q not allowed in host network namespace", k)
		}
		if strings.HasPrefix(network, "container:") {
			return "", "", store.Invalid("sysctl %q is not allowed: the network namespace is another container's", k)
		}
	default:
		return "", "", store.Invalid("invalid argument %q for \"--sysctl\" flag: sysctl '%s' is not allowed", kv, kv)
	}
	return k, v, nil
}

// ValidateOomScoreAdj checks Docker's range.
func ValidateOomScoreAdj(v int) error {
	if v < -1000 || v > 1000 {
		return store.Invalid("Invalid value %d, range for oom score adj is [-1000, 1000]", v)
	}
	return nil
}

// applyLimits puts the record's Limits into the spec: cgroup parent,
// devices (nodes and their cgroup rules), rlimits, sysctls, /dev/shm size
// and the OOM score.
func applyLimits(s *specs.Spec, c *Container) error {
	h := c.HostConfig
	s.Linux.CgroupsPath = CgroupsPath(c)
	for _, d := range h.Devices {
		dev, err := hostDevice(d)
		if err != nil {
			return err
		}
		if store.Rootless() {
			// No mknod in a user namespace: bind the host's node, as
			// Podman does rootless.
			s.Mounts = append(s.Mounts, specs.Mount{Destination: d.PathInContainer, Type: "bind", Source: d.PathOnHost, Options: []string{"rbind", "nosuid", "noexec"}})
			continue
		}
		s.Linux.Devices = append(s.Linux.Devices, dev)
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{
			Allow: true, Type: dev.Type, Major: ptr(dev.Major), Minor: ptr(dev.Minor), Access: d.CgroupPermissions,
		})
	}
	for _, u := range h.Ulimits {
		if err := checkUlimit(u); err != nil {
			return err
		}
		rl, _ := u.GetRlimit()
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{
			Type: "RLIMIT_" + strings.ToUpper(u.Name), Hard: rl.Hard, Soft: rl.Soft,
		})
	}
	for kv, v := range h.Sysctls {
		if s.Linux.Sysctl == nil {
			s.Linux.Sysctl = map[string]string{}
		}
		s.Linux.Sysctl[kv] = v
	}
	if h.ShmSize > 0 {
		for i, m := range s.Mounts {
			if m.Destination != "/dev/shm" || m.Type != "tmpfs" {
				continue
			}
			opts := []string{}
			for _, o := range m.Options {
				if !strings.HasPrefix(o, "size=") {
					opts = append(opts, o)
				}
			}
			s.Mounts[i].Options = append(opts, fmt.Sprintf("size=%dk", (h.ShmSize+1023)/1024))
		}
	}
	if h.OomScoreAdj != 0 {
		s.Process.OOMScoreAdj = ptr(h.OomScoreAdj)
	}
	return nil
}

// CgroupsPath is the container's cgroup below each hierarchy's root:
// /skiff/<id>, or <cgroup-parent>/<id> as Docker's cgroupfs driver does.
func CgroupsPath(c *Container) string {
	parent := c.HostConfig.CgroupParent
	if parent == "" {
		parent = "/skiff"
	}
	return filepath.Join("/", parent, c.ID)
}

// CgroupHandle is what isolate needs to find c's cgroup (stats, update,
// cleanup) without building its whole spec.
func CgroupHandle(c *Container) *isolate.Container {
	return &isolate.Container{ID: c.ID, Spec: &specs.Spec{Linux: &specs.Linux{CgroupsPath: CgroupsPath(c)}}}
}
