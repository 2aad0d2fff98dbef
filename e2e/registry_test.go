package e2e

// The in-process registry (go-containerregistry's pkg/registry on
// 127.0.0.1:0) and the registries.conf that maps docker.io to it. A wrapper
// around the handler counts blob downloads per repository, throttles or cuts
// short the blobs of chosen repositories, and the blob store can be made to
// serve bytes that do not match their digest.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Registry is the suite's registry server.
type Registry struct {
	Host  string // 127.0.0.1:PORT
	srv   *http.Server
	blobs *blobStore

	mu       sync.Mutex
	gets     map[string]int           // repository (and repository@digest) -> blob GETs
	slow     map[string]bool          // repository -> throttle its blobs
	short    map[string]bool          // repository -> cut blob bodies in half
	streamed map[string]chan struct{} // repository -> closed once a throttled blob is flowing
}

var reg *Registry

func startRegistry() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	r := &Registry{Host: ln.Addr().String(), blobs: &blobStore{m: map[string][]byte{}},
		gets: map[string]int{}, slow: map[string]bool{}, short: map[string]bool{}, streamed: map[string]chan struct{}{}}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithBlobHandler(r.blobs))
	r.srv = &http.Server{Handler: r.wrap(h), ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	reg = r
	return nil
}

func (r *Registry) close() { r.srv.Close() }

// writeRegistriesConf maps docker.io (and two test prefixes) to the registry.
// alias.test points at it too, and blocked.test at localhost:PORT (podman
// refuses one location with two blocked settings): pulls through alias.test
// and from localhost:PORT directly succeed, so one through blocked.test can
// only fail for being blocked.
func writeRegistriesConf() error {
	regConf = filepath.Join(baseDir, "registries.conf")
	conf := fmt.Sprintf(`unqualified-search-registries = ["docker.io"]

[[registry]]
prefix = "docker.io"
location = "%[1]s"
insecure = true

[[registry]]
prefix = "alias.test"
location = "%[1]s"
insecure = true

[[registry]]
prefix = "blocked.test"
location = "%[2]s"
insecure = true
blocked = true
`, reg.Host, strings.Replace(reg.Host, "127.0.0.1", "localhost", 1))
	return os.WriteFile(regConf, []byte(conf), 0o644)
}

// ref names repo[:tag] on the registry as a client outside docker.io sees it.
func (r *Registry) ref(repoTag string) string { return r.Host + "/" + repoTag }

func (r *Registry) parse(repoTag string) (name.Reference, error) {
	return name.ParseReference(r.ref(repoTag), name.Insecure)
}

// push writes img as repo:tag (e.g. "library/busybox:latest").
func (r *Registry) push(repoTag string, img v1.Image) error {
	ref, err := r.parse(repoTag)
	if err != nil {
		return err
	}
	return remote.Write(ref, img)
}

// pushIndex writes a multi-platform index as repo:tag.
func (r *Registry) pushIndex(repoTag string, idx v1.ImageIndex) error {
	ref, err := r.parse(repoTag)
	if err != nil {
		return err
	}
	return remote.WriteIndex(ref, idx)
}

// pushRaw stores blobs as given (no digest check) and puts a manifest
// verbatim: for images no honest client could push.
func (r *Registry) pushRaw(repoTag string, mt types.MediaType, manifest []byte, blobs ...[]byte) error {
	for _, b := range blobs {
		h, _, err := v1.SHA256(bytes.NewReader(b))
		if err != nil {
			return err
		}
		r.blobs.set(h, b)
	}
	ref, err := r.parse(repoTag)
	if err != nil {
		return err
	}
	return remote.Put(ref, rawManifest{mt: mt, b: manifest})
}

type rawManifest struct {
	mt types.MediaType
	b  []byte
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.b, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

// blobGets returns how many blob GETs the registry served for repo
// (e.g. "library/busybox").
func (r *Registry) blobGets(repo string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gets[repo]
}

// blobGetsOf returns how many times the registry served blob digest of repo.
func (r *Registry) blobGetsOf(repo, digest string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gets[repo+"@"+digest]
}

// throttle makes repo's blobs trickle out (about 3 MB/s) and returns a channel
// closed once one of them has started flowing.
func (r *Registry) throttle(repo string) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.slow[repo] = true
	r.streamed[repo] = make(chan struct{})
	return r.streamed[repo]
}

// cutShort makes the registry drop the connection halfway through every blob
// of repo, after promising the full length.
func (r *Registry) cutShort(repo string) {
	r.mu.Lock()
	r.short[repo] = true
	r.mu.Unlock()
}

// blobRepo returns the repository of a blob GET, or "".
func blobRepo(req *http.Request) string {
	if req.Method != http.MethodGet || !strings.HasPrefix(req.URL.Path, "/v2/") {
		return ""
	}
	p := strings.TrimPrefix(req.URL.Path, "/v2/")
	i := strings.LastIndex(p, "/blobs/")
	if i < 0 || strings.Contains(p[i+len("/blobs/"):], "/") || strings.HasPrefix(p[i+len("/blobs/"):], "uploads") {
		return ""
	}
	return p[:i]
}

func (r *Registry) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		repo := blobRepo(req)
		if repo == "" {
			h.ServeHTTP(w, req)
			return
		}
		r.mu.Lock()
		r.gets[repo]++
		r.gets[repo+"@"+path.Base(req.URL.Path)]++
		slow, short, streamed := r.slow[repo], r.short[repo], r.streamed[repo]
		r.mu.Unlock()
		switch {
		case short:
			h.ServeHTTP(&shortWriter{ResponseWriter: w}, req)
		case slow:
			h.ServeHTTP(&slowWriter{ResponseWriter: w, ctx: req.Context(), started: streamed, once: &r.mu}, req)
		default:
			h.ServeHTTP(w, req)
		}
	})
}

// slowWriter writes 64 KiB every 20 ms.
type slowWriter struct {
	http.ResponseWriter
	ctx     context.Context
	started chan struct{}
	once    *sync.Mutex
	sent    int
}

func (s *slowWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		c := min(len(p), 64<<10)
		m, err := s.ResponseWriter.Write(p[:c])
		n += m
		s.sent += m
		if err != nil {
			return n, err
		}
		if f, ok := s.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		if s.sent > 256<<10 {
			s.signal()
		}
		p = p[c:]
		select {
		case <-time.After(20 * time.Millisecond):
		case <-s.ctx.Done():
			return n, s.ctx.Err()
		}
	}
	return n, nil
}

func (s *slowWriter) signal() {
	s.once.Lock()
	defer s.once.Unlock()
	select {
	case <-s.started:
	default:
		close(s.started)
	}
}

// shortWriter sends the first half of what the handler writes (the headers
// still promise all of it), then aborts the connection.
type shortWriter struct {
	http.ResponseWriter
	limit int
	set   bool
}

func (s *shortWriter) Write(p []byte) (int, error) {
	if !s.set {
		s.set = true
		var n int
		fmt.Sscan(s.Header().Get("Content-Length"), &n)
		s.limit = n / 2
	}
	if len(p) > s.limit {
		s.ResponseWriter.Write(p[:s.limit])
		if f, ok := s.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	s.limit -= len(p)
	return s.ResponseWriter.Write(p)
}

// blobStore is the registry's blob backend; set stores bytes under any
// digest, which is how a fixture serves a blob that does not match it.
type blobStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (b *blobStore) set(h v1.Hash, data []byte) {
	b.mu.Lock()
	b.m[h.String()] = data
	b.mu.Unlock()
}

func (b *blobStore) get(h v1.Hash) ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.m[h.String()]
	return d, ok
}

func (b *blobStore) Stat(_ context.Context, _ string, h v1.Hash) (int64, error) {
	d, ok := b.get(h)
	if !ok {
		return 0, registry.ErrNotFound
	}
	return int64(len(d)), nil
}

func (b *blobStore) Get(_ context.Context, _ string, h v1.Hash) (io.ReadCloser, error) {
	d, ok := b.get(h)
	if !ok {
		return nil, registry.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(d)), nil
}

func (b *blobStore) Put(_ context.Context, _ string, h v1.Hash, rc io.ReadCloser) error {
	defer rc.Close()
	d, err := io.ReadAll(rc) // the registry verifies size and digest while we read
	if err != nil {
		return err
	}
	b.set(h, d)
	return nil
}
