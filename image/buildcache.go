package image

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/skiff-dev/skiff/store"
)

// BuildCache is the classic builder's step cache, persisted in the store:
//
//	<root>/build-cache/steps/<key>      the id of the image a step produced
//	<root>/build-cache/stat/<ctx>.json  file hashes by stat, per build context
//
// A step's result is an ordinary (untagged) image in the image store; the
// cache only remembers which image a key produced, so a cached image that
// was removed is simply a miss.
type BuildCache struct {
	dir string
}

// OpenBuildCache opens (creating) the build cache of st.
func OpenBuildCache(st *store.Store) (*BuildCache, error) {
	dir, err := st.Dir("build-cache")
	if err != nil {
		return nil, err
	}
	return &BuildCache{dir: dir}, nil
}

// StepKey is the cache key of one build step: the image it starts from,
// the instruction as it runs (after ARG/ENV expansion, with the build args
// a RUN sees, as its created-by line has them) and, for COPY/ADD, the
// checksum of what it copies. Each part is length-prefixed so that no two
// different lists hash alike.
func StepKey(parentID, instruction string, extra ...string) string {
	h := sha256.New()
	for _, part := range append([]string{"skiff-build-v1", parentID, instruction}, extra...) {
		var n [8]byte
		l := uint64(len(part))
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (c *BuildCache) stepPath(key string) string { return filepath.Join(c.dir, "steps", key) }

// Get returns the image id a key produced.
func (c *BuildCache) Get(key string) (string, bool) {
	data, err := os.ReadFile(c.stepPath(key))
	if err != nil {
		return "", false
	}
	id := strings.TrimSpace(string(data))
	if !strings.HasPrefix(id, "sha256:") {
		return "", false
	}
	return id, true
}

// Put records that key produced the image id.
func (c *BuildCache) Put(key, id string) error {
	if err := os.MkdirAll(filepath.Join(c.dir, "steps"), 0o700); err != nil {
		return err
	}
	return writeNoSync(c.stepPath(key), []byte(id+"\n"))
}

// writeNoSync replaces path atomically (temp file + rename) but does not
// fsync: a cache entry lost in a crash only costs a rebuild of that step,
// and on a busy disk each fsync costs more than a cached build.
func writeNoSync(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if e := f.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// ImageIDs are the images the recorded steps produced.
func (c *BuildCache) ImageIDs() []string {
	names, _ := os.ReadDir(filepath.Join(c.dir, "steps"))
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if id, ok := c.Get(n.Name()); ok && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Prune forgets every step and file hash and returns how many step
// records it removed. The images the steps produced stay; untagged ones are
// image prune's to remove.
func (c *BuildCache) Prune() (int, error) {
	n := 0
	if names, err := os.ReadDir(filepath.Join(c.dir, "steps")); err == nil {
		n = len(names)
	}
	var errs []error
	for _, sub := range []string{"steps", "stat"} {
		errs = append(errs, os.RemoveAll(filepath.Join(c.dir, sub)))
	}
	return n, errors.Join(errs...)
}
