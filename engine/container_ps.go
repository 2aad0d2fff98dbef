package engine

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/store"
)

// PsOptions are ps's selection flags (formatting stays in main).
type PsOptions struct {
	All     bool
	Last    int // -n; -l is 1
	Filters []string
	Size    bool
}

// PsEntry is one listed container, with its size when asked.
type PsEntry struct {
	*container.Container
	SizeRw     int64
	SizeRootFs int64
}

// Ps lists containers, newest first, filtered as docker ps does.
func (e *Engine) Ps(o PsOptions) ([]PsEntry, error) {
	f, err := parsePsFilters(o.Filters)
	if err != nil {
		return nil, err
	}
	cs, err := e.containers()
	if err != nil {
		return nil, err
	}
	// Sizes need the rootfs plan, which summaries leave out.
	list := cs.ListSummaries
	if o.Size {
		list = cs.List
	}
	ctrs, err := list()
	if err != nil {
		return nil, err
	}
	if err := f.resolveRefs(cs); err != nil {
		return nil, err
	}
	var is *image.Store
	if len(f.vals["ancestor"]) > 0 {
		if is, err = image.Open(e.Store); err != nil {
			return nil, err
		}
	}
	all := o.All || o.Last > 0 || len(f.vals["status"]) > 0 || len(f.vals["exited"]) > 0
	var out []PsEntry
	for _, c := range ctrs {
		if !all && !c.IsRunning() {
			continue
		}
		if !f.match(c, is) {
			continue
		}
		if o.Last > 0 && len(out) >= o.Last {
			break
		}
		p := PsEntry{Container: c}
		if o.Size {
			p.SizeRw, p.SizeRootFs = containerSizes(c)
		}
		out = append(out, p)
	}
	return out, nil
}

// psFilters are ps's --filter values by key; name filters are compiled
// once, not once per container.
type psFilters struct {
	vals    map[string][]string
	names   []func(name string) bool
	created map[string]time.Time // before= and since= containers' creation
}

// resolveRefs finds the containers before= and since= name.
func (f *psFilters) resolveRefs(cs *container.Store) error {
	for _, k := range []string{"before", "since"} {
		for _, ref := range f.vals[k] {
			c, err := cs.Lookup(ref)
			if err != nil {
				return err
			}
			if f.created == nil {
				f.created = map[string]time.Time{}
			}
			f.created[k+"="+ref] = c.Created
		}
	}
	return nil
}

var psFilterKeys = map[string]bool{
	"status": true, "name": true, "id": true, "label": true, "ancestor": true, "exited": true,
	"health": true, "before": true, "since": true, "volume": true,
}

func parsePsFilters(list []string) (psFilters, error) {
	f := psFilters{vals: map[string][]string{}}
	for _, s := range list {
		k, v, err := filterArg(s, psFilterKeys)
		if err != nil {
			return psFilters{}, err
		}
		switch k {
		case "status":
			switch container.Status(v) {
			case container.StatusCreated, container.StatusRunning, container.StatusPaused,
				container.StatusRestarting, container.StatusRemoving, container.StatusExited, container.StatusDead:
			default:
				return psFilters{}, store.Invalid("invalid filter 'status=%s'", v)
			}
		case "exited":
			if _, err := strconv.Atoi(v); err != nil {
				return psFilters{}, store.Invalid("invalid filter 'exited=%s'", v)
			}
		case "health":
			switch v {
			case "starting", "healthy", "unhealthy", "none":
			default:
				return psFilters{}, store.Invalid("invalid filter 'health=%s'", v)
			}
		}
		if k == "name" {
			f.names = append(f.names, nameMatcher(v))
		}
		f.vals[k] = append(f.vals[k], v)
	}
	return f, nil
}

// match: values of one key are OR'ed, keys are AND'ed (Docker's rule).
func (f psFilters) match(c *container.Container, is *image.Store) bool {
	any := func(key string, fn func(v string) bool) bool { return anyOf(f.vals[key], fn) }
	return any("status", func(v string) bool { return string(c.State.Status) == v }) &&
		(len(f.names) == 0 || slices.ContainsFunc(f.names, func(m func(string) bool) bool { return m(c.Name) })) &&
		any("id", func(v string) bool { return strings.HasPrefix(c.ID, v) }) &&
		any("exited", func(v string) bool {
			n, _ := strconv.Atoi(v)
			return c.State.Status == container.StatusExited && c.State.ExitCode == n
		}) &&
		any("label", func(v string) bool { return labelMatch(c.Config.Labels, v) }) &&
		any("ancestor", func(v string) bool { return ancestorMatch(c, v, is) }) &&
		any("health", func(v string) bool {
			if c.State.Health == nil {
				return v == "none"
			}
			return c.State.Health.Status == v
		}) &&
		any("before", func(v string) bool { return c.Created.Before(f.created["before="+v]) }) &&
		any("since", func(v string) bool { return c.Created.After(f.created["since="+v]) }) &&
		any("volume", func(v string) bool {
			return slices.ContainsFunc(c.Mounts, func(m container.Mount) bool { return m.Name == v || m.Destination == v })
		})
}

// nameMatcher is Docker's name filter: a regular expression matched
// against the name with and without its leading "/" (so both ^web$ and
// ^/web$ select "web"); a value that is no valid expression matches as a
// substring.
func nameMatcher(expr string) func(name string) bool {
	re, err := regexp.Compile(expr)
	if err != nil {
		sub := strings.TrimPrefix(expr, "/")
		return func(name string) bool { return strings.Contains(name, sub) }
	}
	return func(name string) bool { return re.MatchString(name) || re.MatchString("/"+name) }
}

func ancestorMatch(c *container.Container, ref string, is *image.Store) bool {
	if c.Config.Image == ref || strings.HasPrefix(strings.TrimPrefix(c.ImageID, "sha256:"), strings.TrimPrefix(ref, "sha256:")) {
		return true
	}
	if is == nil {
		return false
	}
	img, err := is.Lookup(ref)
	return err == nil && img.ID == c.ImageID
}
