package container

import (
	"errors"
	"testing"
	"time"

	"github.com/skiff-dev/skiff/store"
)

func TestParseRestartPolicy(t *testing.T) {
	tests := []struct {
		in   string
		want RestartPolicy
		bad  bool
	}{
		{"", RestartPolicy{Name: "no"}, false},
		{"no", RestartPolicy{Name: "no"}, false},
		{"always", RestartPolicy{Name: "always"}, false},
		{"unless-stopped", RestartPolicy{Name: "unless-stopped"}, false},
		{"on-failure", RestartPolicy{Name: "on-failure"}, false},
		{"on-failure:5", RestartPolicy{Name: "on-failure", MaximumRetryCount: 5}, false},
		{"on-failure:-1", RestartPolicy{}, true},
		{"on-failure:x", RestartPolicy{}, true},
		{"always:3", RestartPolicy{}, true},
		{"no:1", RestartPolicy{}, true},
		{"sometimes", RestartPolicy{}, true},
	}
	for _, tt := range tests {
		got, err := ParseRestartPolicy(tt.in)
		if tt.bad {
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("ParseRestartPolicy(%q) = %+v, %v; want invalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseRestartPolicy(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestRestartAfterExit(t *testing.T) {
	ctr := func(policy string, max, count int, byUser bool) *Container {
		c := &Container{RestartCount: count}
		c.HostConfig.RestartPolicy = RestartPolicy{Name: policy, MaximumRetryCount: max}
		c.State.StoppedByUser = byUser
		return c
	}
	tests := []struct {
		c    *Container
		code int
		want bool
	}{
		{ctr("no", 0, 0, false), 1, false},
		{ctr("always", 0, 7, false), 0, true},
		{ctr("always", 0, 0, true), 1, false}, // stopped by the user
		{ctr("unless-stopped", 0, 0, false), 0, true},
		{ctr("unless-stopped", 0, 0, true), 0, false},
		{ctr("on-failure", 0, 0, false), 0, false},
		{ctr("on-failure", 0, 99, false), 1, true}, // no maximum
		{ctr("on-failure", 3, 2, false), 1, true},
		{ctr("on-failure", 3, 3, false), 1, false},
	}
	for i, tt := range tests {
		if got := restartAfterExit(tt.c, tt.code); got != tt.want {
			t.Errorf("case %d (%+v, exit %d): restart = %v, want %v", i, tt.c.HostConfig.RestartPolicy, tt.code, got, tt.want)
		}
	}
}

func TestNextRestartDelay(t *testing.T) {
	tests := []struct{ prev, ran, want time.Duration }{
		{0, 0, 100 * time.Millisecond},
		{100 * time.Millisecond, time.Second, 200 * time.Millisecond},
		{40 * time.Second, time.Second, time.Minute}, // capped
		{time.Minute, 11 * time.Second, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := nextRestartDelay(tt.prev, tt.ran); got != tt.want {
			t.Errorf("nextRestartDelay(%s, ran %s) = %s, want %s", tt.prev, tt.ran, got, tt.want)
		}
	}
}
