package container

import (
	"errors"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/store"
)

// ParseSignal reads a signal as Docker accepts one: a number, or a name
// with or without "SIG", in any case (KILL, sigterm, 9).
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, store.Invalid("Invalid signal: %s", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, store.Invalid("Invalid signal: %s", s)
}

// StopSignal is the signal stop sends first: the record's (from the image's
// STOPSIGNAL or --stop-signal), else SIGTERM.
func StopSignal(c *Container) (syscall.Signal, error) {
	if c.Config.StopSignal == "" {
		return syscall.SIGTERM, nil
	}
	return ParseSignal(c.Config.StopSignal)
}

// ErrProcessGone: the container's process no longer exists.
var ErrProcessGone = errors.New("container process is gone")

// Signal sends sig to the container's init, straight from the caller (no
// daemon in between) after checking the pid still names that process.
func Signal(c *Container, sig syscall.Signal) error {
	if !Alive(c.State.Pid, c.State.PidStart) {
		return ErrProcessGone
	}
	if err := KillProcess(c.State.Pid, c.State.PidStart, sig); err != nil {
		if err == unix.ESRCH {
			return ErrProcessGone
		}
		return err
	}
	return nil
}

// WaitPid waits until the process pid (started at start) has exited, at
// most timeout (< 0: no limit), and reports whether it did. It uses a
// pidfd, so a non-child can be waited for without polling.
func WaitPid(pid int, start uint64, timeout time.Duration) bool {
	if !Alive(pid, start) {
		return true
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return pollPid(pid, start, timeout)
	}
	defer unix.Close(fd)
	// The pid may have been reused between the check and the open.
	if !Alive(pid, start) {
		return true
	}
	deadline := time.Now().Add(timeout)
	for {
		ms := -1
		if timeout >= 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return false
			}
			ms = int(left/time.Millisecond) + 1
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return pollPid(pid, start, time.Until(deadline))
		}
		if n > 0 {
			return true
		}
	}
}

func pollPid(pid int, start uint64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for Alive(pid, start) {
		if timeout >= 0 && time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// WaitStopped waits until container c (as last read) is no longer running:
// its init has exited and its supervisor has recorded the exit and gone.
// It reports false when timeout passed first.
func WaitStopped(c *Container, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	left := func() time.Duration {
		if timeout < 0 {
			return -1
		}
		if d := time.Until(deadline); d > 0 {
			return d
		}
		return 0
	}
	if !WaitPid(c.State.Pid, c.State.PidStart, timeout) {
		return false
	}
	return WaitPid(c.State.SupervisorPid, c.State.SupervisorStart, left())
}
