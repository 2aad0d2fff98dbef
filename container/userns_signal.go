package container

// Signalling across rootless namespaces. A rootless CLI that mutates the
// store runs in a user namespace of its own (engine/rootless.go), a
// sibling of the namespaces earlier invocations gave their containers.
// Root of a sibling namespace may not signal a container process that runs
// as another id (kill(2) needs equal uids or CAP_KILL in the target's
// namespace), but the host-side parent, which owns every such namespace,
// may: so the child asks it over a socket the parent serves.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// hostKillEnv names the fd of the child's end of the socket.
const hostKillEnv = "_SKIFF_HOSTKILL_FD"

var hostKill struct {
	sync.Mutex
	f *os.File
}

// HostKillPair returns the parent's and the child's ends of the socket;
// the caller passes the child's as an extra file and HostKillEnv(fd) in its
// environment.
func HostKillPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(fds[0]), "hostkill"), os.NewFile(uintptr(fds[1]), "hostkill"), nil
}

// HostKillEnv is the environment entry that tells the child its fd.
func HostKillEnv(fd int) string { return hostKillEnv + "=" + strconv.Itoa(fd) }

// TakeHostKill, called early in the child, adopts the socket and hides it
// from everything the child starts (supervisors, containers).
func TakeHostKill() {
	v := os.Getenv(hostKillEnv)
	if v == "" {
		return
	}
	os.Unsetenv(hostKillEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return
	}
	unix.CloseOnExec(fd)
	hostKill.f = os.NewFile(uintptr(fd), "hostkill")
}

// ServeHostKill answers the child's requests ("pid start sig") until the
// socket closes; a process no longer started at start counts as gone.
func ServeHostKill(f *os.File) {
	buf := make([]byte, 128)
	for {
		n, err := f.Read(buf)
		if err != nil || n == 0 {
			return
		}
		if req, ok := bytes.CutPrefix(buf[:n], []byte(rootRequest)); ok {
			if serveRoot(f, req) != nil {
				return
			}
			continue
		}
		var pid int
		var start uint64
		var sig int
		errno := syscall.Errno(0)
		if _, err := fmt.Sscan(string(buf[:n]), &pid, &start, &sig); err != nil || pid <= 0 {
			errno = unix.EINVAL
		} else if !Alive(pid, start) {
			errno = unix.ESRCH
		} else if err := unix.Kill(pid, syscall.Signal(sig)); err != nil {
			errno, _ = err.(syscall.Errno)
		}
		if _, err := f.Write([]byte(strconv.Itoa(int(errno)))); err != nil {
			return
		}
	}
}

// KillProcess sends sig to pid, which must still be the process started at
// start (0: any). When this process may not, it asks the host-side parent
// (see above).
func KillProcess(pid int, start uint64, sig syscall.Signal) error {
	if !Alive(pid, start) {
		return unix.ESRCH
	}
	err := unix.Kill(pid, sig)
	if !errors.Is(err, unix.EPERM) {
		return err
	}
	hostKill.Lock()
	defer hostKill.Unlock()
	if hostKill.f == nil {
		return err
	}
	if _, werr := fmt.Fprintf(hostKill.f, "%d %d %d", pid, start, int(sig)); werr != nil {
		return err
	}
	buf := make([]byte, 32)
	n, rerr := hostKill.f.Read(buf)
	if rerr != nil {
		return err
	}
	code, _ := strconv.Atoi(string(buf[:n]))
	if code == 0 {
		return nil
	}
	return syscall.Errno(code)
}
