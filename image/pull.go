package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/skiff-dev/skiff/store"
)

// PullOptions tune Pull.
type PullOptions struct {
	Platform string    // "os/arch[/variant]"; empty: the host's
	Out      io.Writer // progress and status lines; nil prints nothing
	Terminal bool      // Out is a terminal: live bars instead of lines
	Quiet    bool      // print only the pulled reference on Out (pull -q)
	Unpack   UnpackOptions
	allTags  bool // one tag of PullAllTags (pull_tags.go), which prints the status
}

// Pull fetches ref from its registry (after registries.conf rewrites and
// mirrors) and stores it. Errors are one line naming the image; a failed
// pull leaves the index and the store as they were.
func (s *Store) Pull(ctx context.Context, ref string, opts PullOptions) (*Image, error) {
	var img *Image
	err := eachCandidate(ref, opts.Platform, func(r name.Reference, conf *Registries, plat *v1.Platform) (err error) {
		img, err = s.pullOne(ctx, ref, r, conf, plat, opts)
		return err
	})
	return img, err
}

// eachCandidate calls try with each fully qualified reading of ref
// (unqualified-search registries, in order) until one is not "not found",
// and returns its error, or the first candidate's when none was found.
func eachCandidate(ref, platform string, try func(r name.Reference, conf *Registries, plat *v1.Platform) error) error {
	plat, err := ParsePlatform(platform)
	if err != nil {
		return err
	}
	cands := Candidates(ref)
	if len(cands) == 0 {
		_, err := Normalize(ref)
		return err
	}
	conf, err := LoadRegistries()
	if err != nil {
		return err
	}
	var firstErr error
	for _, r := range cands {
		err := try(r, conf, plat)
		if err == nil {
			return nil
		}
		if firstErr == nil || !errors.Is(err, store.ErrNotFound) {
			firstErr = err
		}
		if !errors.Is(err, store.ErrNotFound) {
			break
		}
	}
	return firstErr
}

// pullOne pulls one fully qualified candidate, trying each endpoint
// (mirrors, then the registry) in turn.
func (s *Store) pullOne(ctx context.Context, user string, r name.Reference, conf *Registries, plat *v1.Platform, opts PullOptions) (*Image, error) {
	eps, err := conf.Endpoints(r)
	if err != nil {
		return nil, err
	}
	familiar := FamiliarName(Canonical(r))
	var desc *remote.Descriptor
	for _, ep := range eps {
		desc, err = remote.Get(ep.Ref, remoteOptions(ctx, ep, plat)...)
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, pullError(familiar, err)
	}
	switch desc.MediaType {
	case types.DockerManifestSchema2, types.OCIManifestSchema1, types.DockerManifestList, types.OCIImageIndex:
	default:
		return nil, fmt.Errorf("pull %s: unsupported manifest media type %s", familiar, desc.MediaType)
	}
	img, err := desc.Image()
	if err != nil {
		if strings.Contains(err.Error(), "no child with platform") {
			return nil, store.NotFound("pull %s: no matching manifest for %s in the manifest list entries", familiar, platString(plat))
		}
		return nil, pullError(familiar, err)
	}
	// A config already stored is read from the store: checking the platform
	// of an up-to-date image must not fetch its config blob.
	img = s.withLocalConfig(img)
	if err := checkPlatform(desc, img, plat, opts.Platform, familiar); err != nil {
		return nil, err
	}
	out := opts.Out
	if opts.Quiet {
		out = nil
	}
	if out != nil {
		if !strings.Contains(user, ":") && !strings.Contains(user, "@") {
			fmt.Fprintf(out, "Using default tag: latest\n")
		}
		fmt.Fprintf(out, "%s: Pulling from %s\n", r.Identifier(), r.Context().RepositoryStr())
	}
	var before *Image
	if ix, err := s.load(); err == nil {
		before = ix.byName(r)
	}
	o := writeOptions{progress: newProgress(out, opts.Terminal), unpack: opts.Unpack,
		digests: []string{repoName(r.Context()) + "@" + desc.Digest.String()}}
	if _, ok := r.(name.Tag); ok {
		o.tags = []string{Canonical(r)}
	}
	stored, err := s.store(ctx, img, o)
	if err != nil {
		return nil, pullError(familiar, err)
	}
	if opts.allTags {
		if out != nil {
			fmt.Fprintf(out, "Digest: %s\n", desc.Digest)
		}
		return stored, nil
	}
	if out != nil {
		fmt.Fprintf(out, "Digest: %s\n", desc.Digest)
		if before != nil && before.ID == stored.ID {
			fmt.Fprintf(out, "Status: Image is up to date for %s\n", familiar)
		} else {
			fmt.Fprintf(out, "Status: Downloaded newer image for %s\n", familiar)
		}
	}
	if opts.Out != nil {
		// The last line, also with -q: the full reference, as Docker.
		fmt.Fprintln(opts.Out, Canonical(r))
	}
	return stored, nil
}

// store makes a pulled image present and named. An image already stored
// under the same manifest and config is only (re)tagged, so an up-to-date
// pull fetches no blob; otherwise only what the store lacks is fetched.
func (s *Store) store(ctx context.Context, img v1.Image, o writeOptions) (*Image, error) {
	defer o.progress.wait()
	if config, manifest, err := manifestRefs(img); err == nil {
		stored, err := s.retagStored(config, manifest, o)
		if !errors.Is(err, errNotStored) {
			return stored, err
		}
	}
	return s.write(ctx, img, o)
}

// checkPlatform refuses a single-platform image that is not the one asked
// for with --platform, as Docker does.
func checkPlatform(desc *remote.Descriptor, img v1.Image, want *v1.Platform, asked, familiar string) error {
	if asked == "" || desc.MediaType.IsIndex() {
		return nil
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return pullError(familiar, err)
	}
	got := &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	if got.OS != want.OS || got.Architecture != want.Architecture || (want.Variant != "" && got.Variant != want.Variant) {
		return store.NotFound("image with reference %s was found but does not match the specified platform: wanted %s, actual: %s",
			familiar, platString(want), platString(got))
	}
	return nil
}

func remoteOptions(ctx context.Context, ep Endpoint, plat *v1.Platform) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(Keychain()),
		remote.WithPlatform(*plat),
		remote.WithTransport(httpGuard{base: remote.DefaultTransport, insecure: ep.Insecure}),
		remote.WithUserAgent("skiff"),
	}
}

// httpGuard refuses plain HTTP except to registries marked insecure and to
// localhost/127.0.0.1 (ggcr would also fall back to HTTP for private
// network addresses; registries.conf(5) says it must not).
type httpGuard struct {
	base     http.RoundTripper
	insecure bool
}

func (g httpGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.insecure && !loopback(req.URL.Hostname()) {
		return nil, fmt.Errorf("refusing plain HTTP to %s: mark it insecure in registries.conf", req.URL.Host)
	}
	return g.base.RoundTrip(req)
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// pullError turns a registry or storage failure into one line naming the image.
func pullError(image string, err error) error {
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrNotFound) {
		if strings.HasPrefix(err.Error(), "pull ") {
			return err
		}
	}
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusNotFound:
			return store.NotFound("manifest for %s not found: manifest unknown", image)
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("pull access denied for %s, repository does not exist or may require authorization: %d %s",
				image, te.StatusCode, http.StatusText(te.StatusCode))
		}
		for _, d := range te.Errors {
			if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
				return store.NotFound("manifest for %s not found: manifest unknown", image)
			}
		}
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("pull %s: cancelled", image)
	}
	return fmt.Errorf("pull %s: %s", image, oneLine(err.Error()))
}

// ParsePlatform parses "os/arch[/variant]"; empty means the host.
func ParsePlatform(s string) (*v1.Platform, error) {
	if s == "" {
		// No variant: an index entry for arm64 often has none, and ggcr
		// only matches a wanted variant exactly.
		return &v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}, nil
	}
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return nil, store.Invalid("invalid platform %q: want os/arch[/variant]", s)
	}
	p := &v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

func platString(p *v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
