package container

import (
	"bytes"
	"errors"
	"io"
	"os"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/skiff-dev/skiff/isolate"
)

// Healthchecks, as Docker's: while the container runs, its supervisor
// runs the test inside it every Interval (after a first Interval); a run
// over Timeout fails; Retries failures in a row make it unhealthy, except
// during StartPeriod, where only a success counts. The state and the last
// five results go into the record, which inspect and ps show.

// Health is State.Health.
type Health struct {
	Status        string         `json:"Status"` // starting, healthy, unhealthy
	FailingStreak int            `json:"FailingStreak"`
	Log           []HealthResult `json:"Log"`
}

// HealthResult is one run of the test.
type HealthResult struct {
	Start    time.Time `json:"Start"`
	End      time.Time `json:"End"`
	ExitCode int       `json:"ExitCode"`
	Output   string    `json:"Output"`
}

// Docker's defaults and limits.
const (
	healthDefaultInterval = 30 * time.Second
	healthDefaultTimeout  = 30 * time.Second
	healthDefaultRetries  = 3
	healthMaxOutput       = 4096
	healthMaxLog          = 5
)

// mergeHealthcheck is the container's healthcheck: its own fields, and
// the image's where it left them unset (Docker's merge).
func mergeHealthcheck(c, img *v1.HealthConfig) *v1.HealthConfig {
	if c == nil {
		return img
	}
	if img == nil {
		return c
	}
	out := *c
	if len(out.Test) == 0 {
		out.Test = img.Test
	}
	if out.Interval == 0 {
		out.Interval = img.Interval
	}
	if out.Timeout == 0 {
		out.Timeout = img.Timeout
	}
	if out.StartPeriod == 0 {
		out.StartPeriod = img.StartPeriod
	}
	if out.Retries == 0 {
		out.Retries = img.Retries
	}
	return &out
}

// healthArgs is the command the test runs, or nil for none.
func healthArgs(h *v1.HealthConfig) []string {
	if h == nil || len(h.Test) == 0 {
		return nil
	}
	switch h.Test[0] {
	case "CMD":
		return h.Test[1:]
	case "CMD-SHELL":
		if len(h.Test) > 1 {
			return []string{"/bin/sh", "-c", h.Test[1]}
		}
	}
	return nil // NONE
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// healthLoop runs the container's healthcheck until stop is closed; ctr
// and pid are the run's (a restart makes new ones).
func (s *supervisor) healthLoop(h *v1.HealthConfig, args []string, ctr *isolate.Container, pid int, stop <-chan struct{}) {
	interval := orDefault(h.Interval, healthDefaultInterval)
	timeout := orDefault(h.Timeout, healthDefaultTimeout)
	retries := orDefault(h.Retries, healthDefaultRetries)
	started := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-time.After(interval):
		}
		if c, err := s.cs.Get(s.id); err == nil && c.State.Status == StatusPaused {
			continue // a check would join the frozen cgroup and hang: none while paused, as Docker
		}
		res := s.probe(args, timeout, ctr, pid)
		select {
		case <-stop:
			return // the container exited meanwhile: not its health
		default:
		}
		inStart := time.Since(started) < h.StartPeriod
		s.recordHealth(res, retries, inStart)
	}
}

// probe runs the test once in the container, output capped, killed past
// timeout.
func (s *supervisor) probe(args []string, timeout time.Duration, ctr *isolate.Container, pid int) (res HealthResult) {
	res = HealthResult{Start: time.Now().UTC(), ExitCode: -1}
	defer func() { res.End = time.Now().UTC() }() // res is named: the deferred End reaches the caller
	p, err := s.execProcess(&ExecRequest{Args: args})
	if err != nil {
		res.Output = err.Error()
		return res
	}
	r, w, err := os.Pipe()
	if err != nil {
		res.Output = err.Error()
		return res
	}
	proc, err := isolate.Exec(ctr, pid, p, isolate.Stdio{Stdout: w, Stderr: w})
	w.Close()
	if err != nil {
		r.Close()
		res.Output = err.Error()
		return res
	}
	out := make(chan []byte, 1)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, io.LimitReader(r, healthMaxOutput))
		io.Copy(io.Discard, r)
		r.Close()
		out <- b.Bytes()
	}()
	timer := time.AfterFunc(timeout, func() { proc.Signal(syscall.SIGKILL) })
	st, werr := proc.Wait()
	expired := !timer.Stop()
	res.Output = string(<-out)
	switch {
	case expired:
		res.Output = "Health check exceeded timeout (" + timeout.String() + ")"
	case werr != nil:
		res.Output = werr.Error()
	default:
		res.ExitCode = st.Code
	}
	return res
}

// errNotOurs: the record no longer shows the run this supervisor started.
var errNotOurs = errors.New("container no longer runs under this supervisor")

// recordHealth adds a result to the record's Health and moves its status
// as Docker does; a change of status is an event.
func (s *supervisor) recordHealth(res HealthResult, retries int, inStart bool) {
	var changed string
	c, err := s.cs.Update(s.id, func(c *Container) error {
		if !s.ours(c) || c.State.Health == nil {
			return errNotOurs // not running under us any more: leave it
		}
		h := c.State.Health
		h.Log = append(h.Log, res)
		if len(h.Log) > healthMaxLog {
			h.Log = h.Log[len(h.Log)-healthMaxLog:]
		}
		prev := h.Status
		if res.ExitCode == 0 {
			h.Status, h.FailingStreak = "healthy", 0
		} else if !inStart {
			h.FailingStreak++
			if h.FailingStreak >= retries {
				h.Status = "unhealthy"
			}
		}
		if h.Status != prev {
			changed = h.Status
		}
		return nil
	})
	if err == nil && changed != "" {
		s.cs.Emit(c, "health_status: "+changed, nil)
	}
}

// HealthSuffix is what ps adds to "Up ...": " (healthy)" and the like.
func HealthSuffix(c *Container) string {
	if c.State.Health == nil || c.State.Status != StatusRunning {
		return ""
	}
	if c.State.Health.Status == "starting" {
		return " (health: starting)"
	}
	return " (" + c.State.Health.Status + ")"
}
