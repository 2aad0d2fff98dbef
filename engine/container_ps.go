package engine

import (
	"regexp"
	"strconv"
	"strings"

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
	var is *image.Store
	if len(f["ancestor"]) > 0 {
		if is, err = image.Open(e.Store); err != nil {
			return nil, err
		}
	}
	all := o.All || o.Last > 0 || len(f["status"]) > 0 || len(f["exited"]) > 0
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

type psFilters map[string][]string

var psFilterKeys = map[string]bool{
	"status": true, "name": true, "id": true, "label": true, "ancestor": true, "exited": true,
}

func parsePsFilters(list []string) (psFilters, error) {
	f := psFilters{}
	for _, s := range list {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, store.Invalid("bad format of filter (expected name=value)")
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if !psFilterKeys[k] {
			return nil, store.Invalid("invalid filter '%s'", k)
		}
		switch k {
		case "status":
			switch container.Status(v) {
			case container.StatusCreated, container.StatusRunning, container.StatusPaused,
				container.StatusRestarting, container.StatusRemoving, container.StatusExited, container.StatusDead:
			default:
				return nil, store.Invalid("invalid filter 'status=%s'", v)
			}
		case "exited":
			if _, err := strconv.Atoi(v); err != nil {
				return nil, store.Invalid("invalid filter 'exited=%s'", v)
			}
		}
		f[k] = append(f[k], v)
	}
	return f, nil
}

// match: values of one key are OR'ed, keys are AND'ed (Docker's rule).
func (f psFilters) match(c *container.Container, is *image.Store) bool {
	any := func(key string, fn func(v string) bool) bool {
		vals := f[key]
		if len(vals) == 0 {
			return true
		}
		for _, v := range vals {
			if fn(v) {
				return true
			}
		}
		return false
	}
	return any("status", func(v string) bool { return string(c.State.Status) == v }) &&
		any("name", func(v string) bool { return nameMatch(c.Name, v) }) &&
		any("id", func(v string) bool { return strings.HasPrefix(c.ID, v) }) &&
		any("exited", func(v string) bool {
			n, _ := strconv.Atoi(v)
			return c.State.Status == container.StatusExited && c.State.ExitCode == n
		}) &&
		any("label", func(v string) bool {
			k, val, hasVal := strings.Cut(v, "=")
			got, ok := c.Config.Labels[k]
			return ok && (!hasVal || got == val)
		}) &&
		any("ancestor", func(v string) bool { return ancestorMatch(c, v, is) })
}

// nameMatch is Docker's name filter: a regular expression matched against
// the name with and without its leading "/" (so both ^web$ and ^/web$
// select "web"); a value that is no valid expression matches as a substring.
func nameMatch(name, expr string) bool {
	re, err := regexp.Compile(expr)
	if err != nil {
		return strings.Contains(name, strings.TrimPrefix(expr, "/"))
	}
	return re.MatchString(name) || re.MatchString("/"+name)
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
