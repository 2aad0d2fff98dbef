package engine

import (
	"errors"
	"testing"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/store"
)

func TestPsFilters(t *testing.T) {
	c := &container.Container{
		ID: "abcdef0123456789", Name: "web-1", ImageID: "sha256:1234abcd",
		Config: container.Config{Image: "busybox", Labels: map[string]string{"env": "prod", "tier": ""}},
		State:  container.State{Status: container.StatusExited, ExitCode: 3},
	}
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
	}
	for _, tt := range tests {
		f, err := parsePsFilters(tt.filters)
		if err != nil {
			t.Errorf("parsePsFilters(%q): %v", tt.filters, err)
			continue
		}
		if got := f.match(c, nil); got != tt.match {
			t.Errorf("filters %q match = %v, want %v", tt.filters, got, tt.match)
		}
	}
	for _, bad := range []string{"status=bogus", "exited=x", "color=red", "nokey"} {
		if _, err := parsePsFilters([]string{bad}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("parsePsFilters(%q) = %v, want invalid", bad, err)
		}
	}
}
