package container

import (
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestHealthcheckConfig(t *testing.T) {
	img := &v1.HealthConfig{Test: []string{"CMD", "true"}, Interval: time.Second, Retries: 5}
	got := mergeHealthcheck(&v1.HealthConfig{Interval: 2 * time.Second, Timeout: time.Second}, img)
	want := &v1.HealthConfig{Test: []string{"CMD", "true"}, Interval: 2 * time.Second, Timeout: time.Second, Retries: 5}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merge: %+v, want %+v", got, want)
	}
	if mergeHealthcheck(nil, img) != img || mergeHealthcheck(nil, nil) != nil {
		t.Errorf("merge with one side missing")
	}
	for _, tt := range []struct {
		test []string
		want string
	}{
		{[]string{"CMD", "curl", "-f", "x"}, "curl -f x"},
		{[]string{"CMD-SHELL", "test -f /ok"}, "/bin/sh -c test -f /ok"},
		{[]string{"NONE"}, ""},
		{nil, ""},
	} {
		if got := strings.Join(healthArgs(&v1.HealthConfig{Test: tt.test}), " "); got != tt.want {
			t.Errorf("healthArgs(%q) = %q, want %q", tt.test, got, tt.want)
		}
	}
	c := &Container{State: State{Status: StatusRunning, Health: &Health{Status: "starting"}}}
	if s := HealthSuffix(c); s != " (health: starting)" {
		t.Errorf("suffix %q", s)
	}
	c.State.Health.Status = "unhealthy"
	if s := HealthSuffix(c); s != " (unhealthy)" {
		t.Errorf("suffix %q", s)
	}
	c.State.Status = StatusExited
	if s := HealthSuffix(c); s != "" {
		t.Errorf("suffix of an exited one %q", s)
	}
}
