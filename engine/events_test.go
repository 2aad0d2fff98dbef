package engine

import (
	"errors"
	"testing"

	"github.com/skiff-dev/skiff/store"
)

func TestEventFilters(t *testing.T) {
	ctr := store.Event{Type: "container", Action: "exec_create: sh -c true",
		Actor: store.EventActor{ID: "abcdef0123", Attributes: map[string]string{"name": "web", "image": "busybox", "team": "a"}}}
	img := store.Event{Type: "image", Action: "tag",
		Actor: store.EventActor{ID: "sha256:1234abcd", Attributes: map[string]string{"name": "app:1"}}}
	tests := []struct {
		filters []string
		ev      store.Event
		match   bool
	}{
		{nil, ctr, true},
		{[]string{"type=container"}, ctr, true},
		{[]string{"type=image", "type=volume"}, ctr, false},
		{[]string{"event=exec_create"}, ctr, true}, // the action's prefix before ":"
		{[]string{"event=exec"}, ctr, false},
		{[]string{"container=web"}, ctr, true},
		{[]string{"container=abc"}, ctr, true}, // an id prefix
		{[]string{"container=db", "container=web"}, ctr, true},
		{[]string{"container=web"}, img, false},
		{[]string{"image=busybox:latest"}, ctr, true},
		{[]string{"image=docker.io/library/busybox"}, ctr, true},
		{[]string{"image=alpine"}, ctr, false},
		{[]string{"image=app:1"}, img, true},
		{[]string{"image=sha256:1234"}, img, true},
		{[]string{"label=team"}, ctr, true},
		{[]string{"label=team=a", "event=die"}, ctr, false}, // keys AND'ed
		{[]string{"label=team=b"}, ctr, false},
		{[]string{"scope=local"}, ctr, true},
		{[]string{"network=bridge"}, ctr, false},
	}
	for _, tt := range tests {
		f, err := parseEventFilters(tt.filters)
		if err != nil {
			t.Errorf("parseEventFilters(%q): %v", tt.filters, err)
			continue
		}
		if got := f.match(tt.ev); got != tt.match {
			t.Errorf("filters %q on %s %s: match = %v, want %v", tt.filters, tt.ev.Type, tt.ev.Action, got, tt.match)
		}
	}
	for _, bad := range []string{"colour=red", "nokey"} {
		if _, err := parseEventFilters([]string{bad}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("parseEventFilters(%q) = %v, want invalid", bad, err)
		}
	}
}
