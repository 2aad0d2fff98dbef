package engine

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/container"
)

const noSubIDsNote = "no /etc/subuid or /etc/subgid range for this user: containers map only the user (as root)"

// rootlessInfo completes info: Docker's DriverStatus lines for overlay, and,
// when this process already runs inside a user namespace (`skiff unshare
// skiff info`), the maps read from the namespace itself, since
// container.IDMappings computes them from the host uid.
func rootlessInfo(in *Info) {
	in.DriverStatus = driverStatus(in.Root, in.Rootless)
	if !in.Rootless || !container.InUserNS() {
		return
	}
	in.UIDMap, in.GIDMap = readIDMap("/proc/self/uid_map"), readIDMap("/proc/self/gid_map")
	if len(in.UIDMap) < 2 {
		in.IDMapNote = noSubIDsNote
	}
}

// driverStatus describes how layers are stacked: overlay on the store's
// filesystem, with user.overlay.* xattrs (mount option userxattr) rootless
// and trusted.overlay.* as root; commit reads upper dirs natively.
func driverStatus(root string, rootless bool) [][2]string {
	xattr := "false"
	if rootless {
		xattr = "true"
	}
	return [][2]string{
		{"Backing Filesystem", backingFS(root)},
		{"Supports d_type", "true"},
		{"Native Overlay Diff", "true"},
		{"userxattr", xattr},
	}
}

// backingFS names the filesystem under dir as docker info does.
func backingFS(dir string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "unknown"
	}
	switch uint32(st.Type) {
	case unix.EXT4_SUPER_MAGIC:
		return "extfs"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs"
	}
	return "unknown"
}

// readIDMap renders a /proc map file as "container:host:size" entries.
func readIDMap(file string) []string {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			out = append(out, strings.Join(f, ":"))
		}
	}
	return out
}
