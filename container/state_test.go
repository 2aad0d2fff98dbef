package container

import (
	"errors"
	"strings"
	"testing"

	"github.com/skiff-dev/skiff/store"
)

func TestCanTransition(t *testing.T) {
	tests := []struct {
		from, to Status
		ok       bool
	}{
		{StatusCreated, StatusRunning, true},
		{StatusRunning, StatusExited, true},
		{StatusExited, StatusRunning, true}, // start again after exit
		{StatusRunning, StatusPaused, true},
		{StatusPaused, StatusRunning, true},
		{StatusExited, StatusRemoving, true},
		{StatusRemoving, StatusRunning, false},
		{StatusCreated, StatusPaused, false},
		{StatusExited, StatusPaused, false},
		{StatusDead, StatusRunning, false},
	}
	for _, tt := range tests {
		if got := CanTransition(tt.from, tt.to); got != tt.ok {
			t.Errorf("CanTransition(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.ok)
		}
		c := &Container{ID: "x", State: State{Status: tt.from}}
		err := Transition(c, tt.to)
		if (err == nil) != tt.ok {
			t.Errorf("Transition(%s -> %s) err = %v", tt.from, tt.to, err)
		}
		if err == nil && c.State.Status != tt.to {
			t.Errorf("Transition(%s -> %s) left status %s", tt.from, tt.to, c.State.Status)
		}
		if err != nil && (c.State.Status != tt.from || !errors.Is(err, store.ErrConflict)) {
			t.Errorf("failed Transition(%s -> %s) changed status to %s or err %v is not a conflict", tt.from, tt.to, c.State.Status, err)
		}
	}
}

func TestCanRemove(t *testing.T) {
	tests := []struct {
		status Status
		force  bool
		want   string // substring of the error; "" for no error
	}{
		{StatusCreated, false, ""},
		{StatusExited, false, ""},
		{StatusRunning, false, `cannot remove container "/web": container is running: stop the container before removing or force remove`},
		{StatusRunning, true, ""},
		{StatusPaused, false, `cannot remove container "/web": container is paused and must be unpaused first`},
		{StatusPaused, true, ""},
		{StatusRemoving, false, "removal of container abc is already in progress"},
		{StatusRemoving, true, ""},
		{StatusDead, false, ""},
		{StatusRestarting, false, `cannot remove container "/web": container is restarting: stop the container before removing or force remove`},
	}
	for _, tt := range tests {
		err := CanRemove(&Container{ID: "abc", Name: "web", State: State{Status: tt.status}}, tt.force)
		if tt.want == "" {
			if err != nil {
				t.Errorf("CanRemove(%s, force=%v) = %v", tt.status, tt.force, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, store.ErrConflict) {
			t.Errorf("CanRemove(%s, force=%v) = %v, want conflict %q", tt.status, tt.force, err, tt.want)
		}
	}
}

func TestCanStartAndSignal(t *testing.T) {
	tests := []struct {
		status         Status
		startOK, sigOK bool
	}{
		{StatusCreated, true, false},
		{StatusExited, true, false},
		{StatusRunning, true, true}, // start of a running container is a no-op
		{StatusPaused, false, true},
		{StatusRemoving, false, false},
		{StatusDead, false, false},
	}
	for _, tt := range tests {
		c := &Container{ID: "abc", State: State{Status: tt.status}}
		if err := CanStart(c); (err == nil) != tt.startOK {
			t.Errorf("CanStart(%s) = %v", tt.status, err)
		}
		err := CanSignal(c)
		if (err == nil) != tt.sigOK {
			t.Errorf("CanSignal(%s) = %v", tt.status, err)
		}
		if err != nil && err.Error() != "Container abc is not running" {
			t.Errorf("CanSignal(%s) message %q", tt.status, err)
		}
	}
}
