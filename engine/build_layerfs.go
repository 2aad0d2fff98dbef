package engine

import (
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/skiff-dev/skiff/isolate"
)

// layerLookup finds p in an image's unpacked layers (base first), as the
// overlay would show it: the top-most layer that has it wins, and a
// whiteout, an opaque directory or a file in place of a parent hides
// what lies below.
func layerLookup(layers []string, p string) (string, os.FileInfo, bool) {
	p = path.Clean("/" + p)
	for i := len(layers) - 1; i >= 0; i-- {
		host, fi, state := lookupIn(layers[i], p)
		switch state {
		case lookupFound:
			return host, fi, true
		case lookupHidden:
			return "", nil, false
		}
	}
	return "", nil, false
}

type lookupState int

const (
	lookupAbsent lookupState = iota // not in this layer: look below
	lookupFound
	lookupHidden // deleted or shadowed by this layer
)

func lookupIn(layer, p string) (string, os.FileInfo, lookupState) {
	cur := layer
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if p == "/" {
		parts = nil
	}
	opaque := false
	for i, part := range parts {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			if opaque {
				return "", nil, lookupHidden
			}
			return "", nil, lookupAbsent
		}
		if isolate.IsWhiteout(cur, fi) {
			return "", nil, lookupHidden
		}
		if i == len(parts)-1 {
			return cur, fi, lookupFound
		}
		if !fi.IsDir() {
			return "", nil, lookupHidden
		}
		opaque = isolate.IsOpaqueDir(cur)
	}
	fi, err := os.Lstat(layer)
	if err != nil {
		return "", nil, lookupAbsent
	}
	return layer, fi, lookupFound
}

func layerExists(layers []string, p string) bool {
	_, _, ok := layerLookup(layers, p)
	return ok
}
