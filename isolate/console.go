package isolate

import (
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A process with Spec.Process.Terminal gets a pty from the container's own
// devpts instance, as runc's console socket does it: the stage opens the
// container's /dev/ptmx once it sees the container's mounts (an init after
// pivot_root, an exec stage after joining the mount namespace), sends the
// master to the caller over a socket (SCM_RIGHTS), makes the slave its
// stdio and controlling terminal, and (init only) binds it at
// /dev/console. So `tty` inside prints /dev/pts/0, and the container's
// /dev/pts lists it. The caller gets the master as Process.Console.

// consoleSocket is the caller's end and the stage's end of the socket the
// master travels over.
type consoleSocket struct {
	parent int
	child  *os.File
}

func newConsoleSocket() (*consoleSocket, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	return &consoleSocket{parent: fds[0], child: os.NewFile(uintptr(fds[1]), "console-socket")}, nil
}

func (s *consoleSocket) close() {
	s.child.Close()
	unix.Close(s.parent)
}

// receive takes the master the stage sent. It never blocks: the stage
// sends before it execve's, and the caller asks only after that.
func (s *consoleSocket) receive() (*os.File, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(s.parent, buf, oob, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("receive the container's terminal: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, errors.New("receive the container's terminal: no descriptor sent")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, errors.New("receive the container's terminal: no descriptor sent")
	}
	// Non-blocking, so the Go runtime polls it and Close ends a pending Read.
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		return nil, err
	}
	return os.NewFile(uintptr(fds[0]), "/dev/ptmx"), nil
}

// setupConsole runs in the stage, inside the container's mount namespace:
// it opens a pty there, sends the master over sockFd, and makes the slave
// (sized to size, owned by uid as runc does, so the process can reopen it)
// its stdio and controlling terminal; bindConsole also binds it at
// /dev/console.
func setupConsole(sockFd int, size *specs.Box, uid uint32, bindConsole bool) error {
	defer unix.Close(sockFd)
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the container's /dev/ptmx: %w", err)
	}
	defer unix.Close(master)
	slave, path, err := openSlave(master)
	if err != nil {
		return err
	}
	defer unix.Close(slave)
	if size != nil && size.Height > 0 && size.Width > 0 {
		ws := &unix.Winsize{Row: uint16(size.Height), Col: uint16(size.Width)}
		if err := unix.IoctlSetWinsize(slave, unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("console size: %w", err)
		}
	}
	if err := unix.Fchown(slave, int(uid), -1); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	if bindConsole {
		if err := bindMount(path, "/dev/console", 0); err != nil {
			return fmt.Errorf("bind %s at /dev/console: %w", path, err)
		}
	}
	if err := unix.Sendmsg(sockFd, []byte{0}, unix.UnixRights(master), nil, 0); err != nil {
		return fmt.Errorf("send the terminal to the caller: %w", err)
	}
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("terminal as stdio: %w", err)
		}
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("set controlling terminal: %w", err)
	}
	return nil
}

// openSlave opens the slave of master after checking that master is a
// devpts pty (in an exec the container's /dev/ptmx is the container's to
// replace).
func openSlave(master int) (fd int, path string, err error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(master, &st); err != nil || st.Type != unix.DEVPTS_SUPER_MAGIC {
		return -1, "", errors.New("the container's /dev/ptmx is not on a devpts filesystem")
	}
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return -1, "", fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(master, unix.TIOCGPTN)
	if err != nil {
		return -1, "", fmt.Errorf("pty number: %w", err)
	}
	path = fmt.Sprintf("/dev/pts/%d", n)
	// TIOCGPTPEER opens the slave without a path lookup (kernel 4.13+).
	peer, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(master), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno == 0 {
		return int(peer), path, nil
	}
	sfd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", fmt.Errorf("open %s: %w", path, err)
	}
	return sfd, path, nil
}
