package container

import (
	"os"
	"path/filepath"

	"github.com/skiff-dev/skiff/isolate"
)

// isolateContainer is what the supervisor hands isolate: the record's OCI
// spec and its overlay rootfs. The files and directories the spec names
// are made in isolate's Prepare hook, while the container's process starts
// up, instead of before it; started(pid) runs in its Started hook, while
// that process mounts the container's filesystems.
func isolateContainer(cs *Store, c *Container, started func(pid int) error) (*isolate.Container, error) {
	spec, err := newSpec(c)
	if err != nil {
		return nil, err
	}
	ic := &isolate.Container{
		ID:   c.ID,
		Spec: spec,
		// Made by what needs it (a rootless network tool's pid file).
		StateDir: filepath.Join(cs.RunDir(c.ID), "isolate"),
	}
	if len(c.Rootfs.LowerDirs) > 0 {
		ic.Rootfs = RootfsMount(c)
	}
	if err := joinNetwork(cs, c, spec); err != nil {
		return nil, err
	}
	if err := RootlessNetwork(c, spec, ic.StateDir); err != nil {
		return nil, err
	}
	ic.Prepare = func(int) error { return prepareFiles(c) }
	ic.Started = started
	return ic, nil
}

// prepareFiles writes the /etc files and makes the rootfs's mount point
// and overlay dirs: at every start, since a reboot wipes the runtime dir,
// the host's resolv.conf may have changed, and create leaves the overlay
// dirs to the first start.
func prepareFiles(c *Container) error {
	if c.HostsPath != "" {
		if err := WriteUserdata(c); err != nil {
			return err
		}
	}
	if c.Rootfs.MergedDir != "" {
		if err := os.MkdirAll(c.Rootfs.MergedDir, 0o700); err != nil {
			return err
		}
	}
	return PrepareRootfs(c)
}
