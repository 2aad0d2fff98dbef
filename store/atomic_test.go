package store

import (
	"os"
	"path/filepath"
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
