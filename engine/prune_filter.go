package engine

import (
	"slices"
	"time"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/store"
)

// PruneFilter is the --filter of Docker's prune commands: until=TIME keeps
// what was created at or after TIME (a timestamp, or a duration back from
// now), label=KEY[=VALUE] prunes only what has all of them, label!=...
// keeps what has all of those. A zero PruneFilter prunes everything.
type PruneFilter struct {
	Until     time.Time
	Labels    []string
	NotLabels []string
	// All: not only dangling images or anonymous volumes. Image prune's
	// dangling=false and volume prune's all=true, which their -a set.
	All bool
}

// Prune filter keys each command accepts, as Docker's daemon does.
var (
	ContainerPruneKeys = map[string]bool{"until": true, "label": true, "label!": true}
	ImagePruneKeys     = map[string]bool{"until": true, "label": true, "label!": true, "dangling": true}
	VolumePruneKeys    = map[string]bool{"label": true, "label!": true, "all": true}
)

// ParsePruneFilter reads the --filter values; keys outside allowed are
// Docker's "invalid filter" error.
func ParsePruneFilter(args []string, allowed map[string]bool, now time.Time) (PruneFilter, error) {
	var f PruneFilter
	seenUntil := false
	for _, a := range args {
		k, v, err := filterArg(a, allowed)
		if err != nil {
			return f, err
		}
		switch k {
		case "until":
			if seenUntil {
				return f, store.Invalid("more than one until filter specified")
			}
			seenUntil = true
			t, err := container.ParseLogTime(v, now)
			if err != nil {
				return f, err
			}
			f.Until = t
		case "label":
			f.Labels = append(f.Labels, v)
		case "label!":
			f.NotLabels = append(f.NotLabels, v)
		case "all":
			f.All = f.All || v == "true" || v == "1"
		case "dangling":
			dangling, err := parseDangling(v)
			if err != nil {
				return f, err
			}
			f.All = f.All || !dangling
		}
	}
	return f, nil
}

// Match says whether an object created at created with these labels may
// be pruned.
func (f PruneFilter) Match(created time.Time, labels map[string]string) bool {
	if !f.Until.IsZero() && !created.Before(f.Until) {
		return false
	}
	for _, l := range f.Labels {
		if !labelMatch(labels, l) {
			return false
		}
	}
	if len(f.NotLabels) > 0 && !slices.ContainsFunc(f.NotLabels, func(l string) bool { return !labelMatch(labels, l) }) {
		return false // it has every label! the filter names: kept
	}
	return true
}

// needsLabels says whether Match looks at labels at all (image labels
// cost a config read each).
func (f PruneFilter) needsLabels() bool { return len(f.Labels)+len(f.NotLabels) > 0 }
