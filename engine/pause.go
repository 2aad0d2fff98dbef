package engine

import (
	"fmt"
	"syscall"

	"github.com/skiff-dev/skiff/container"
)

// Pause freezes each container's processes (freezer cgroup) and prints
// its name as given, as docker pause does.
func (e *Engine) Pause(refs []string) error {
	return e.eachContainer(refs, func(cs *container.Store, c *container.Container) error {
		if _, err := cs.Pause(c.ID); err != nil {
			return err
		}
		cs.Emit(c, "pause", nil)
		return nil
	})
}

// Unpause thaws each paused container.
func (e *Engine) Unpause(refs []string) error {
	return e.eachContainer(refs, func(cs *container.Store, c *container.Container) error {
		if _, err := cs.Unpause(c.ID); err != nil {
			return err
		}
		cs.Emit(c, "unpause", nil)
		return nil
	})
}

// thawForSignal resumes a paused container that stop or kill just
// signalled (SIGKILL or its stop signal), as Docker does, and records it
// as running: a frozen process acts on the signal only once thawed.
func (e *Engine) thawForSignal(c *container.Container, sig syscall.Signal) {
	if !container.ThawForSignal(c, sig) {
		return
	}
	if cs, err := e.containers(); err == nil {
		cs.MarkThawed(c.ID)
	}
}

// execRefusal is Docker's answer to an exec into c that cannot begin
// (the daemon's getActiveContainer): exit 1, and at once, where joining a
// frozen container would hang until it is unpaused. ref is the name as
// given, which Docker echoes for a paused container.
func execRefusal(ref string, c *container.Container) error {
	switch {
	case !c.IsRunning():
		return execNotRunning(c.ID)
	case c.State.Status == container.StatusPaused:
		return &ExitError{Code: 1, Message: fmt.Sprintf("Container %s is paused, unpause the container before exec", ref)}
	case c.State.Status == container.StatusRestarting:
		return &ExitError{Code: 1, Message: fmt.Sprintf("Container %s is restarting, wait until the container is running", c.ID)}
	}
	return nil
}

// attachRefusal is docker attach's own check (the CLI's, exit 1) of a
// container it cannot attach to.
func attachRefusal(c *container.Container) error {
	msg := ""
	switch {
	case !c.IsRunning():
		msg = "cannot attach to a stopped container, start it first"
	case c.State.Status == container.StatusPaused:
		msg = "cannot attach to a paused container, unpause it first"
	case c.State.Status == container.StatusRestarting:
		msg = "cannot attach to a restarting container, wait until it is running"
	default:
		return nil
	}
	return &ExitError{Code: 1, Message: msg}
}
