package isolate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrNoFreezer: the container has no cgroup to freeze (rootless without a
// delegated v2 subtree, or on v1), so pause cannot work.
var ErrNoFreezer = errors.New("container has no cgroup to freeze")

// Freeze stops every process of c's cgroup (pause): cgroup.freeze on v2,
// freezer.state FROZEN on v1. It returns once the kernel reports the
// cgroup frozen.
func Freeze(c *Container) error { return setFrozen(c, true) }

// Thaw resumes the processes Freeze stopped (unpause).
func Thaw(c *Container) error { return setFrozen(c, false) }

func setFrozen(c *Container, frozen bool) error {
	g := cgroupFor(c)
	if g == nil {
		_, why := CgroupsAvailable()
		return fmt.Errorf("%w: %s", ErrNoFreezer, why)
	}
	return g.setFrozen(frozen)
}

// setFrozen writes the freezer file and waits for the state to settle
// (v1 reports FREEZING while tasks are still being stopped).
func (g *cgroup) setFrozen(frozen bool) error {
	dir, file, val, want := g.dirs["freezer"], "freezer.state", "THAWED", "THAWED"
	if frozen {
		val, want = "FROZEN", "FROZEN"
	}
	if g.v2 {
		dir, file, val, want = g.dirs[""], "cgroup.freeze", "0", "frozen 0"
		if frozen {
			val, want = "1", "frozen 1"
		}
	}
	if dir == "" {
		return fmt.Errorf("%w: no freezer hierarchy", ErrNoFreezer)
	}
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("%w: %v", ErrNoFreezer, err)
	}
	for range 500 {
		if err := writeCg(dir, file, val); err != nil {
			return err
		}
		if g.frozenState(dir) == want {
			return nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("cgroup %s did not reach %s", dir, want)
}

// frozenState is the v1 freezer.state, or v2's "frozen N" line of
// cgroup.events.
func (g *cgroup) frozenState(dir string) string {
	if !g.v2 {
		b, _ := os.ReadFile(filepath.Join(dir, "freezer.state"))
		return strings.TrimSpace(string(b))
	}
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "frozen ") {
			return line
		}
	}
	return ""
}

// thaw resumes a frozen cgroup before it is destroyed: on v1 frozen tasks
// do not die of SIGKILL until thawed. Errors do not matter there.
func (g *cgroup) thaw() {
	if dir := g.dirs["freezer"]; !g.v2 && dir != "" {
		os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0)
	}
	if dir := g.dirs[""]; g.v2 && dir != "" {
		os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0)
	}
}
