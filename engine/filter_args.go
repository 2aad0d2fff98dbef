package engine

import (
	"slices"
	"strings"

	"github.com/skiff-dev/skiff/store"
)

// The --filter KEY=VALUE arguments of ps, events, images and the prune
// commands: values of one key are OR'ed, keys AND'ed (Docker's rule).

// filterArg splits one --filter argument into its key (lower case) and
// value, with Docker's errors for a missing "=" and a key not in known.
// "label!=k=v" splits into "label!" and "k=v".
func filterArg(s string, known map[string]bool) (key, value string, err error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", store.Invalid("bad format of filter (expected name=value)")
	}
	k = strings.ToLower(strings.TrimSpace(k))
	if !known[k] {
		return "", "", store.Invalid("invalid filter '%s'", k)
	}
	return k, v, nil
}

// anyOf is one filter key's test: no values, or any value that fn accepts.
func anyOf(vals []string, fn func(v string) bool) bool {
	return len(vals) == 0 || slices.ContainsFunc(vals, fn)
}

// labelMatch is Docker's label filter: "key" or "key=value".
func labelMatch(labels map[string]string, filter string) bool {
	k, val, hasVal := strings.Cut(filter, "=")
	got, ok := labels[k]
	return ok && (!hasVal || got == val)
}

// parseDangling reads dangling=true|false (or 1|0).
func parseDangling(v string) (bool, error) {
	switch v {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, store.Invalid("invalid filter 'dangling=%s'", v)
}
