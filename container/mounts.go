package container

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/skiff-dev/skiff/isolate"
	"github.com/skiff-dev/skiff/store"
)

// mounts is Docker's default mount list, then /etc files, then the user's
// binds, volumes and tmpfs mounts (sorted so parents come before children).
// ttyGid says whether gid 5 (tty) exists in the container's user namespace.
func mounts(c *Container, rootless, ttyGid bool) ([]specs.Mount, error) {
	hostNet := c.HostConfig.NetworkMode == "host"
	ptsOpts := []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}
	if ttyGid {
		ptsOpts = append(ptsOpts, "gid=5") // unmapped in a single-id rootless map
	}
	proc := specs.Mount{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}}
	if rootless && c.HostConfig.PidMode == "host" {
		// A user namespace may not mount the host PID namespace's proc
		// afresh: bind the host's, as podman does.
		proc = specs.Mount{Destination: "/proc", Type: "bind", Source: "/proc", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
	}
	shm := specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}
	mqueue := []specs.Mount{{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}}}
	if c.HostConfig.IpcMode == "host" {
		// The host's IPC objects: its /dev/shm and, where the host has
		// one, its /dev/mqueue (a new mqueue mount would need an IPC
		// namespace of our own).
		shm = specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
		mqueue = nil
		if fi, err := os.Stat("/dev/mqueue"); err == nil && fi.IsDir() {
			mqueue = []specs.Mount{{Destination: "/dev/mqueue", Type: "bind", Source: "/dev/mqueue", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}}
		}
	}
	ms := []specs.Mount{
		proc,
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: ptsOpts},
		sysMount(rootless && hostNet, c.HostConfig.Privileged),
		shm,
		cgroupMount(rootless, c.HostConfig.Privileged),
	}
	ms = append(ms, mqueue...)
	// The /etc files and the user's mounts go in one list sorted by depth,
	// so a volume on /etc comes before (and does not hide) /etc/hosts.
	var extra []specs.Mount
	if c.HostsPath != "" {
		for _, f := range []struct{ dst, src string }{
			{"/etc/hosts", c.HostsPath}, {"/etc/hostname", c.HostnamePath}, {"/etc/resolv.conf", c.ResolvConfPath},
		} {
			if userMounted(c, f.dst) {
				continue
			}
			extra = append(extra, specs.Mount{Destination: f.dst, Type: "bind", Source: f.src, Options: []string{"rbind", "rprivate"}})
		}
	}
	if c.HostConfig.Init != nil && *c.HostConfig.Init {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("--init: find skiff's binary: %w", err)
		}
		extra = append(extra, specs.Mount{Destination: InitPath, Type: "bind", Source: self, Options: []string{"bind", "ro", "nosuid", "nodev"}})
	}
	user, err := userMounts(c)
	if err != nil {
		return nil, err
	}
	extra = append(extra, user...)
	sort.SliceStable(extra, func(i, j int) bool {
		return depth(extra[i].Destination) < depth(extra[j].Destination)
	})
	return append(ms, extra...), nil
}

func sysMount(bind, privileged bool) specs.Mount {
	ro := "ro"
	if privileged {
		ro = "rw"
	}
	if bind {
		// sysfs cannot be mounted in a user namespace that does not own the
		// network namespace; Podman binds the host's instead.
		return specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", ro}}
	}
	return specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", ro}}
}

func cgroupMount(rootless, privileged bool) specs.Mount {
	ro := "ro"
	if privileged {
		ro = "rw"
	}
	if rootless {
		return specs.Mount{Destination: "/sys/fs/cgroup", Type: "bind", Source: "/sys/fs/cgroup", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
	}
	return specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", ro}}
}

func userMounted(c *Container, dst string) bool {
	for _, m := range c.Mounts {
		if m.Destination == dst {
			return true
		}
	}
	_, ok := c.HostConfig.Tmpfs[dst]
	return ok
}

// userMounts turns the record's Mounts and Tmpfs into OCI mounts.
func userMounts(c *Container) ([]specs.Mount, error) {
	seen := map[string]bool{}
	var out []specs.Mount
	for _, m := range c.Mounts {
		if seen[m.Destination] {
			return nil, store.Invalid("Duplicate mount point: %s", m.Destination)
		}
		seen[m.Destination] = true
		if m.Source == "" {
			return nil, store.Invalid("mount %s has no source", m.Destination)
		}
		opts := []string{"rbind", propagation(m.Mode)}
		if !m.RW {
			opts = append(opts, "ro")
		}
		out = append(out, specs.Mount{Destination: m.Destination, Type: "bind", Source: m.Source, Options: opts})
	}
	for dst, o := range c.HostConfig.Tmpfs {
		if seen[dst] {
			return nil, store.Invalid("Duplicate mount point: %s", dst)
		}
		seen[dst] = true
		opts := []string{"nosuid", "nodev", "noexec"}
		if o != "" {
			opts = append(opts, strings.Split(o, ",")...)
		}
		out = append(out, specs.Mount{Destination: dst, Type: "tmpfs", Source: "tmpfs", Options: opts})
	}
	sort.SliceStable(out, func(i, j int) bool {
		return depth(out[i].Destination) < depth(out[j].Destination)
	})
	return out, nil
}

func depth(p string) int { return strings.Count(filepath.Clean(p), "/") }

// PlanRootfs sets the record's rootfs: the image layers (base first) under
// an upper/work dir in the container's directory, mounted at a point in
// its runtime directory. dir and runDir are Store.Dir and Store.RunDir.
func PlanRootfs(c *Container, layers []string, dir, runDir string) {
	c.Rootfs = Rootfs{
		LowerDirs: append([]string{}, layers...),
		UpperDir:  filepath.Join(dir, "overlay", "upper"),
		WorkDir:   filepath.Join(dir, "overlay", "work"),
		MergedDir: filepath.Join(runDir, "merged"),
	}
	if len(layers) == 0 {
		// overlayfs needs a lower dir; an image without layers gets an empty one.
		c.Rootfs.LowerDirs = []string{filepath.Join(dir, "overlay", "empty")}
	}
}

// RootfsMount is the overlay isolate mounts at Spec.Root.Path. overlayfs
// lists lower dirs top-most first, the reverse of the image's layer order.
func RootfsMount(c *Container) *specs.Mount {
	lower := make([]string, len(c.Rootfs.LowerDirs))
	for i, d := range c.Rootfs.LowerDirs {
		lower[len(lower)-1-i] = d
	}
	m := &specs.Mount{
		Destination: c.Rootfs.MergedDir,
		Type:        "overlay",
		Source:      "overlay",
		Options: []string{
			"lowerdir=" + strings.Join(lower, ":"),
			"upperdir=" + c.Rootfs.UpperDir,
			"workdir=" + c.Rootfs.WorkDir,
			isolate.OptCopyDir + CopyRootfsDir(c),
		},
	}
	if c.Rootfs.Driver != "" {
		m.Options = append(m.Options, isolate.OptDriver+c.Rootfs.Driver)
	}
	return m
}
