package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAtomicWrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(path string, data []byte, perm os.FileMode) error
	}{
		{"durable", WriteFile},
		{"nosync", WriteFileNoSync},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "sub", "rec.json")
			for _, content := range []string{"first", "second"} {
				if err := tc.write(p, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(p)
				if err != nil || string(got) != content {
					t.Fatalf("read %q, %v; want %q", got, err, content)
				}
			}
			fi, err := os.Stat(p)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
			}
			ents, _ := os.ReadDir(filepath.Dir(p))
			if len(ents) != 1 {
				t.Errorf("%d entries left in the directory, want only the file (no temp files)", len(ents))
			}
		})
	}
}

// TestReadJSON: sizes around the pooled buffer's (readSmall grows it), an
// empty file, and a missing one (ErrNotFound).
func TestReadJSON(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 8<<10 - 8, 8 << 10, 64 << 10} {
		want := strings.Repeat("x", n)
		p := filepath.Join(dir, fmt.Sprintf("f%d.json", n))
		if err := WriteFileNoSync(p, []byte(`"`+want+`"`), 0o600); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := ReadJSON(p, &got); err != nil || got != want {
			t.Errorf("size %d: got %d bytes, err %v", n, len(got), err)
		}
	}
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := ReadJSON(empty, &v); err == nil {
		t.Error("empty file decoded without error")
	}
	if err := ReadJSON(filepath.Join(dir, "missing.json"), &v); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: %v, want ErrNotFound", err)
	}
}
