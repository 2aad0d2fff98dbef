package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// PrepareRootfs makes the directories of the container's rootfs plan
// (PlanRootfs) that do not exist yet: the overlay upper and work dirs and,
// for an image without layers, the empty lower dir. create does not make
// them: on this kind of store (ext4 without a journal) every new inode
// costs 0.1-1 ms when files are deleted nearby, and they were half of
// create's. The supervisor makes them at start (where it makes the mount
// point), and so does every other user of the rootfs (cp, export, diff,
// commit) before it mounts or walks them: a container that never ran has
// none. Once they exist it costs a stat.
func PrepareRootfs(c *Container) error {
	r := &c.Rootfs
	if r.UpperDir == "" {
		return nil
	}
	if _, err := os.Stat(r.WorkDir); err == nil {
		return nil // made together with the upper dir, below
	}
	for _, d := range r.LowerDirs {
		if err := os.MkdirAll(d, 0o700); err != nil { // only the empty placeholder can be missing
			return fmt.Errorf("prepare rootfs: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(r.UpperDir), 0o700); err != nil {
		return fmt.Errorf("prepare rootfs: %w", err)
	}
	// The upper dir's mode is the container's / (overlay takes the upper
	// root's attributes): non-root users in the container must traverse it.
	switch err := os.Mkdir(r.UpperDir, 0o755); {
	case err == nil:
		if err := os.Chmod(r.UpperDir, 0o755); err != nil { // whatever the umask
			return fmt.Errorf("prepare rootfs: %w", err)
		}
	case !errors.Is(err, os.ErrExist):
		return fmt.Errorf("prepare rootfs: %w", err)
	}
	if err := os.MkdirAll(r.WorkDir, 0o700); err != nil {
		return fmt.Errorf("prepare rootfs: %w", err)
	}
	return nil
}
