package image

// pull --all-tags: every tag of a repository, as the registry lists them.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/skiff-dev/skiff/store"
)

// NameOnly reports whether ref names a repository with neither tag nor
// digest ("busybox", "localhost:5000/app"), as pull --all-tags needs.
func NameOnly(ref string) bool {
	last := ref[strings.LastIndex(ref, "/")+1:]
	return !strings.ContainsAny(last, ":@")
}

// PullAllTags pulls every tag of repository ref (docker pull --all-tags),
// one after the other in the registry's order, stopping at the first
// failure. Each tag prints its own progress and digest; the status line
// and the repository's full name come once, at the end, as Docker's.
func (s *Store) PullAllTags(ctx context.Context, ref string, opts PullOptions) ([]*Image, error) {
	var imgs []*Image
	var pullErr error
	err := eachCandidate(ref, opts.Platform, func(r name.Reference, conf *Registries, plat *v1.Platform) error {
		tags, err := listTags(ctx, r.Context(), conf, plat)
		if err != nil {
			return err // not found: the next candidate
		}
		// The repository exists: a failure pulling its tags is final.
		imgs, pullErr = s.pullTags(ctx, r.Context(), tags, conf, plat, opts)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return imgs, pullErr
}

// listTags lists repo's tags from its first endpoint (mirrors, then the
// registry) that answers.
func listTags(ctx context.Context, repo name.Repository, conf *Registries, plat *v1.Platform) ([]string, error) {
	eps, err := conf.Endpoints(repo.Tag("latest"))
	if err != nil {
		return nil, err
	}
	familiar := FamiliarName(repoName(repo))
	var tags []string
	for _, ep := range eps {
		if tags, err = remote.List(ep.Ref.Context(), remoteOptions(ctx, ep, plat)...); err == nil {
			break
		}
	}
	if err != nil {
		return nil, listError(familiar, err)
	}
	if len(tags) == 0 {
		return nil, store.NotFound("pull %s: the repository has no tags", familiar)
	}
	return tags, nil
}

// pullTags pulls repo:tag for each of tags.
func (s *Store) pullTags(ctx context.Context, repo name.Repository, tags []string, conf *Registries, plat *v1.Platform, opts PullOptions) ([]*Image, error) {
	tagOpts := opts
	tagOpts.allTags = true
	newer := false
	var imgs []*Image
	for _, tag := range tags {
		r := repo.Tag(tag)
		var before *Image
		if ix, err := s.load(); err == nil {
			before = ix.byName(r)
		}
		img, err := s.pullOne(ctx, Canonical(r), r, conf, plat, tagOpts)
		if err != nil {
			return imgs, err
		}
		newer = newer || before == nil || before.ID != img.ID
		imgs = append(imgs, img)
	}
	familiar := FamiliarName(repoName(repo))
	if opts.Out != nil && !opts.Quiet {
		if newer {
			fmt.Fprintf(opts.Out, "Status: Downloaded newer image for %s\n", familiar)
		} else {
			fmt.Fprintf(opts.Out, "Status: Image is up to date for %s\n", familiar)
		}
	}
	if opts.Out != nil {
		fmt.Fprintln(opts.Out, repoName(repo)) // also with -q, as Docker
	}
	return imgs, nil
}

// listError is dockerd's wording for a repository the registry does not
// know (NAME_UNKNOWN); other failures read as a pull's.
func listError(repo string, err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		unknown := te.StatusCode == http.StatusNotFound
		for _, d := range te.Errors {
			unknown = unknown || d.Code == transport.NameUnknownErrorCode
		}
		if unknown {
			return store.NotFound("repository %s not found: name unknown: repository name not known to registry", repo)
		}
	}
	return pullError(repo, err)
}
