package isolate

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// Timer slack of the stages. A fresh Go process's sysmon thread sleeps
// 20 µs at a time for its first ~50 rounds, which with the kernel's
// default 50 µs slack wakes it every ~80 µs on the CPU the stage runs
// on: ~50 context switches in a stage's few milliseconds of life. The
// stage is forked with a 2 ms slack (inherited through clone and execve)
// and puts the slack it would have had back before it execs the
// container's process, which must not see ours.
const stageTimerSlack = 2_000_000 // ns

// forkWithSlack runs start on a thread whose timer slack is
// stageTimerSlack for the duration (a child inherits its forking
// thread's), and returns the slack the child must restore.
func forkWithSlack(start func() error) (restore int, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	old, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil || old <= 0 {
		return 0, start()
	}
	if unix.Prctl(unix.PR_SET_TIMERSLACK, stageTimerSlack, 0, 0, 0) != nil {
		return 0, start()
	}
	err = start()
	unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0)
	return old, err
}

// restoreTimerSlack gives this thread (the one that execs) the slack the
// parent had; 0 leaves it.
func restoreTimerSlack(ns int) {
	if ns > 0 {
		unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(ns), 0, 0, 0)
	}
}
