package isolate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultDevices are the nodes every container gets (runtime-spec's
// "Default Devices").
var defaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0},
}

var devSymlinks = [][2]string{
	{"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"},
	{"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
}

// setupDev fills a /dev that the spec mounts (a tmpfs) with device nodes
// and the usual symlinks (a terminal's /dev/console comes later, from
// setupConsole).
func setupDev(root string, spec *specs.Spec) error {
	if !mountsAt(spec, "/dev") {
		return nil
	}
	for _, d := range append(defaultDevices, spec.Linux.Devices...) {
		if err := makeDevice(root, d); err != nil {
			return err
		}
	}
	for _, l := range devSymlinks {
		os.Symlink(l[0], filepath.Join(root, l[1]))
	}
	if mountsAt(spec, "/dev/pts") {
		ptmx := filepath.Join(root, "/dev/ptmx")
		os.Remove(ptmx)
		if err := os.Symlink("pts/ptmx", ptmx); err != nil {
			return err
		}
	}
	return nil
}

func mountsAt(spec *specs.Spec, dest string) bool {
	for _, m := range spec.Mounts {
		if filepath.Clean(m.Destination) == dest {
			return true
		}
	}
	return false
}

// makeDevice creates a node; where mknod is not allowed (a user namespace)
// it binds the host's node instead.
func makeDevice(root string, d specs.LinuxDevice) error {
	dest, err := secureJoin(root, d.Path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(d.FileMode.Perm())
	}
	typ := map[string]uint32{"c": unix.S_IFCHR, "u": unix.S_IFCHR, "b": unix.S_IFBLK, "p": unix.S_IFIFO}[d.Type]
	if typ == 0 {
		return fmt.Errorf("device %s: unknown type %q", d.Path, d.Type)
	}
	err = unix.Mknod(dest, typ|mode, int(unix.Mkdev(uint32(d.Major), uint32(d.Minor))))
	if errors.Is(err, unix.EPERM) {
		return bindMount(d.Path, dest, 0)
	}
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("mknod %s: %w", d.Path, err)
	}
	if err := unix.Chmod(dest, mode); err != nil {
		return err
	}
	uid, gid := -1, -1
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	return os.Lchown(dest, uid, gid)
}
