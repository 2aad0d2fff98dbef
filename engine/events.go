package engine

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/store"
)

// emit records a container event (see store.Emit); best effort.
func (e *Engine) emit(c *container.Container, action string, extra map[string]string) {
	container.Emit(e.Store, c, action, extra)
}

// emitStopped is "stop", once the container has stopped: the supervisor
// records the exit and emits "die" under the container's lock, so taking
// that lock first puts "stop" after "die", as with Docker.
func (e *Engine) emitStopped(c *container.Container) {
	cs, err := e.containers()
	if err != nil {
		return
	}
	if l, err := cs.Lock(c.ID); err == nil {
		l.Unlock()
	}
	e.emit(c, "stop", nil)
}

// markStoppedByUser records that stop, kill or rm -f ends c, so its
// restart policy leaves it down, and returns the record as it now is (a
// restart may have given it a new process meanwhile).
func (e *Engine) markStoppedByUser(c *container.Container) *container.Container {
	if p := c.HostConfig.RestartPolicy.Name; p == "" || p == "no" {
		return c // nothing would restart it: no record write on every stop and kill
	}
	cs, err := e.containers()
	if err != nil {
		return c
	}
	cur, err := cs.Update(c.ID, func(c *container.Container) error {
		if c.IsRunning() {
			c.State.StoppedByUser = true
		}
		return nil
	})
	if err != nil {
		return c
	}
	return cur
}

// emitKill is Docker's "kill" event, with the signal's number.
func (e *Engine) emitKill(c *container.Container, sig syscall.Signal) {
	e.emit(c, "kill", map[string]string{"signal": strconv.Itoa(int(sig))})
}

// emitImage records an image event about id (an image id, or for pull
// and push the reference), with the name it concerns, as Docker does.
func (e *Engine) emitImage(action, id, name string) {
	e.Store.Emit("image", action, id, map[string]string{"name": name})
}

// EventsOptions are `events`' flags; Print gets each matching event, in
// order. Done ends a follow (an interrupt).
type EventsOptions struct {
	Since, Until string
	Filters      []string
	Print        func(ev store.Event) error
	Done         <-chan struct{}
}

// eventsPoll is how often a follow looks for new lines in the log.
const eventsPoll = 100 * time.Millisecond

// Events prints the events log as docker events does: without --since,
// only what happens from now on, until interrupted; with --since, past
// events first; with --until, nothing after it (and it returns there).
func (e *Engine) Events(o EventsOptions) error {
	now := time.Now()
	since, err := container.ParseLogTime(o.Since, now)
	if err != nil {
		return err
	}
	until, err := container.ParseLogTime(o.Until, now)
	if err != nil {
		return err
	}
	f, err := parseEventFilters(o.Filters)
	if err != nil {
		return err
	}
	r := e.Store.NewEventReader()
	if o.Since == "" && o.Until == "" {
		r.SkipToEnd()
	}
	for {
		evs, err := r.Next()
		if err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		for _, ev := range evs {
			t := ev.When()
			if !until.IsZero() && t.After(until) {
				return nil
			}
			if t.Before(since) || !f.match(ev) {
				continue
			}
			if err := o.Print(ev); err != nil {
				return err
			}
		}
		if !until.IsZero() && !time.Now().Before(until) {
			return nil
		}
		select {
		case <-o.Done:
			return nil
		case <-time.After(eventsPoll):
		}
	}
}

// eventFilters are events' --filter values by key: values of one key are
// OR'ed, keys AND'ed.
type eventFilters map[string][]string

var eventFilterKeys = map[string]bool{
	"container": true, "event": true, "image": true, "label": true, "type": true,
	"volume": true, "network": true, "daemon": true, "scope": true,
}

func parseEventFilters(list []string) (eventFilters, error) {
	f := eventFilters{}
	for _, s := range list {
		k, v, err := filterArg(s, eventFilterKeys)
		if err != nil {
			return nil, err
		}
		f[k] = append(f[k], v)
	}
	return f, nil
}

func (f eventFilters) match(ev store.Event) bool {
	any := func(key string, fn func(v string) bool) bool { return anyOf(f[key], fn) }
	attrs := ev.Actor.Attributes
	return any("type", func(v string) bool { return ev.Type == v }) &&
		// "exec_create" selects "exec_create: sh -c ...".
		any("event", func(v string) bool { return ev.Action == v || strings.HasPrefix(ev.Action, v+":") }) &&
		any("container", func(v string) bool {
			return ev.Type == "container" && (strings.HasPrefix(ev.Actor.ID, v) || attrs["name"] == v)
		}) &&
		any("image", func(v string) bool {
			if ev.Type == "image" {
				return sameImageRef(ev.Actor.ID, v) || sameImageRef(attrs["name"], v)
			}
			return sameImageRef(attrs["image"], v)
		}) &&
		any("label", func(v string) bool { return labelMatch(attrs, v) }) &&
		any("volume", func(v string) bool { return ev.Type == "volume" && ev.Actor.ID == v }) &&
		any("network", func(string) bool { return false }) && // skiff has no networks to report on
		any("daemon", func(string) bool { return false }) &&
		any("scope", func(v string) bool { return v == "local" })
}

// sameImageRef compares image references as Docker's image filter does:
// "busybox" matches "busybox:latest" and "docker.io/library/busybox".
func sameImageRef(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	if id, ok := strings.CutPrefix(a, "sha256:"); ok {
		return strings.HasPrefix(id, strings.TrimPrefix(b, "sha256:")) // an id or its prefix
	}
	return familiarRef(a) == familiarRef(b)
}
