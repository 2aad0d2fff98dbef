package container

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// A View is a container's filesystem as cp and export see it, at Root: a
// running container's own root (/proc/<pid>/root, its volumes included),
// else a temporary overlay mount of its layers. Paths inside Root must be
// resolved with securejoin: symlinks in it are the container's.
type View struct {
	Root    string
	Live    bool // the running container's root
	release func()
}

// Close unmounts what OpenView mounted.
func (v *View) Close() {
	if v.release != nil {
		v.release()
		v.release = nil
	}
}

// OpenView gives c's filesystem. live asks for the running container's
// root when it runs (cp); otherwise, and for a container that is not
// running, the overlay is mounted under the run dir: read-only with the
// upper dir as the top lower layer when writable is false (no clash with
// the running container's own mount), else read-write on the upper dir
// (the caller holds the container's lock, so start cannot mount it too).
// Mounting needs root or a user namespace with its own mount namespace
// (the rootless CLI re-exec gives cp and export one).
func OpenView(c *Container, runDir string, live, writable bool) (*View, error) {
	if live && c.IsRunning() && Alive(c.State.Pid, c.State.PidStart) {
		root := "/proc/" + strconv.Itoa(c.State.Pid) + "/root"
		if _, err := os.Stat(root); err == nil {
			return &View{Root: root, Live: true}, nil
		}
	}
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(runDir, "view-")
	if err != nil {
		return nil, err
	}
	data := overlayData(c, writable)
	// Rootless layers keep whiteouts and opaque marks in user.* xattrs
	// (as isolate mounts them); kernels before 5.11 lack the option.
	err = unix.EINVAL
	if InUserNS() {
		err = unix.Mount("overlay", dir, "overlay", 0, data+",userxattr")
	}
	if err == unix.EINVAL {
		err = unix.Mount("overlay", dir, "overlay", 0, data)
	}
	if err != nil {
		os.Remove(dir)
		return nil, fmt.Errorf("mount the container's filesystem: %w", err)
	}
	var once sync.Once
	unmount := func() {
		once.Do(func() {
			unix.Unmount(dir, unix.MNT_DETACH)
			os.Remove(dir)
		})
	}
	// The mount is in the caller's mount namespace (the host's, as root):
	// a closed pipe (export | head) or ^C must not leave it behind.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGPIPE, unix.SIGINT, unix.SIGTERM, unix.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-sigs:
				if sig == unix.SIGPIPE {
					continue // the write fails with EPIPE instead
				}
				unmount()
				os.Exit(128 + int(sig.(unix.Signal)))
			case <-done:
				return
			}
		}
	}()
	return &View{Root: dir, release: func() {
		signal.Stop(sigs)
		close(done)
		unmount()
	}}, nil
}

// overlayData is the mount options for a view of c's layers.
func overlayData(c *Container, writable bool) string {
	lower := make([]string, 0, len(c.Rootfs.LowerDirs)+1)
	if !writable {
		lower = append(lower, c.Rootfs.UpperDir)
	}
	for i := len(c.Rootfs.LowerDirs) - 1; i >= 0; i-- {
		lower = append(lower, c.Rootfs.LowerDirs[i])
	}
	if !writable && len(lower) == 1 {
		// overlayfs wants two lower dirs without an upper one.
		lower = append(lower, c.Rootfs.UpperDir)
	}
	data := "lowerdir=" + strings.Join(lower, ":")
	if writable {
		data += ",upperdir=" + c.Rootfs.UpperDir + ",workdir=" + c.Rootfs.WorkDir
	}
	return data
}
