package engine

import (
	"syscall"

	"github.com/skiff-dev/skiff/container"
)

// Pause freezes each container's processes (freezer cgroup) and prints
// its name as given, as docker pause does.
func (e *Engine) Pause(refs []string) error {
	return e.eachContainer(refs, func(cs *container.Store, c *container.Container) error {
		_, err := cs.Pause(c.ID)
		return err
	})
}

// Unpause thaws each paused container.
func (e *Engine) Unpause(refs []string) error {
	return e.eachContainer(refs, func(cs *container.Store, c *container.Container) error {
		_, err := cs.Unpause(c.ID)
		return err
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
