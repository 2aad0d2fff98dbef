package container

import (
	"github.com/skiff-dev/skiff/store"
)

// transitions is the state machine: which status may follow which.
// Docker's names; "restarting" is the supervisor re-running the command,
// "removing" a container being deleted, "dead" one whose removal failed.
var transitions = map[Status][]Status{
	StatusCreated:    {StatusRunning, StatusRemoving, StatusExited},
	StatusRunning:    {StatusPaused, StatusExited, StatusRestarting, StatusRemoving},
	StatusPaused:     {StatusRunning, StatusExited, StatusRemoving},
	StatusRestarting: {StatusRunning, StatusExited, StatusRemoving},
	StatusExited:     {StatusRunning, StatusRestarting, StatusRemoving},
	StatusRemoving:   {StatusDead},
	StatusDead:       {StatusRemoving},
}

// CanTransition reports whether a container in status from may move to to.
// Created->exited covers a start that failed before the process ran.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Transition moves c to status to, or says why it cannot.
func Transition(c *Container, to Status) error {
	if !CanTransition(c.State.Status, to) {
		return store.Conflict("container %s: cannot change state from %s to %s", c.ID, c.State.Status, to)
	}
	c.State.Status = to
	return nil
}

// IsRunning reports the statuses in which the container has a live process.
func (c *Container) IsRunning() bool {
	switch c.State.Status {
	case StatusRunning, StatusPaused, StatusRestarting:
		return true
	}
	return false
}

// CanStart says whether start may run c. A running container is not an
// error: Docker's start is then a no-op, so callers check IsRunning.
func CanStart(c *Container) error {
	switch c.State.Status {
	case StatusPaused:
		return store.Conflict("cannot start a paused container, try unpause instead")
	case StatusRemoving:
		return store.Conflict("container is marked for removal and cannot be started")
	case StatusDead:
		return store.Conflict("container is marked for removal and cannot be started")
	}
	return nil
}

// CanRemove says whether rm may delete c; force allows a running one
// (the caller kills it first).
func CanRemove(c *Container, force bool) error {
	switch c.State.Status {
	case StatusRemoving:
		// A crashed rm can leave this status behind; -f gets past it.
		if !force {
			return store.Conflict("removal of container %s is already in progress", c.ID)
		}
	case StatusPaused:
		// Docker's wording (moby daemon/delete.go), the name with its "/".
		if !force {
			return store.Conflict("cannot remove container %q: container is paused and must be unpaused first", "/"+c.Name)
		}
	case StatusRunning, StatusRestarting:
		if !force {
			return store.Conflict("cannot remove container %q: container is %s: stop the container before removing or force remove", "/"+c.Name, c.State.Status)
		}
	}
	return nil
}

// CanSignal says whether kill (and attach, exec, pause) may act on c.
func CanSignal(c *Container) error {
	if !c.IsRunning() {
		return store.Conflict("Container %s is not running", c.ID)
	}
	return nil
}
