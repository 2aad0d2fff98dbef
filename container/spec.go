package container

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/skiff-dev/skiff/store"
)

// DefaultCaps is Docker's default capability set.
var DefaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// allCaps is every capability the kernel knows, for --privileged and
// --cap-add ALL, in bit order (CAP_CHOWN is bit 0).
var allCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// Docker's default masked and read-only paths.
var (
	maskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		"/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

// BuildSpec turns a record (its Config already merged with the image's by
// MergeImageConfig) into the OCI spec isolate runs. img may be nil; it is
// accepted so callers need not care which defaults were merged at create.
// It also (re)writes the container's hosts/hostname/resolv.conf files.
func BuildSpec(c *Container, img *v1.ConfigFile) (*specs.Spec, error) {
	s, err := newSpec(c)
	if err != nil {
		return nil, err
	}
	if c.HostsPath != "" {
		if err := WriteUserdata(c); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// newSpec is BuildSpec without writing anything.
func newSpec(c *Container) (*specs.Spec, error) {
	args := c.Config.Args()
	if len(args) == 0 {
		return nil, store.Invalid("no command specified")
	}
	if c.HostConfig.Init != nil && *c.HostConfig.Init {
		args = append([]string{InitPath, "--"}, args...)
	}
	user, err := resolveUserGroups(c.Rootfs, c.Config.User, c.HostConfig.GroupAdd)
	if err != nil {
		return nil, err
	}
	caps, err := Capabilities(c.HostConfig)
	if err != nil {
		return nil, err
	}
	// Rootless: either not root at all (isolate then creates the user
	// namespace from the spec's maps) or root inside a user namespace the
	// supervisor already runs in (the container shares it).
	newUserNS := os.Geteuid() != 0
	rootless := newUserNS || InUserNS()
	s := &specs.Spec{
		Version:  specs.Version,
		Hostname: c.Config.Hostname,
		Root:     &specs.Root{Path: c.Rootfs.MergedDir, Readonly: c.HostConfig.ReadonlyRootfs},
		Process: &specs.Process{
			Terminal: c.Config.Tty,
			Args:     args,
			Env:      processEnv(c, user.Home),
			Cwd:      cwd(c.Config.WorkingDir),
			User: specs.User{
				UID: user.UID, GID: user.GID, AdditionalGids: user.AdditionalGids,
				Umask: ptr(uint32(0o022)),
			},
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
		},
		Annotations: map[string]string{"org.skiff.container.id": c.ID},
		Linux: &specs.Linux{
			Namespaces: namespaces(c.HostConfig, newUserNS),
			Resources:  resources(c.HostConfig),
		},
	}
	if !c.HostConfig.Privileged {
		s.Linux.MaskedPaths = maskedPaths
		s.Linux.ReadonlyPaths = readonlyPaths
	}
	ttyGid := gidMapped(5)
	if newUserNS {
		s.Linux.UIDMappings, s.Linux.GIDMappings, ttyGid = IDMappings()
	}
	if s.Mounts, err = mounts(c, rootless, ttyGid); err != nil {
		return nil, err
	}
	if err := securityOpts(s, c.HostConfig); err != nil {
		return nil, err
	}
	if err := applyLimits(s, c); err != nil {
		return nil, err
	}
	return s, nil
}

func ptr[T any](v T) *T { return &v }

func cwd(dir string) string {
	if dir == "" {
		return "/"
	}
	return filepath.Clean("/" + dir)
}

// processEnv is Docker's container environment: PATH (if unset), HOSTNAME,
// TERM with a tty, HOME from passwd (if unset), then the record's Env.
func processEnv(c *Container, home string) []string {
	base := []string{"PATH=" + DefaultPath, "HOSTNAME=" + c.Config.Hostname}
	if c.Config.Tty {
		base = append(base, "TERM=xterm")
	}
	env := MergeEnv(base, c.Config.Env)
	for _, kv := range env {
		if strings.HasPrefix(kv, "HOME=") {
			return env
		}
	}
	return append(env, "HOME="+home)
}

// Capabilities applies --privileged, --cap-add and --cap-drop (names with
// or without CAP_, any case, or ALL) to Docker's default set, sorted.
func Capabilities(h HostConfig) ([]string, error) {
	if h.Privileged {
		return held(allCaps), nil
	}
	known := map[string]bool{}
	for _, c := range allCaps {
		known[c] = true
	}
	norm := func(list []string) (names []string, all bool, err error) {
		for _, n := range list {
			n = strings.ToUpper(strings.TrimSpace(n))
			if n == "ALL" {
				all = true
				continue
			}
			if !strings.HasPrefix(n, "CAP_") {
				n = "CAP_" + n
			}
			if !known[n] {
				return nil, false, store.Invalid("unknown capability: %q", n)
			}
			names = append(names, n)
		}
		return names, all, nil
	}
	add, addAll, err := norm(h.CapAdd)
	if err != nil {
		return nil, err
	}
	drop, dropAll, err := norm(h.CapDrop)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	if !dropAll {
		for _, c := range DefaultCaps {
			set[c] = true
		}
	}
	for _, c := range drop {
		delete(set, c)
	}
	if addAll {
		for _, c := range allCaps {
			set[c] = true
		}
	}
	for _, c := range add {
		set[c] = true
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	out = held(out)
	sort.Strings(out)
	return out, nil
}

// held keeps the capabilities in this process's bounding set: no process
// can grant more, so asking for one the host withholds (here, often
// CAP_SYS_RESOURCE) would only make the start fail.
func held(caps []string) []string {
	bnd, ok := boundingSet()
	if !ok {
		return caps
	}
	out := make([]string, 0, len(caps))
	for _, c := range caps {
		if bit := slices.Index(allCaps, c); bit < 0 || bnd&(1<<bit) != 0 {
			out = append(out, c)
		}
	}
	return out
}

func boundingSet() (uint64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// resources copies the record's limits (issue 7) and adds Docker's device
// cgroup rules: deny all, then allow the default devices and mknod.
func resources(h HostConfig) *specs.LinuxResources {
	r := &specs.LinuxResources{}
	if h.Resources != nil {
		cp := *h.Resources
		r = &cp
	}
	if h.Privileged {
		r.Devices = append([]specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}, r.Devices...)
		return r
	}
	dev := func(typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
		d := specs.LinuxDeviceCgroup{Allow: true, Type: typ, Access: access}
		if major >= 0 {
			d.Major = ptr(major)
		}
		if minor >= 0 {
			d.Minor = ptr(minor)
		}
		return d
	}
	defaults := []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		dev("c", -1, -1, "m"), dev("b", -1, -1, "m"),
		dev("c", 1, 3, "rwm"), dev("c", 1, 5, "rwm"), dev("c", 1, 7, "rwm"),
		dev("c", 1, 8, "rwm"), dev("c", 1, 9, "rwm"), dev("c", 5, 0, "rwm"),
		dev("c", 5, 1, "rwm"), dev("c", 5, 2, "rwm"), dev("c", 136, -1, "rwm"),
	}
	r.Devices = append(defaults, r.Devices...)
	return r
}

// SecOpts are the parsed --security-opt values.
type SecOpts struct {
	NoNewPrivileges bool
	Seccomp         string // "", "unconfined" or a profile file
}

// ParseSecurityOpts checks --security-opt values: no-new-privileges[=bool],
// seccomp=unconfined|<file>, and label/apparmor options (accepted, unused:
// skiff applies no LSM, as Podman on a host without one).
func ParseSecurityOpts(opts []string) (SecOpts, error) {
	var o SecOpts
	for _, opt := range opts {
		k, v, _ := strings.Cut(opt, "=")
		if k == "seccomp:" {
			k = "seccomp"
		}
		switch {
		case k == "no-new-privileges" && (v == "" || v == "true"):
			o.NoNewPrivileges = true
		case k == "no-new-privileges" && v == "false":
		case k == "seccomp" && v != "":
			o.Seccomp = v
		case k == "label" || k == "apparmor":
		default:
			return o, store.Invalid("invalid --security-opt: %q", opt)
		}
	}
	return o, nil
}

// securityOpts applies --security-opt: no-new-privileges, seccomp=unconfined
// or seccomp=<profile.json>; Docker's default seccomp profile otherwise.
func securityOpts(s *specs.Spec, h HostConfig) error {
	o, err := ParseSecurityOpts(h.SecurityOpt)
	if err != nil {
		return err
	}
	s.Process.NoNewPrivileges = o.NoNewPrivileges
	profile := o.Seccomp
	if h.Privileged || profile == "unconfined" {
		return nil
	}
	if profile == "" {
		s.Linux.Seccomp, err = seccomp.GetDefaultProfile(s)
	} else {
		var body []byte
		if body, err = os.ReadFile(profile); err != nil {
			return store.Invalid("opening seccomp profile (%s) failed: %v", profile, err)
		}
		s.Linux.Seccomp, err = seccomp.LoadProfile(string(body), s)
	}
	if err != nil {
		return fmt.Errorf("seccomp profile: %w", err)
	}
	return nil
}
