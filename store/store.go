// Package store owns skiff's on-disk root: where things live, how records are
// written atomically, how concurrent skiff processes lock each other out, and
// the typed errors every layer above shares. It knows nothing of images or
// containers; those packages choose their own sub-directories.
package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Store is an opened skiff root (persistent data) and run root (sockets,
// mount points and pids, which a reboot may wipe).
type Store struct {
	Root    string
	RunRoot string
}

// Rootless reports whether this process runs without host root. It decides
// default paths here and id mapping elsewhere. A rootless CLI re-executes
// itself into a user namespace (engine/rootless.go) where it is uid 0, so
// root of a user namespace other than the host's counts as rootless too.
func Rootless() bool { return os.Geteuid() != 0 || InUserNS() }

// InUserNS reports whether this process runs in a user namespace other
// than the host's (its uid map is not the host's identity map). It is read
// once per process: the uid map of a process never changes after it is
// written, and Rootless is asked on hot paths.
var InUserNS = sync.OnceValue(readInUserNS)

func readInUserNS() bool {
	data, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	f := strings.Fields(string(data))
	return !(len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295")
}

// DefaultRoot is /var/lib/skiff for root and $XDG_DATA_HOME/skiff (default
// ~/.local/share/skiff) otherwise, as Podman lays out its storage.
func DefaultRoot() string {
	if v := os.Getenv("SKIFF_ROOT"); v != "" {
		return v
	}
	if !Rootless() {
		return "/var/lib/skiff"
	}
	if v := os.Getenv("XDG_DATA_HOME"); v != "" {
		return filepath.Join(v, "skiff")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = filepath.Join(os.TempDir(), fmt.Sprintf("skiff-home-%d", os.Geteuid()))
	}
	return filepath.Join(home, ".local", "share", "skiff")
}

// DefaultRunRoot is /run/skiff for root and $XDG_RUNTIME_DIR/skiff otherwise;
// without XDG_RUNTIME_DIR it falls back to a private per-user directory under
// the temp dir, as Podman does.
func DefaultRunRoot() string {
	if v := os.Getenv("SKIFF_RUNROOT"); v != "" {
		return v
	}
	if !Rootless() {
		return "/run/skiff"
	}
	if v := os.Getenv("XDG_RUNTIME_DIR"); v != "" {
		return filepath.Join(v, "skiff")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("skiff-run-%d", os.Geteuid()))
}

// Open creates (if needed) and returns the store rooted at root and runRoot.
// Both directories are made 0700: a store is private to its owner.
func Open(root, runRoot string) (*Store, error) {
	if root == "" {
		root = DefaultRoot()
	}
	if runRoot == "" {
		runRoot = DefaultRunRoot()
	}
	var err error
	if root, err = filepath.Abs(root); err != nil {
		return nil, err
	}
	if runRoot, err = filepath.Abs(runRoot); err != nil {
		return nil, err
	}
	for _, d := range []string{root, runRoot} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	return &Store{Root: root, RunRoot: runRoot}, nil
}

// Path joins elements under the persistent root.
func (s *Store) Path(elem ...string) string {
	return filepath.Join(append([]string{s.Root}, elem...)...)
}

// RunPath joins elements under the runtime root.
func (s *Store) RunPath(elem ...string) string {
	return filepath.Join(append([]string{s.RunRoot}, elem...)...)
}

// Dir returns Path(elem...) after creating it 0700.
func (s *Store) Dir(elem ...string) (string, error) {
	p := s.Path(elem...)
	return p, os.MkdirAll(p, 0o700)
}

// RunDir returns RunPath(elem...) after creating it 0700.
func (s *Store) RunDir(elem ...string) (string, error) {
	p := s.RunPath(elem...)
	return p, os.MkdirAll(p, 0o700)
}
