package engine

import (
	"context"

	"github.com/skiff-dev/skiff/image"
)

// pullAllTags is pull --all-tags. A tag or digest with it is the docker
// CLI's own error (exit 1), checked after the reference parses.
func pullAllTags(ctx context.Context, is *image.Store, ref string, opts image.PullOptions) error {
	if _, err := image.Normalize(ref); err != nil {
		return err
	}
	if !image.NameOnly(ref) {
		return &ExitError{Code: 1, Message: "tag can't be used with --all-tags/-a"}
	}
	_, err := is.PullAllTags(ctx, ref, opts)
	return err
}
