package container

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/isolate"
	"github.com/skiff-dev/skiff/store"
)

// StorageDrivers are the values of --storage-driver / SKIFF_STORAGE_DRIVER.
var StorageDrivers = []string{isolate.DriverOverlay, isolate.DriverFuseOverlayfs, isolate.DriverVFS}

// CheckStorageDriver rejects a driver skiff does not have ("" is automatic).
func CheckStorageDriver(d string) error {
	if d == "" {
		return nil
	}
	for _, k := range StorageDrivers {
		if d == k {
			return nil
		}
	}
	return store.Invalid("unknown storage driver %q (overlay, fuse-overlayfs or vfs)", d)
}

// CopyRootfsDir is where the vfs driver keeps the container's merged
// rootfs: <root>/containers/<id>/rootfs, next to the overlay dirs.
func CopyRootfsDir(c *Container) string {
	return filepath.Join(filepath.Dir(filepath.Dir(c.Rootfs.UpperDir)), "rootfs")
}

// CopiedRootfs returns the vfs copy the container runs on, or "" when it
// runs on an overlay (its changes are then in the upper dir).
func CopiedRootfs(c *Container) string {
	if c.Rootfs.UpperDir == "" || c.Rootfs.Driver == isolate.DriverOverlay || c.Rootfs.Driver == isolate.DriverFuseOverlayfs {
		return ""
	}
	d := CopyRootfsDir(c)
	if _, err := os.Stat(d); err != nil {
		return ""
	}
	return d
}

// ExpectedStorageDriver is the driver new containers get (for info): the
// forced one, else a guess at the first of the chain that works here,
// without mounting anything: overlay where the kernel has it (rootless
// from 5.11), fuse-overlayfs where it and /dev/fuse are usable, else vfs.
func ExpectedStorageDriver(forced string, rootless bool) string {
	if forced != "" {
		return forced
	}
	if fs, err := os.ReadFile("/proc/filesystems"); err == nil && bytes.Contains(fs, []byte("\toverlay\n")) &&
		(!rootless || kernelAtLeast(5, 11)) {
		return isolate.DriverOverlay
	}
	if _, err := exec.LookPath("fuse-overlayfs"); err == nil && unix.Access("/dev/fuse", unix.R_OK|unix.W_OK) == nil {
		return isolate.DriverFuseOverlayfs
	}
	return isolate.DriverVFS
}

func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	var ma, mi int
	fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi)
	return ma > major || ma == major && mi >= minor
}
