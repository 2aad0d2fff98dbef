package e2e

// Hostile layers: every entry aims at a sentinel directory outside any store
// (world-writable, so rootless runs could write there too if skiff let them).
// The sentinel must look exactly as it was made when each test and the whole
// suite end.

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
)

const sentinelBody = "sentinel\n"

func sentinelDir() string { return filepath.Join(baseDir, "sentinel") }

// up climbs past any store depth to /, so up()+abs names abs from anywhere.
func up(abs string) string {
	return strings.Repeat("../", 40) + strings.TrimPrefix(abs, "/")
}

func makeSentinel() error {
	s := sentinelDir()
	if err := os.MkdirAll(filepath.Join(s, "dir"), 0o777); err != nil {
		return err
	}
	for _, d := range []string{s, filepath.Join(s, "dir")} {
		if err := os.Chmod(d, 0o777); err != nil {
			return err
		}
	}
	t := filepath.Join(s, "target")
	if err := os.WriteFile(t, []byte(sentinelBody), 0o666); err != nil {
		return err
	}
	return os.Chmod(t, 0o666)
}

// checkSentinel reports anything added to or changed in the sentinel.
func checkSentinel() error {
	s := sentinelDir()
	var problems []string
	filepath.Walk(s, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			problems = append(problems, err.Error())
			return nil
		}
		switch rel, _ := filepath.Rel(s, p); rel {
		case ".", "dir":
			if !fi.IsDir() {
				problems = append(problems, rel+" is no longer a directory")
			}
		case "target":
			b, _ := os.ReadFile(p)
			if !fi.Mode().IsRegular() || string(b) != sentinelBody {
				problems = append(problems, fmt.Sprintf("target changed: %q", b))
			}
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink != 1 {
				problems = append(problems, fmt.Sprintf("target has %d links: a layer hardlinked it", st.Nlink))
			}
		default:
			problems = append(problems, "created "+p)
		}
		return nil
	})
	sort.Strings(problems)
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// hostileAttacks are the layers of each hostile-<kind> image; hostile:latest
// has them all in one layer.
func hostileAttacks() map[string][][]entry {
	s := sentinelDir()
	d, t := filepath.Join(s, "dir"), filepath.Join(s, "target")
	return map[string][][]entry{
		"dotdot":      {{file(up(filepath.Join(s, "pwned-dotdot")), "pwned\n")}},
		"abs":         {{file(filepath.Join(s, "pwned-abs"), "pwned\n")}},
		"symlink":     {{symlink("evil", d), file("evil/pwned-symlink", "pwned\n")}},
		"symlinkrel":  {{symlink("evilrel", up(d)), file("evilrel/pwned-symlinkrel", "pwned\n")}},
		"hardlink":    {{hardlink("hl", t), file("hl", "pwned-hardlink\n")}},
		"hardlinkrel": {{hardlink("hlrel", up(t)), file("hlrel", "pwned-hardlinkrel\n")}},
		// The symlink and the write through it in different layers.
		"parent": {{symlink("evilp", d)}, {dir("evilp"), file("evilp/pwned-parent", "pwned\n")}},
		// A symlink whose target is a symlink chain leading out.
		"chain": {{symlink("c1", "c2"), symlink("c2", up(d)), file("c1/pwned-chain", "pwned\n")}},
	}
}

func pushHostile() error {
	arch := runtime.GOARCH
	attacks := hostileAttacks()
	fx.HostileKinds = map[string]*Fixture{}
	var all []entry
	for _, kind := range sortedKeys(attacks) {
		var steps []step
		for _, layer := range attacks[kind] {
			steps = append(steps, step{dockerLayer(layer...), "ADD hostile-" + kind + " # e2e"})
			if kind != "parent" {
				all = append(all, layer...)
			}
		}
		f, err := pushFixture("hostile-"+kind, buildImage(false, arch, []string{"sh"}, steps...))
		if err != nil {
			return err
		}
		fx.HostileKinds[kind] = f
	}
	f, err := pushFixture("hostile", buildImage(false, arch, []string{"sh"}, step{dockerLayer(all...), "ADD hostile # e2e"}))
	fx.Hostile = f
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestPullHostile: a layer full of escapes fails to pull with exit 125 and a
// one-line error (Docker refuses "../" entries), writes nothing outside the
// store and leaves `images` as it was.
func TestPullHostile(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		before := env.mustRun("images", "-q", "--no-trunc")
		env.mustFail(125, "pull", fx.Hostile.Short)
		if after := env.mustRun("images", "-q", "--no-trunc"); after != before {
			t.Errorf("images changed by a failed pull:\nbefore %q\nafter  %q", before, after)
		}
		if err := checkSentinel(); err != nil {
			t.Errorf("escaped the store: %v", err)
		}
	})
}

// TestPullHostileKinds: each attack alone. Docker rejects some (../, links
// out of the layer) and contains others (absolute names and link targets are
// read inside the root); either is fine, escaping is not.
func TestPullHostileKinds(t *testing.T) {
	t.Parallel()
	for _, kind := range sortedKeys(fx.HostileKinds) {
		f := fx.HostileKinds[kind]
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			forEachMode(t, func(t *testing.T, env *Env) {
				res := env.run("pull", "-q", f.Short)
				switch res.Code {
				case 0:
					if got := strings.TrimSpace(env.mustRun("image", "inspect", "--format", "{{.Id}}", f.Short)); got != f.ID {
						t.Errorf("pulled %s has id %s, want %s", f.Short, got, f.ID)
					}
				case 125:
					if errs := errorLines(res.Stderr); len(errs) != 1 {
						t.Errorf("want a one-line error, got:\n%s", res.Stderr)
					}
				default:
					t.Errorf("pull %s: exit %d, want 0 or 125\n%s", f.Short, res.Code, res.Stderr)
				}
				if err := checkSentinel(); err != nil {
					t.Errorf("escaped the store: %v", err)
				}
			})
		})
	}
}
