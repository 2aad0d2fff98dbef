package image

import (
	"regexp"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/skiff-dev/skiff/store"
)

// dockerHub is how ggcr spells Docker Hub's registry; users and our index
// spell it docker.io.
const (
	dockerHub     = "index.docker.io"
	dockerHubName = "docker.io"
)

// Normalize parses a Docker-style reference: "busybox" is
// index.docker.io/library/busybox:latest, "user/app" gets a docker.io
// registry, "host:port/ns/app:tag" keeps its registry, "name@sha256:..."
// names a digest. A reference that does not parse is a store.ErrInvalid
// naming it.
func Normalize(ref string) (name.Reference, error) {
	if ref == "" || strings.TrimSpace(ref) != ref {
		return nil, store.Invalid("invalid reference format: %q", ref)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, store.Invalid("invalid reference format: %q", ref)
	}
	// ggcr is laxer than Docker's grammar (upper case, empty or leading-dash
	// path components); hold every component to Docker's rule.
	repo := r.Context().RepositoryStr()
	if repo != strings.ToLower(repo) {
		return nil, store.Invalid("invalid reference format: %q: repository name must be lowercase", ref)
	}
	for _, c := range strings.Split(repo, "/") {
		if !pathComponent().MatchString(c) {
			return nil, store.Invalid("invalid reference format: %q", ref)
		}
	}
	return r, nil
}

// pathComponent is a repository path component in Docker's reference
// grammar, compiled on first use (package init runs in every skiff process).
var pathComponent = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
})

// Canonical is the full name skiff stores: docker.io rather than
// index.docker.io, with the tag or digest.
func Canonical(r name.Reference) string {
	return repoName(r.Context()) + sep(r) + r.Identifier()
}

func sep(r name.Reference) string {
	if _, ok := r.(name.Digest); ok {
		return "@"
	}
	return ":"
}

// repoName is a repository's canonical name, "docker.io/library/busybox".
func repoName(repo name.Repository) string {
	reg := repo.RegistryStr()
	if reg == dockerHub {
		reg = dockerHubName
	}
	return reg + "/" + repo.RepositoryStr()
}

// FamiliarName is the short form Docker prints: "docker.io/library/busybox:latest"
// is "busybox:latest", "docker.io/user/app:1" is "user/app:1"; other
// registries are kept.
func FamiliarName(s string) string {
	for _, p := range []string{dockerHubName + "/library/", dockerHub + "/library/"} {
		if rest, ok := strings.CutPrefix(s, p); ok && !strings.Contains(rest, "/") {
			return rest
		}
	}
	for _, p := range []string{dockerHubName + "/", dockerHub + "/"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest
		}
	}
	return s
}

// splitName cuts a canonical "repo:tag" or "repo@digest" into its repository
// and its tag or digest.
func splitName(s string) (repo, id string) {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		return s[:i], s[i+1:]
	}
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		return s[:i], s[i+1:]
	}
	return s, ""
}
