package container

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/isolate"
)

// A View is a container's filesystem as cp and export see it, at Root: a
// running container's own root (its volumes included), the vfs driver's
// copy, else a temporary mount of its layers by the container's storage
// driver. Paths inside Root must be resolved with securejoin: symlinks in
// it are the container's.
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
// root when it runs (cp). Otherwise, and for a container that is not
// running, a vfs container's copy is used as it is (it is the container's
// root filesystem itself), and an overlay one's layers are mounted under
// the run dir with the driver the container uses (kernel overlay, else
// fuse-overlayfs, whose upper dirs the kernel cannot read): read-only with
// the upper dir as the top lower layer when writable is false (no clash
// with the running container's own mount), else read-write on the upper
// dir (the caller holds the container's lock, so start cannot mount it
// too). Where no overlay can be mounted, the vfs copy is made, as the
// container's start would. Mounting needs root or a user namespace with
// its own mount namespace (the rootless CLI re-exec gives cp and export
// one).
func OpenView(c *Container, runDir string, live, writable bool) (*View, error) {
	if live && c.IsRunning() && Alive(c.State.Pid, c.State.PidStart) {
		if v := liveView(c); v != nil {
			return v, nil
		}
	}
	if dir := CopiedRootfs(c); dir != "" {
		return &View{Root: dir}, nil
	}
	if err := PrepareRootfs(c); err != nil { // a container that never ran has none
		return nil, err
	}
	return mountView(c, runDir, writable)
}

// liveView is the running container's root: /proc/<pid>/root, or,
// rootless, a descriptor of it from the host-side parent (the container's
// namespace is a sibling of this one); nil where neither can be had, or
// where its files cannot be reached: a rootless fuse-overlayfs mount
// answers only processes of the container's own user namespace.
func liveView(c *Container) *View {
	root := "/proc/" + strconv.Itoa(c.State.Pid) + "/root"
	if _, err := os.Stat(root + "/."); err == nil {
		return &View{Root: root, Live: true}
	}
	f, err := HostOpenRoot(c.State.Pid, c.State.PidStart)
	if err != nil {
		return nil
	}
	root = "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	if _, err := os.Stat(root + "/."); err != nil {
		f.Close()
		return nil
	}
	return &View{Root: root, Live: true, release: func() { f.Close() }}
}

// viewMounters mount a view of c's layers at dir by storage driver and
// return what unmounts it.
var viewMounters = map[string]func(c *Container, dir string, writable bool) (func(), error){
	isolate.DriverOverlay:       mountOverlayView,
	isolate.DriverFuseOverlayfs: mountFuseView,
}

// mountView mounts c's layers with its driver, or the first of the chain
// that works when none was forced, as isolate does at start.
func mountView(c *Container, runDir string, writable bool) (*View, error) {
	chain := []string{c.Rootfs.Driver}
	if c.Rootfs.Driver == "" {
		chain = StorageDrivers
	}
	var errs []error
	for _, driver := range chain {
		if driver == isolate.DriverVFS {
			dir, err := isolate.CopyRootfs(RootfsMount(c))
			if err != nil {
				return nil, err
			}
			return &View{Root: dir}, nil
		}
		v, err := mountViewWith(c, runDir, driver, writable)
		if err == nil {
			return v, nil
		}
		errs = append(errs, err)
		if driver == isolate.DriverOverlay && !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENODEV) {
			break // a failure no other driver mends
		}
	}
	return nil, fmt.Errorf("mount the container's filesystem: %w", errors.Join(errs...))
}

// mountViewWith mounts c's layers on a new dir under runDir with driver.
func mountViewWith(c *Container, runDir, driver string, writable bool) (*View, error) {
	mount, ok := viewMounters[driver]
	if !ok {
		return nil, fmt.Errorf("unknown storage driver %q", driver)
	}
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(runDir, "view-")
	if err != nil {
		return nil, err
	}
	unmountFn, err := mount(c, dir, writable)
	if err != nil {
		os.Remove(dir)
		return nil, err
	}
	var once sync.Once
	unmount := func() {
		once.Do(func() {
			unmountFn()
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

// mountOverlayView mounts c's layers with the kernel's overlayfs.
func mountOverlayView(c *Container, dir string, writable bool) (func(), error) {
	data := overlayData(c, writable)
	// Rootless layers keep whiteouts and opaque marks in user.* xattrs
	// (as isolate mounts them); kernels before 5.11 lack the option.
	err := error(unix.EINVAL)
	if InUserNS() {
		err = unix.Mount("overlay", dir, "overlay", 0, data+",userxattr")
	}
	if err == unix.EINVAL {
		err = unix.Mount("overlay", dir, "overlay", 0, data)
	}
	if err != nil {
		return nil, fmt.Errorf("overlay: %w", err)
	}
	return func() { unix.Unmount(dir, unix.MNT_DETACH) }, nil
}

// mountFuseView serves c's layers with fuse-overlayfs, which reads its own
// upper dirs' marks (opaque files and xattrs the kernel ignores). The
// daemon stays in the foreground as our child: killed with us, and waited
// for once unmounted, so none outlives the command.
func mountFuseView(c *Container, dir string, writable bool) (func(), error) {
	bin, err := exec.LookPath("fuse-overlayfs")
	if err != nil {
		return nil, fmt.Errorf("fuse-overlayfs: %w", err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-f", "-o", overlayData(c, writable), dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("fuse-overlayfs: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		unix.Unmount(dir, unix.MNT_DETACH)
		select {
		case <-exited:
		case <-time.After(2 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var fs unix.Statfs_t
		if unix.Statfs(dir, &fs) == nil && fs.Type == unix.FUSE_SUPER_MAGIC {
			return stop, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("fuse-overlayfs: %s", strings.TrimSpace(out.String()))
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return nil, errors.New("fuse-overlayfs: no answer")
		}
	}
}

// overlayData is the mount options for a view of c's layers (kernel
// overlay and fuse-overlayfs take the same ones).
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
