package container

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/skiff-dev/skiff/isolate"
	"github.com/skiff-dev/skiff/store"
)

// Pause freezes a running container's cgroup and records it as paused,
// under the container's lock.
func (s *Store) Pause(id string) (*Container, error) {
	return s.Update(id, func(c *Container) error {
		switch c.State.Status {
		case StatusPaused:
			return store.Conflict("Container %s is already paused", c.ID)
		case StatusRunning:
		default:
			return store.Conflict("Container %s is not running", c.ID)
		}
		if err := isolate.Freeze(CgroupHandle(c)); err != nil {
			return freezeErr("pause", err)
		}
		return Transition(c, StatusPaused)
	})
}

// Unpause thaws a paused container and records it as running again.
func (s *Store) Unpause(id string) (*Container, error) {
	return s.Update(id, func(c *Container) error {
		if c.State.Status != StatusPaused {
			return store.Conflict("Container %s is not paused", c.ID)
		}
		if err := isolate.Thaw(CgroupHandle(c)); err != nil {
			return freezeErr("unpause", err)
		}
		return Transition(c, StatusRunning)
	})
}

func freezeErr(verb string, err error) error {
	if errors.Is(err, isolate.ErrNoFreezer) {
		return store.Invalid("cannot %s container: %v", verb, err)
	}
	return fmt.Errorf("cannot %s container: %w", verb, err)
}

// ThawForSignal resumes a paused container that stop, kill or rm -f just
// signalled, as Docker does for SIGKILL and the stop signal: a frozen
// process acts on a signal only once thawed. It reports whether it thawed
// (the caller then records the container as running again, unless the
// supervisor records its exit first).
func ThawForSignal(c *Container, sig syscall.Signal) bool {
	if c.State.Status != StatusPaused {
		return false
	}
	if stop, err := StopSignal(c); sig != syscall.SIGKILL && (err != nil || sig != stop) {
		return false
	}
	return isolate.Thaw(CgroupHandle(c)) == nil
}

// MarkThawed records a container ThawForSignal resumed as running, if it
// is still recorded as paused.
func (s *Store) MarkThawed(id string) {
	l, err := s.Lock(id)
	if err != nil {
		return
	}
	defer l.Unlock()
	c, err := s.read(id)
	if err != nil || c.State.Status != StatusPaused {
		return
	}
	c.State.Status = StatusRunning
	writeRecord(s.recordPath(id), c)
}
