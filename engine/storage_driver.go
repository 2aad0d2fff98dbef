package engine

import (
	"io"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/image"
)

// diffRootfs writes a container's changes as a layer tar: its overlay
// upper dir (kernel overlay and fuse-overlayfs), or, on the vfs driver, its
// copied rootfs compared with the image's layers.
func diffRootfs(w io.Writer, c *container.Container) error {
	if dir := container.CopiedRootfs(c); dir != "" {
		return image.DiffRootfs(w, dir, c.Rootfs.LowerDirs)
	}
	return image.Diff(w, c.Rootfs.UpperDir)
}
