package engine

import (
	"context"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/store"
)

// CommitOptions are commit's flags.
type CommitOptions struct {
	Changes []string // -c: Dockerfile instructions applied to the config
	Message string   // -m
	Author  string   // -a
	Pause   bool     // -p: recorded only; the upper dir is read as it is
}

// Commit makes an image of a container: its filesystem diff (deletions as
// whiteouts) as a new layer over its image, the container's config with
// -c changes applied. It returns the new image.
//
// Rootless, the diff maps the upper dir's host owners back to container
// ids; files the user cannot read (owned by subordinate ids, mode 0600)
// still fail the diff: that needs a diff inside the user namespace.
func (e *Engine) Commit(ctx context.Context, ref, repo string, o CommitOptions) (*image.Image, error) {
	c, err := e.LookupContainer(ref)
	if err != nil {
		return nil, err
	}
	is, err := image.Open(e.Store)
	if err != nil {
		return nil, err
	}
	base, err := is.Lookup(c.ImageID)
	if err != nil {
		return nil, err
	}
	bcfg, err := is.ConfigFile(base)
	if err != nil {
		return nil, err
	}
	cfg := bcfg.DeepCopy()
	cc := c.Config
	cfg.Config.Cmd, cfg.Config.Entrypoint = cc.Cmd, cc.Entrypoint
	cfg.Config.Env, cfg.Config.WorkingDir, cfg.Config.User = cc.Env, cc.WorkingDir, cc.User
	cfg.Config.Labels, cfg.Config.ExposedPorts, cfg.Config.Volumes = cc.Labels, cc.ExposedPorts, cc.Volumes
	cfg.Config.StopSignal, cfg.Config.Hostname = cc.StopSignal, cc.Hostname
	cfg.Config.Tty, cfg.Config.OpenStdin, cfg.Config.StdinOnce = cc.Tty, cc.OpenStdin, cc.StdinOnce
	if c.Rootfs.UpperDir == "" {
		return nil, store.Invalid("container %s has no filesystem to commit", c.ID)
	}
	if err := image.ApplyChanges(&cfg.Config, o.Changes); err != nil {
		return nil, err
	}
	if o.Author != "" {
		cfg.Author = o.Author
	}
	var names []string
	if repo != "" {
		if _, err := image.Normalize(repo); err != nil {
			return nil, err
		}
		names = []string{repo}
	}
	b := &builder{e: e}
	defer b.removeScratch()
	layer, err := b.diffLayer(c)
	if err != nil {
		return nil, err
	}
	h := v1.History{Author: o.Author, Comment: o.Message, CreatedBy: strings.Join(cc.Args(), " ")}
	img, err := appendLayer(is, func(img v1.Image) (*image.Image, error) { return is.Write(ctx, img, names) }, base, cfg, layer, h)
	if err == nil {
		e.emit(c, "commit", map[string]string{"comment": o.Message, "imageID": img.ID, "imageRef": repo})
	}
	return img, err
}
