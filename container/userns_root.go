package container

// A running container's root for a rootless cp. The CLI child runs in a
// user namespace of its own, a sibling of the container's, so the kernel
// refuses it /proc/<pid>/root (that needs CAP_SYS_PTRACE in the
// container's namespace). The host-side parent owns both namespaces and
// may open it: it hands the child an O_PATH descriptor over the host-kill
// socket (SCM_RIGHTS), and the child reaches the container's files
// through /proc/self/fd/N with its own capabilities, which cover them
// since every skiff namespace has the same id maps.

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// rootRequest prefixes a request for a container's root on the socket.
const rootRequest = "root "

// serveRoot answers a root request ("root pid start"): the errno as text,
// with the descriptor attached when it is 0.
func serveRoot(f *os.File, req []byte) error {
	var pid int
	var start uint64
	errno := syscall.Errno(0)
	fd := -1
	if _, err := fmt.Sscan(string(req), &pid, &start); err != nil || pid <= 0 {
		errno = unix.EINVAL
	} else if !Alive(pid, start) {
		errno = unix.ESRCH
	} else if fd, err = unix.Open("/proc/"+strconv.Itoa(pid)+"/root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		errno, _ = err.(syscall.Errno)
	}
	var oob []byte
	if fd >= 0 {
		defer unix.Close(fd)
		oob = unix.UnixRights(fd)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Write(func(s uintptr) bool {
		serr = unix.Sendmsg(int(s), []byte(strconv.Itoa(int(errno))), oob, nil, 0)
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	return err
}

// HostOpenRoot opens the root of the process pid (started at start)
// through the host-side parent; it fails where there is none (root, or a
// command not re-executed into a user namespace).
func HostOpenRoot(pid int, start uint64) (*os.File, error) {
	hostKill.Lock()
	defer hostKill.Unlock()
	if hostKill.f == nil {
		return nil, unix.EPERM
	}
	if _, err := fmt.Fprintf(hostKill.f, "%s%d %d", rootRequest, pid, start); err != nil {
		return nil, err
	}
	rc, err := hostKill.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	buf, oob := make([]byte, 32), make([]byte, unix.CmsgSpace(4))
	var n, oobn int
	var rerr error
	err = rc.Read(func(s uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(s), buf, oob, unix.MSG_CMSG_CLOEXEC)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, err
	}
	if code, _ := strconv.Atoi(string(bytes.TrimSpace(buf[:n]))); code != 0 {
		return nil, syscall.Errno(code)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("open the container's root: no descriptor from the parent")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("open the container's root: no descriptor from the parent")
	}
	return os.NewFile(uintptr(fds[0]), "root"), nil
}
