package isolate

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Storage drivers for a container's root filesystem, as Podman names them.
// With none forced they are tried in this order: the kernel's overlayfs,
// fuse-overlayfs where the kernel refuses (rootless before 5.11), and a
// plain copy of the layers where neither can be mounted.
const (
	DriverOverlay       = "overlay"
	DriverFuseOverlayfs = "fuse-overlayfs"
	DriverVFS           = "vfs"
)

// Options of the Rootfs mount that are skiff's, not the filesystem's.
const (
	// OptDriver forces one storage driver (no fallback).
	OptDriver = "x-skiff.driver="
	// OptCopyDir is where the vfs driver materialises the merged rootfs.
	// Once it exists the container keeps running on it, whatever could be
	// mounted later, so its changes are never split between two places.
	OptCopyDir = "x-skiff.copydir="
)

// driverChain is the drivers to try for forced ("" for automatic); vfs
// only when a copy dir is known.
func driverChain(forced string, canCopy bool) []string {
	if forced != "" {
		return []string{forced}
	}
	chain := []string{DriverOverlay, DriverFuseOverlayfs}
	if canCopy {
		chain = append(chain, DriverVFS)
	}
	return chain
}

// fallsBack reports whether driver failing with err lets the next driver
// try: the kernel refusing overlay (no permission in a user namespace, an
// option it does not know, no overlay module), or fuse-overlayfs missing
// or failing to mount.
func fallsBack(driver string, err error) bool {
	if driver == DriverOverlay {
		return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENODEV)
	}
	return driver == DriverFuseOverlayfs
}

// rootfsMounters mount the container's rootfs by driver; a table so the
// fallback order can be tested against failing kernels.
var rootfsMounters = map[string]func(r *rootfsPlan, root string) error{
	DriverOverlay:       func(r *rootfsPlan, root string) error { return mountOverlay(r.mount, root, r.rootless) },
	DriverFuseOverlayfs: mountFuseOverlay,
	DriverVFS:           mountCopy,
}

// rootfsPlan is the Rootfs mount with skiff's own options taken out.
type rootfsPlan struct {
	mount    *specs.Mount
	driver   string // forced, or ""
	copyDir  string
	rootless bool
	fuseFd   int // /dev/fuse, from the parent; 0: none
}

func planRootfs(m *specs.Mount) *rootfsPlan {
	r := &rootfsPlan{mount: &specs.Mount{Destination: m.Destination, Type: m.Type, Source: m.Source}}
	for _, o := range m.Options {
		switch {
		case strings.HasPrefix(o, OptDriver):
			r.driver = strings.TrimPrefix(o, OptDriver)
		case strings.HasPrefix(o, OptCopyDir):
			r.copyDir = strings.TrimPrefix(o, OptCopyDir)
		default:
			r.mount.Options = append(r.mount.Options, o)
		}
	}
	return r
}

// mountRootfs mounts the container's rootfs at root with the first driver
// of the chain that works, and returns that driver.
func mountRootfs(m *specs.Mount, root string, rootless bool, fuseFd int) (string, error) {
	r := planRootfs(m)
	r.rootless, r.fuseFd = rootless, fuseFd
	if fuseFd > 0 {
		// Never left to the container process.
		defer unix.Close(fuseFd)
	}
	if r.copyDir != "" && r.driver != DriverOverlay && r.driver != DriverFuseOverlayfs {
		if _, err := os.Stat(r.copyDir); err == nil {
			return DriverVFS, bindRootfs(r.copyDir, root)
		}
	}
	var errs []error
	for _, d := range driverChain(r.driver, r.copyDir != "") {
		mount, ok := rootfsMounters[d]
		if !ok {
			return "", fmt.Errorf("unknown storage driver %q", d)
		}
		err := mount(r, root)
		if err == nil {
			return d, nil
		}
		errs = append(errs, err)
		if !fallsBack(d, err) {
			break
		}
	}
	return "", errors.Join(errs...)
}

// mountFuseOverlay mounts a fuse filesystem on the /dev/fuse the parent
// opened and runs fuse-overlayfs on it (libfuse's /dev/fd/N mount point:
// the caller mounted), inside the container's user and mount namespaces.
// It daemonizes once it serves; the daemon lives in the container's pid
// namespace and dies with it.
func mountFuseOverlay(r *rootfsPlan, root string) error {
	if r.fuseFd <= 0 {
		return errors.New("mount rootfs with fuse-overlayfs: /dev/fuse could not be opened")
	}
	bin, err := exec.LookPath("fuse-overlayfs")
	if err != nil {
		if bin, err = exec.LookPath("/usr/bin/fuse-overlayfs"); err != nil {
			return fmt.Errorf("mount rootfs with fuse-overlayfs: %w", err)
		}
	}
	// allow_other: container processes run as other ids than the daemon;
	// default_permissions: the kernel checks modes, not the daemon (root).
	data := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions", r.fuseFd)
	if err := unix.Mount("fuse-overlayfs", root, "fuse.fuse-overlayfs", unix.MS_NOSUID|unix.MS_NODEV, data); err != nil {
		return fmt.Errorf("mount rootfs with fuse-overlayfs: %w", err)
	}
	_, _, opts := parseMountOptions(r.mount.Options)
	cmd := exec.Command(bin, "-o", opts, "/dev/fd/3")
	cmd.ExtraFiles = []*os.File{os.NewFile(uintptr(r.fuseFd), "/dev/fuse")}
	// Its own mount namespace: pivot_root would otherwise make the daemon's
	// root its own mount, and it would deadlock on its first path lookup.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err == nil {
		err = waitFuse(root)
	}
	if err != nil {
		unix.Unmount(root, unix.MNT_DETACH)
		return fmt.Errorf("mount rootfs with fuse-overlayfs: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// waitFuse waits for the daemon to answer at root.
func waitFuse(root string) error {
	for i := 0; i < 400; i++ {
		var st unix.Stat_t
		if unix.Stat(root+"/.", &st) == nil && st.Ino != 0 {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("no answer")
}

// openFuse opens /dev/fuse for a container whose rootfs may need
// fuse-overlayfs, as the child's next extra file (launch numbers them
// from configFd+2). A failure to open is the child's to report, if it
// comes to fuse at all.
func openFuse(cfg *stageConfig) []*os.File {
	if cfg.Rootfs == nil {
		return nil
	}
	r := planRootfs(cfg.Rootfs)
	if r.driver != "" && r.driver != DriverFuseOverlayfs {
		return nil
	}
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return nil
	}
	cfg.FuseFd = configFd + 2
	return []*os.File{f}
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// mountCopy materialises the merged rootfs (once) and binds it at root.
func mountCopy(r *rootfsPlan, root string) error {
	if err := r.ensureCopy(); err != nil {
		return err
	}
	return bindRootfs(r.copyDir, root)
}

// CopyRootfs materialises the vfs driver's copy of the rootfs m describes
// (a Rootfs mount with OptCopyDir) unless it exists, and returns its
// directory: cp and export of a container that never ran on vfs see, and
// change, the tree its first start binds.
func CopyRootfs(m *specs.Mount) (string, error) {
	r := planRootfs(m)
	if err := r.ensureCopy(); err != nil {
		return "", err
	}
	return r.copyDir, nil
}

// ensureCopy makes the copy from the lower dirs (base first) and the upper
// dir (changes made before, under an overlay or by cp) unless it exists.
func (r *rootfsPlan) ensureCopy() error {
	if r.copyDir == "" {
		return errors.New("vfs storage driver: no directory for the copy")
	}
	if _, err := os.Stat(r.copyDir); !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var layers []string
	for _, o := range r.mount.Options {
		if v, ok := strings.CutPrefix(o, "lowerdir="); ok {
			dirs := strings.Split(v, ":")
			for i := len(dirs) - 1; i >= 0; i-- { // overlay lists top-most first
				layers = append(layers, dirs[i])
			}
		}
	}
	for _, o := range r.mount.Options {
		if v, ok := strings.CutPrefix(o, "upperdir="); ok {
			layers = append(layers, v)
		}
	}
	if err := materialise(layers, r.copyDir); err != nil {
		return fmt.Errorf("vfs storage driver: %w", err)
	}
	return nil
}

func bindRootfs(dir, root string) error {
	if err := unix.Mount(dir, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind rootfs %s: %w", dir, err)
	}
	return nil
}
