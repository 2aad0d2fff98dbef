package e2e

// Rootless storage: with no --root, a user's store lands under
// $XDG_DATA_HOME/skiff and $XDG_RUNTIME_DIR/skiff, private to that user.

import (
	"os"
	"strings"
	"testing"
)

func TestRootlessDefaultStore(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"skiffsub", "skiffnosub"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			env := newEnvAs(t, users[mode])
			env.DefaultRoots = true
			env.mustRun("pull", "-q", "busybox")
			if _, err := os.Stat(env.Root); err != nil {
				t.Fatalf("no store at $XDG_DATA_HOME/skiff: %v", err)
			}
			checkStoreOwnership(t, env)
			if got := strings.TrimSpace(env.mustRun("images", "-q")); got != fx.Busybox.ShortID() {
				t.Errorf("images -q = %q", got)
			}
			// Another user's skiff cannot read this store, even with every
			// directory above it open: the store's own 0700 keeps it private.
			for _, d := range []string{env.Dir, env.Path("data")} {
				if err := os.Chmod(d, 0o711); err != nil {
					t.Fatal(err)
				}
			}
			other := newEnvAs(t, users[otherMode(mode)])
			other.Root = env.Root
			if res := other.run("images", "-q"); res.Code == 0 && strings.Contains(res.Stdout, fx.Busybox.ShortID()) {
				t.Errorf("%s listed %s's images: %q", other.Mode, mode, res.Stdout)
			}
		})
	}
}

func otherMode(m string) string {
	if m == "skiffsub" {
		return "skiffnosub"
	}
	return "skiffsub"
}
