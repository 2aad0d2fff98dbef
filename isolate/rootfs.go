package isolate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// setupRootfs builds the container's filesystem in its new mount
// namespace and pivots into it.
func setupRootfs(cfg *stageConfig) error {
	spec := cfg.Spec
	if !hasNewNS(spec, specs.MountNamespace) {
		return errors.New("isolate: a container needs its own mount namespace")
	}
	// Nothing mounted here may propagate back to the host.
	prop := uintptr(unix.MS_REC | unix.MS_PRIVATE)
	if p, ok := propagationFlags[spec.Linux.RootfsPropagation]; ok {
		prop = p
	}
	if err := unix.Mount("", "/", "", prop, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	root, err := filepath.Abs(spec.Root.Path)
	if err != nil {
		return err
	}
	if cfg.Rootfs != nil {
		if _, err := mountRootfs(cfg.Rootfs, root, cfg.Rootless, cfg.FuseFd); err != nil {
			return err
		}
	}
	// pivot_root needs the new root to be a mount point.
	if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind rootfs: %w", err)
	}
	for _, m := range spec.Mounts {
		if err := mountEntry(root, m, cfg); err != nil {
			return err
		}
	}
	if err := setupDev(root, spec); err != nil {
		return err
	}
	if err := pivotRoot(root); err != nil {
		return err
	}
	for k, v := range spec.Linux.Sysctl {
		p := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := os.WriteFile(p, []byte(v), 0); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
		}
	}
	for _, p := range spec.Linux.MaskedPaths {
		if err := maskPath(p); err != nil {
			return err
		}
	}
	for _, p := range spec.Linux.ReadonlyPaths {
		if err := readonlyPath(p); err != nil {
			return err
		}
	}
	if spec.Root.Readonly {
		flags := uintptr(unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY) | lockedFlags("/")
		if err := unix.Mount("", "/", "", flags, ""); err != nil {
			return fmt.Errorf("remount rootfs read-only: %w", err)
		}
	}
	return nil
}

// mountOverlay mounts the container's overlay at root; rootless, the
// overlay keeps its xattrs in user.* (userxattr, kernel 5.11+).
func mountOverlay(m *specs.Mount, root string, rootless bool) error {
	flags, _, data := parseMountOptions(m.Options)
	typ := m.Type
	if typ == "" {
		typ = "overlay"
	}
	if len(data) > maxMountData {
		data = shortenLowerdirs(data)
	}
	// Inside a user namespace overlay mounts without userxattr too, but then
	// it ignores user.overlay.opaque and opaque directories from rootless
	// layers leak their lower contents. So ask for it first, and fall back
	// only for kernels older than 5.11 that do not know the option.
	withXattr := rootless && typ == "overlay" && !strings.Contains(data, "userxattr")
	var err error
	if withXattr {
		err = unix.Mount(m.Source, root, typ, flags, data+",userxattr")
	}
	if !withXattr || err == unix.EINVAL {
		err = unix.Mount(m.Source, root, typ, flags, data)
	}
	if err != nil {
		return fmt.Errorf("mount rootfs overlay at %s: %w", root, err)
	}
	return nil
}

// maxMountData is what mount(2) takes of its data argument (one page, less
// room for the userxattr retry).
const maxMountData = 4000

// shortenLowerdirs makes lowerdir paths relative to their common parent and
// moves there (overlayfs resolves them against the cwd at mount time), so
// images with many layers fit in one page of mount options.
func shortenLowerdirs(data string) string {
	opts := strings.Split(data, ",")
	for i, o := range opts {
		v, ok := strings.CutPrefix(o, "lowerdir=")
		if !ok {
			continue
		}
		dirs := strings.Split(v, ":")
		common := filepath.Dir(dirs[0])
		for _, d := range dirs {
			for common != "/" && !strings.HasPrefix(d, common+"/") {
				common = filepath.Dir(common)
			}
		}
		if unix.Chdir(common) != nil {
			return data
		}
		for j, d := range dirs {
			dirs[j], _ = filepath.Rel(common, d)
		}
		opts[i] = "lowerdir=" + strings.Join(dirs, ":")
	}
	return strings.Join(opts, ",")
}

// mountEntry mounts one of the spec's mounts inside root.
func mountEntry(root string, m specs.Mount, cfg *stageConfig) error {
	dest, err := secureJoin(root, m.Destination)
	if err != nil {
		return err
	}
	flags, prop, data := parseMountOptions(m.Options)
	if m.Type == "bind" || flags&unix.MS_BIND != 0 {
		err = bindMount(m.Source, dest, flags)
	} else {
		err = fsMount(m, dest, flags, data, cfg)
	}
	if err != nil {
		return fmt.Errorf("mount %s on %s: %w", m.Source, m.Destination, err)
	}
	for _, p := range prop {
		if err := unix.Mount("", dest, "", p, ""); err != nil {
			return fmt.Errorf("set propagation of %s: %w", m.Destination, err)
		}
	}
	return nil
}

// bindMount binds src (a file or a directory) onto dest, then applies
// flags such as ro, which a bind mount only takes on a remount.
func bindMount(src, dest string, flags uintptr) error {
	if err := mkTarget(src, dest); err != nil {
		return err
	}
	if err := unix.Mount(src, dest, "", unix.MS_BIND|flags&unix.MS_REC, ""); err != nil {
		return err
	}
	if rest := flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT); rest != 0 {
		rest |= lockedFlags(dest)
		if err := unix.Mount("", dest, "", unix.MS_BIND|unix.MS_REMOUNT|rest, ""); err != nil {
			return fmt.Errorf("remount: %w", err)
		}
	}
	return nil
}

// mkTarget creates dest as a directory or an empty file, like src.
func mkTarget(src, dest string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return os.MkdirAll(dest, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(dest, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// fsMount mounts a filesystem (proc, sysfs, tmpfs, devpts, mqueue,
// cgroup...), with the fallbacks a user namespace needs.
func fsMount(m specs.Mount, dest string, flags uintptr, data string, cfg *stageConfig) error {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	if m.Type == "cgroup" || m.Type == "cgroup2" {
		return mountCgroupfs(dest, flags, cfg.CgroupV2)
	}
	err := unix.Mount(m.Source, dest, m.Type, flags, data)
	if err == nil || !cfg.Rootless {
		return err
	}
	switch m.Type {
	case "sysfs", "mqueue":
		// Not ours to mount without owning the net (ipc) namespace: bind
		// the host's, read-only.
		return bindMount("/"+strings.TrimPrefix(m.Destination, "/"), dest, unix.MS_REC|unix.MS_RDONLY|flags&(unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC))
	case "devpts":
		// gid=5 may not be mapped.
		var opts []string
		for o := range strings.SplitSeq(data, ",") {
			if !strings.HasPrefix(o, "gid=") {
				opts = append(opts, o)
			}
		}
		return unix.Mount(m.Source, dest, m.Type, flags, strings.Join(opts, ","))
	}
	return err
}

// mountCgroupfs shows the container its own cgroup (the cgroup namespace
// roots it there): cgroup2 on a unified host, else a tmpfs with one v1
// hierarchy per controller.
func mountCgroupfs(dest string, flags uintptr, v2 bool) error {
	if v2 {
		return unix.Mount("cgroup2", dest, "cgroup2", flags, "")
	}
	if err := unix.Mount("tmpfs", dest, "tmpfs", flags&^unix.MS_RDONLY, "mode=755"); err != nil {
		return err
	}
	entries, _ := os.ReadDir(cgroupRoot)
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "unified" {
			continue
		}
		var st unix.Statfs_t
		if unix.Statfs(filepath.Join(cgroupRoot, e.Name()), &st) != nil || st.Type != unix.CGROUP_SUPER_MAGIC {
			continue
		}
		opt := e.Name()
		if opt == "systemd" {
			opt = "none,name=systemd"
		}
		d := filepath.Join(dest, e.Name())
		os.MkdirAll(d, 0o755)
		// Best effort: a hierarchy that cannot be mounted stays empty.
		if unix.Mount("cgroup", d, "cgroup", flags, opt) != nil {
			os.Remove(d)
		}
	}
	if flags&unix.MS_RDONLY != 0 {
		return unix.Mount("", dest, "", unix.MS_REMOUNT|flags, "mode=755")
	}
	return nil
}

// pivotRoot makes root the process's "/" and detaches the old root
// (runc's way: pivot_root(".", ".") needs no directory for the old root).
func pivotRoot(root string) error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(oldroot)
	if err := unix.Chdir(root); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return err
	}
	// Keep the unmount from propagating to the host's mounts.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root slave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount old root: %w", err)
	}
	return unix.Chdir("/")
}

// maskPath hides p: /dev/null over a file, an empty read-only tmpfs over a
// directory.
func maskPath(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return nil // nothing to hide
	}
	if fi.IsDir() {
		err = unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, "")
	} else {
		err = unix.Mount("/dev/null", p, "", unix.MS_BIND, "")
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("mask %s: %w", p, err)
	}
	return nil
}

// readonlyPath makes p read-only with a bind mount onto itself.
func readonlyPath(p string) error {
	if _, err := os.Stat(p); err != nil {
		return nil
	}
	if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("readonly %s: %w", p, err)
	}
	flags := uintptr(unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY) | lockedFlags(p)
	if err := unix.Mount("", p, "", flags, ""); err != nil {
		return fmt.Errorf("readonly %s: %w", p, err)
	}
	return nil
}
