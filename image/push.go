package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/skiff-dev/skiff/store"
)

// PushOptions tune Push.
type PushOptions struct {
	Out   io.Writer // progress lines; nil prints nothing
	Quiet bool      // print only the pushed reference
}

// Push uploads a local image to the registry its name points at (after
// registries.conf's location rewrite; mirrors are for pulling only), layers
// first, then the manifest under the tag, with Keychain credentials. Output
// follows `docker push`.
func (s *Store) Push(ctx context.Context, ref string, opts PushOptions) error {
	r, err := Normalize(ref)
	if err != nil {
		return err
	}
	familiar := FamiliarName(Canonical(r))
	local, err := s.Lookup(Canonical(r))
	if err != nil {
		return store.NotFound("An image does not exist locally with the tag: %s", FamiliarName(repoName(r.Context())))
	}
	ep, err := pushEndpoint(r)
	if err != nil {
		return err
	}
	img, err := s.V1Image(local)
	if err != nil {
		return err
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(Keychain()),
		remote.WithTransport(httpGuard{base: remote.DefaultTransport, insecure: ep.Insecure}),
		remote.WithUserAgent("skiff")}
	out := opts.Out
	if out == nil || opts.Quiet {
		out = io.Discard
	}
	fmt.Fprintf(out, "The push refers to repository [%s]\n", repoName(r.Context()))
	if err := pushLayers(ctx, ep.Ref.Context(), img, out, ropts); err != nil {
		return pushError(familiar, err)
	}
	pusher, err := remote.NewPusher(ropts...)
	if err != nil {
		return pushError(familiar, err)
	}
	if err := pusher.Push(ctx, ep.Ref, img); err != nil {
		return pushError(familiar, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return err
	}
	// Docker records the pushed manifest as a repo digest of the image.
	if err := s.AddDigest(local, repoName(r.Context())+"@"+digest.String()); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: digest: %s size: %d\n", r.Identifier(), digest, len(raw))
	if opts.Quiet && opts.Out != nil {
		fmt.Fprintln(opts.Out, Canonical(r))
	}
	return nil
}

// pushEndpoint is where a push of r goes: its registries.conf location
// (the last endpoint; the ones before it are mirrors).
func pushEndpoint(r name.Reference) (Endpoint, error) {
	conf, err := LoadRegistries()
	if err != nil {
		return Endpoint{}, err
	}
	eps, err := conf.Endpoints(r)
	if err != nil {
		return Endpoint{}, err
	}
	return eps[len(eps)-1], nil
}

// pushLayers uploads the layers three at a time, printing Docker's per-layer
// lines (top layer first), and skips those the registry has.
func pushLayers(ctx context.Context, repo name.Repository, img v1.Image, out io.Writer, ropts []remote.Option) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	pusher, err := remote.NewPusher(ropts...)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	say := func(d v1.Hash, msg string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "%s: %s\n", d.Hex[:12], msg)
	}
	digests := make([]v1.Hash, len(layers))
	for i := len(layers) - 1; i >= 0; i-- {
		if digests[i], err = layers[i].Digest(); err != nil {
			return err
		}
		say(digests[i], "Preparing")
	}
	errs := make([]error, len(layers))
	sem := make(chan struct{}, 3)
	var wg sync.WaitGroup
	for i := len(layers) - 1; i >= 0; i-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if blobExists(repo.Digest(digests[i].String()), ropts) {
				say(digests[i], "Layer already exists")
				return
			}
			if errs[i] = pusher.Upload(ctx, repo, layers[i]); errs[i] == nil {
				say(digests[i], "Pushed")
			}
		}()
	}
	wg.Wait()
	return firstErr(errs)
}

// blobExists asks the registry (HEAD) whether it has a blob; any failure
// counts as "no", and the upload that follows reports the real error.
func blobExists(d name.Digest, ropts []remote.Option) bool {
	l, err := remote.Layer(d, ropts...)
	if err != nil {
		return false
	}
	ok, err := partial.Exists(l)
	return err == nil && ok
}

// pushError turns a registry failure into one line naming the image.
func pushError(image string, err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("push %s: unauthorized: authentication required", image)
		case http.StatusForbidden:
			return fmt.Errorf("push %s: denied: requested access to the resource is denied", image)
		}
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("push %s: cancelled", image)
	}
	return fmt.Errorf("push %s: %s", image, oneLine(strings.TrimSpace(err.Error())))
}
