package container

import (
	"syscall"
	"time"

	"github.com/skiff-dev/skiff/isolate"
)

// ExitUnknown is the exit code of a container whose supervisor died before
// recording one: containerd's UnknownExitStatus, which Docker reports.
const ExitUnknown = 255

// Reconcile corrects a record read from disk against the processes that
// exist now, and reports whether it changed it. A running container is one
// whose supervisor (pid plus start time, since pids are reused) is alive:
// the supervisor owns the log, the attach socket and the exit code, so
// without it the container is exited, even if an orphaned init lingers
// (reapOrphan kills that one under the lock). A record without a
// supervisor pid falls back to its init. Writers must record
// SupervisorPid/SupervisorStart in the same write that sets StatusRunning.
func Reconcile(c *Container) bool {
	if !c.IsRunning() {
		return false
	}
	st := &c.State
	if st.SupervisorPid != 0 {
		if Alive(st.SupervisorPid, st.SupervisorStart) {
			return false
		}
	} else if Alive(st.Pid, st.PidStart) {
		return false
	}
	orphan := Alive(st.Pid, st.PidStart)
	st.Status = StatusExited
	st.Pid, st.PidStart, st.SupervisorPid, st.SupervisorStart = 0, 0, 0, 0
	switch {
	case orphan:
		st.ExitCode = 128 + int(syscall.SIGKILL) // reapOrphan kills it
	case st.ExitCode == 0:
		st.ExitCode = ExitUnknown
	}
	if st.Error == "" {
		st.Error = "container supervisor exited without recording the container's exit status"
	}
	if st.FinishedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
		st.FinishedAt = time.Now().UTC()
	}
	return true
}

// reapOrphan kills the init of a container whose supervisor is gone, so
// no process runs that nothing supervises. old is the state before
// Reconcile; the caller holds the container's lock.
func reapOrphan(c *Container, old State) {
	if old.Pid > 0 && Alive(old.Pid, old.PidStart) {
		KillProcess(old.Pid, old.PidStart, syscall.SIGKILL)
	}
	cleanupRuntime(c)
}

// cleanupRuntime removes what isolate left for a container whose
// supervisor can no longer do it: its cgroup (under --cgroup-parent if
// one was given), killing any process left there.
func cleanupRuntime(c *Container) {
	isolate.Cleanup(CgroupHandle(c))
}

// reconcile is Reconcile plus, when the lock is free, the orphan kill and
// a write-back, so the finish time is recorded once. It never waits for
// the lock: whoever holds it writes the truth themselves.
func (s *Store) reconcile(c *Container) {
	if !Reconcile(c) {
		return
	}
	l, ok, err := s.TryLock(c.ID)
	if err != nil || !ok {
		return
	}
	defer l.Unlock()
	cur, err := s.read(c.ID)
	if err != nil {
		return
	}
	old := cur.State
	if !Reconcile(cur) {
		return
	}
	reapOrphan(cur, old)
	if writeRecord(s.recordPath(c.ID), cur) == nil {
		*c = *cur
	}
}
