package image

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/skiff-dev/skiff/store"
)

func TestStepKey(t *testing.T) {
	base := StepKey("sha256:aa", "RUN echo hi", "x")
	tests := []struct {
		name string
		key  string
		same bool
	}{
		{"identical", StepKey("sha256:aa", "RUN echo hi", "x"), true},
		{"other parent", StepKey("sha256:bb", "RUN echo hi", "x"), false},
		{"other instruction", StepKey("sha256:aa", "RUN echo ho", "x"), false},
		{"other checksum", StepKey("sha256:aa", "RUN echo hi", "y"), false},
		{"no checksum", StepKey("sha256:aa", "RUN echo hi"), false},
		{"parts shifted", StepKey("sha256:aa", "RUN echo h", "ix"), false},
		{"split differently", StepKey("sha256:aa", "RUN echo hi", "", "x"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.key == base) != tt.same {
				t.Errorf("key equal to base: %v, want %v", tt.key == base, tt.same)
			}
		})
	}
}

// checksumOf sums the files of dir (names relative to it) without a cache.
func checksumOf(t *testing.T, sc *StatCache, dir string) string {
	t.Helper()
	var entries []SumEntry
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		entries = append(entries, SumEntry{Name: rel, Path: p, Info: fi})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := sc.Checksum(entries)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestChecksum: content, mode, owner, names and link targets change the
// checksum; times do not.
func TestChecksum(t *testing.T) {
	tests := []struct {
		name   string
		change func(dir string) error
		same   bool
	}{
		{"nothing", func(string) error { return nil }, true},
		{"mtime only", func(d string) error {
			old := time.Now().Add(-time.Hour)
			return os.Chtimes(filepath.Join(d, "a"), old, old)
		}, true},
		{"content same size", func(d string) error { return os.WriteFile(filepath.Join(d, "a"), []byte("AAA\n"), 0o644) }, false},
		{"mode", func(d string) error { return os.Chmod(filepath.Join(d, "a"), 0o600) }, false},
		{"owner", func(d string) error { return os.Lchown(filepath.Join(d, "a"), 4321, 4321) }, false},
		{"rename", func(d string) error { return os.Rename(filepath.Join(d, "a"), filepath.Join(d, "b")) }, false},
		{"new file", func(d string) error { return os.WriteFile(filepath.Join(d, "c"), nil, 0o644) }, false},
		{"link target", func(d string) error {
			os.Remove(filepath.Join(d, "l"))
			return os.Symlink("elsewhere", filepath.Join(d, "l"))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "owner" && os.Geteuid() != 0 {
				t.Skip("chown needs root")
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "a"), []byte("aaa\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("a", filepath.Join(dir, "l")); err != nil {
				t.Fatal(err)
			}
			before := checksumOf(t, nil, dir)
			if err := tt.change(dir); err != nil {
				t.Fatal(err)
			}
			if after := checksumOf(t, nil, dir); (after == before) != tt.same {
				t.Errorf("checksum unchanged: %v, want %v", after == before, tt.same)
			}
		})
	}
}

// TestStatCache: a file whose stat is unchanged is not read again (its
// remembered hash is used, even if wrong); a changed stat rehashes, and
// the cache survives a reload from the store.
func TestStatCache(t *testing.T) {
	st, err := store.Open(t.TempDir(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bc, err := OpenBuildCache(st)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.TempDir()
	f := filepath.Join(ctx, "f")
	if err := os.WriteFile(f, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc := bc.StatCache(ctx)
	fi, _ := os.Lstat(f)
	h1, err := sc.FileHash(f, fi)
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Save(); err != nil {
		t.Fatal(err)
	}
	sc = bc.StatCache(ctx)
	e := sc.Entries[f]
	if e.Hash != h1 {
		t.Fatalf("reloaded cache has %q for f, want %q", e.Hash, h1)
	}
	e.Hash = "planted"
	sc.Entries[f] = e
	if h, _ := sc.FileHash(f, fi); h != "planted" {
		t.Errorf("unchanged stat: hash %q, want the cached one", h)
	}
	if err := os.WriteFile(f, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Lstat(f)
	if h, _ := sc.FileHash(f, fi); h == "planted" || h == h1 {
		t.Errorf("changed file: hash %q, want a fresh one", h)
	}
}

func TestBuildCachePutGetPrune(t *testing.T) {
	st, err := store.Open(t.TempDir(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bc, err := OpenBuildCache(st)
	if err != nil {
		t.Fatal(err)
	}
	key := StepKey("sha256:aa", "CMD x")
	if _, ok := bc.Get(key); ok {
		t.Fatal("empty cache has the key")
	}
	if err := bc.Put(key, "sha256:bb"); err != nil {
		t.Fatal(err)
	}
	if id, ok := bc.Get(key); !ok || id != "sha256:bb" {
		t.Errorf("Get = %q, %v", id, ok)
	}
	if ids := bc.ImageIDs(); len(ids) != 1 || ids[0] != "sha256:bb" {
		t.Errorf("ImageIDs = %v", ids)
	}
	if n, err := bc.Prune(); err != nil || n != 1 {
		t.Errorf("Prune = %d, %v", n, err)
	}
	if _, ok := bc.Get(key); ok {
		t.Error("key survives Prune")
	}
}
