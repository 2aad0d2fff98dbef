package container

import (
	"os"
	"path/filepath"

	"github.com/skiff-dev/skiff/isolate"
)

// isolateContainer is what the supervisor hands isolate: the record's OCI
// spec and its overlay rootfs. The mount point and overlay dirs are made
// again here because a reboot wipes the runtime dir between runs.
func isolateContainer(cs *Store, c *Container) (*isolate.Container, error) {
	spec, err := BuildSpec(c, nil)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{c.Rootfs.MergedDir, c.Rootfs.UpperDir, c.Rootfs.WorkDir} {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	ic := &isolate.Container{
		ID:       c.ID,
		Spec:     spec,
		StateDir: filepath.Join(cs.RunDir(c.ID), "isolate"),
	}
	if len(c.Rootfs.LowerDirs) > 0 {
		ic.Rootfs = RootfsMount(c)
	}
	if err := RootlessNetwork(c, spec, ic.StateDir); err != nil {
		return nil, err
	}
	return ic, os.MkdirAll(ic.StateDir, 0o700)
}
