package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/store"
)

func TestPsFilters(t *testing.T) {
	c := &container.Container{
		ID: "abcdef0123456789", Name: "web-1", ImageID: "sha256:1234abcd",
		Config:  container.Config{Image: "busybox", Labels: map[string]string{"env": "prod", "tier": ""}},
		State:   container.State{Status: container.StatusExited, ExitCode: 3},
		Mounts:  []container.Mount{{Type: "volume", Name: "data", Destination: "/data"}},
		Created: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
	}
	older, newer := c.Created.Add(-time.Hour), c.Created.Add(time.Hour)
	tests := []struct {
		filters []string
		match   bool
	}{
		{nil, true},
		{[]string{"status=exited"}, true},
		{[]string{"status=running"}, false},
		{[]string{"status=running", "status=exited"}, true}, // same key: OR
		{[]string{"status=exited", "name=db"}, false},       // different keys: AND
		{[]string{"name=web"}, true},
		{[]string{"name=/web-1"}, true},
		{[]string{"name=^web-1$"}, true},
		{[]string{"name=^/web-1$"}, true},
		{[]string{"name=^web$"}, false},
		{[]string{"name=^web$", "name=1$"}, true}, // names: OR too
		{[]string{"name=web[(", "name=^db"}, false},
		{[]string{"name=web-[0-9]"}, true},
		{[]string{"name=web[("}, false}, // not an expression: a substring
		{[]string{"id=abcd"}, true},
		{[]string{"id=bcd"}, false},
		{[]string{"exited=3"}, true},
		{[]string{"exited=0"}, false},
		{[]string{"label=env"}, true},
		{[]string{"label=env=prod"}, true},
		{[]string{"label=env=dev"}, false},
		{[]string{"label=tier="}, true},
		{[]string{"ancestor=busybox"}, true},
		{[]string{"ancestor=1234ab"}, true},
		{[]string{"ancestor=alpine"}, false},
		{[]string{"health=none"}, true},
		{[]string{"health=healthy"}, false},
		{[]string{"volume=data"}, true},
		{[]string{"volume=/data"}, true},
		{[]string{"volume=other"}, false},
		{[]string{"before=newer"}, true},
		{[]string{"before=older"}, false},
		{[]string{"since=older"}, true},
		{[]string{"since=newer"}, false},
	}
	for _, tt := range tests {
		f, err := parsePsFilters(tt.filters)
		if err != nil {
			t.Errorf("parsePsFilters(%q): %v", tt.filters, err)
			continue
		}
		f.created = map[string]time.Time{"before=newer": newer, "before=older": older, "since=older": older, "since=newer": newer}
		if got := f.match(c, nil); got != tt.match {
			t.Errorf("filters %q match = %v, want %v", tt.filters, got, tt.match)
		}
	}
	for _, bad := range []string{"status=bogus", "exited=x", "color=red", "nokey", "health=great"} {
		if _, err := parsePsFilters([]string{bad}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("parsePsFilters(%q) = %v, want invalid", bad, err)
		}
	}
}
