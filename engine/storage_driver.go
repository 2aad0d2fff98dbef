package engine

import (
	"io"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/image"
)

// What the storage drivers change for the commands that read a container's
// filesystem outside it. Kernel overlay and fuse-overlayfs keep the
// container's changes in its upper dir (image.Diff and container.Changes
// read both kinds); the vfs driver runs it on a full copy of its layers,
// so its changes are found by comparing the copy with them.

// diffRootfs writes a container's changes as a layer tar: its overlay
// upper dir, or, on the vfs driver, its copied rootfs compared with the
// image's layers.
func diffRootfs(w io.Writer, c *container.Container) error {
	if dir := container.CopiedRootfs(c); dir != "" {
		return image.DiffRootfs(w, dir, c.Rootfs.LowerDirs)
	}
	if err := container.PrepareRootfs(c); err != nil { // a container that never ran has none
		return err
	}
	return image.Diff(w, c.Rootfs.UpperDir)
}

// containerChanges is `diff`: the upper dir's entries, or the vfs copy's
// differences from the layers.
func containerChanges(c *container.Container) ([]container.Change, error) {
	dir := container.CopiedRootfs(c)
	if dir == "" {
		if err := container.PrepareRootfs(c); err != nil { // a container that never ran has none
			return nil, err
		}
		return container.Changes(c)
	}
	list, err := image.RootfsChanges(dir, c.Rootfs.LowerDirs)
	if err != nil {
		return nil, err
	}
	out := make([]container.Change, len(list))
	for i, ch := range list {
		out[i] = container.Change(ch)
	}
	return container.FilterChanges(c, out, dir), nil
}

// containerSizes is Docker's SizeRw (the container's own files) and
// SizeRootFs (all it sees): on an overlay the upper dir, and the layers
// below it added; on vfs the files the copy added or changed, and the copy.
func containerSizes(c *container.Container) (rw, rootfs int64) {
	rw = containerSizeRw(c)
	if dir := container.CopiedRootfs(c); dir != "" {
		return rw, container.DirSize(dir)
	}
	rootfs = rw
	for _, l := range c.Rootfs.LowerDirs {
		rootfs += container.DirSize(l)
	}
	return rw, rootfs
}

// containerSizeRw is containerSizes' SizeRw alone, for prune and df, which
// need not walk the image's layers.
func containerSizeRw(c *container.Container) int64 {
	if dir := container.CopiedRootfs(c); dir != "" {
		var rw int64
		if changes, err := image.RootfsChanges(dir, c.Rootfs.LowerDirs); err == nil {
			rw = image.ChangesSize(dir, changes)
		}
		return rw
	}
	return container.DirSize(c.Rootfs.UpperDir)
}
