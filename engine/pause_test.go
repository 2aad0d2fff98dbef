package engine

import (
	"errors"
	"testing"

	"github.com/skiff-dev/skiff/container"
)

// TestExecAttachRefusals: Docker's words (exit 1) for exec and attach into
// a container that cannot take them; none for a running one.
func TestExecAttachRefusals(t *testing.T) {
	const id = "0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef"
	tests := []struct {
		status       container.Status
		exec, attach string
	}{
		{container.StatusRunning, "", ""},
		{container.StatusPaused, "Container web is paused, unpause the container before exec", "cannot attach to a paused container, unpause it first"},
		{container.StatusRestarting, "Container " + id + " is restarting, wait until the container is running", "cannot attach to a restarting container, wait until it is running"},
		{container.StatusExited, "container " + id + " is not running", "cannot attach to a stopped container, start it first"},
		{container.StatusCreated, "container " + id + " is not running", "cannot attach to a stopped container, start it first"},
	}
	for _, tt := range tests {
		c := &container.Container{ID: id}
		c.State.Status = tt.status
		for _, got := range []struct {
			verb string
			err  error
			want string
		}{{"exec", execRefusal("web", c), tt.exec}, {"attach", attachRefusal(c), tt.attach}} {
			var ee *ExitError
			switch {
			case got.want == "" && got.err != nil:
				t.Errorf("%s into %s: %v, want none", got.verb, tt.status, got.err)
			case got.want != "" && (!errors.As(got.err, &ee) || ee.Code != 1 || ee.Message != got.want):
				t.Errorf("%s into %s: %#v, want exit 1 %q", got.verb, tt.status, got.err, got.want)
			}
		}
	}
}
