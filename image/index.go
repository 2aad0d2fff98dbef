package image

import (
	"errors"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/skiff-dev/skiff/store"
)

// index is the content of index.json. It is rewritten whole, atomically,
// under the index lock; readers take no lock and see either the old or the
// new file.
type index struct {
	Images []*Image `json:"images"`
}

func (s *Store) load() (*index, error) {
	var ix index
	err := store.ReadJSON(s.indexPath(), &ix)
	if errors.Is(err, store.ErrNotFound) {
		return &index{}, nil
	}
	return &ix, err
}

func (s *Store) save(ix *index) error {
	sort.Slice(ix.Images, func(i, j int) bool { return ix.Images[i].Pulled.After(ix.Images[j].Pulled) })
	return store.WriteJSON(s.indexPath(), ix)
}

// update runs fn on the index under the lock and saves the result when fn
// succeeds.
func (s *Store) update(fn func(ix *index) error) error {
	l, err := s.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	ix, err := s.load()
	if err != nil {
		return err
	}
	if err := fn(ix); err != nil {
		return err
	}
	return s.save(ix)
}

// List returns every stored image, newest first.
func (s *Store) List() ([]*Image, error) {
	ix, err := s.load()
	if err != nil {
		return nil, err
	}
	return ix.Images, nil
}

// isID reports whether ref is an image id, [sha256:]<hex>, with between
// min and 64 hex digits. (A regexp was compiled for it in every create.)
func isID(ref string, min int) bool {
	hex := strings.TrimPrefix(ref, "sha256:")
	if len(hex) < min || len(hex) > 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Lookup finds an image by name[:tag], name@digest, full or short id.
func (s *Store) Lookup(ref string) (*Image, error) {
	ix, err := s.load()
	if err != nil {
		return nil, err
	}
	if img := ix.find(ref); img != nil {
		return img, nil
	}
	return nil, store.NotFound("No such image: %s", ref)
}

func (ix *index) find(ref string) *Image {
	if isID(ref, 64) {
		id := "sha256:" + strings.TrimPrefix(ref, "sha256:")
		for _, img := range ix.Images {
			if img.ID == id {
				return img
			}
		}
	}
	// Docker's reading first (docker.io), then unqualified-search-registries
	// (read only when needed: parsing registries.conf was a fifth of create).
	r, err := Normalize(ref)
	if err == nil {
		if img := ix.byName(r); img != nil {
			return img
		}
	}
	for _, cand := range Candidates(ref) {
		if img := ix.byName(cand); img != nil {
			return img
		}
	}
	if isID(ref, 1) {
		var found *Image
		prefix := "sha256:" + strings.TrimPrefix(ref, "sha256:")
		for _, img := range ix.Images {
			if strings.HasPrefix(img.ID, prefix) {
				if found != nil {
					return nil // ambiguous
				}
				found = img
			}
		}
		return found
	}
	return nil
}

// byName finds the image with the tag or digest r.
func (ix *index) byName(r name.Reference) *Image {
	want := Canonical(r)
	for _, img := range ix.Images {
		if slices.Contains(img.RepoTags, want) || slices.Contains(img.RepoDigests, want) {
			return img
		}
	}
	if d, ok := r.(name.Digest); ok {
		repo := repoName(d.Context())
		for _, img := range ix.Images {
			if img.Manifest == d.DigestStr() && img.hasRepo(repo) {
				return img
			}
		}
	}
	return nil
}

func (img *Image) hasRepo(repo string) bool {
	for _, n := range append(slices.Clone(img.RepoTags), img.RepoDigests...) {
		if r, _ := splitName(n); r == repo {
			return true
		}
	}
	return false
}

func (ix *index) byID(id string) *Image {
	for _, img := range ix.Images {
		if img.ID == id {
			return img
		}
	}
	return nil
}

// Tag gives img the name (normalized), taking it from any image that had it.
func (s *Store) Tag(img *Image, ref string) error {
	r, err := Normalize(ref)
	if err != nil {
		return err
	}
	if _, ok := r.(name.Tag); !ok {
		return store.Invalid("refusing to create a tag with a digest reference: %s", ref)
	}
	tag := Canonical(r)
	return s.update(func(ix *index) error {
		target := ix.byID(img.ID)
		if target == nil {
			return store.NotFound("No such image: %s", img.ID)
		}
		for _, other := range ix.Images {
			other.RepoTags = slices.DeleteFunc(other.RepoTags, func(t string) bool { return t == tag })
		}
		target.RepoTags = append(target.RepoTags, tag)
		*img = *target
		return nil
	})
}

// AddDigest records repoDigest ("docker.io/library/busybox@sha256:...") as
// a name of img, as a push does.
func (s *Store) AddDigest(img *Image, repoDigest string) error {
	if !strings.Contains(repoDigest, "@sha256:") {
		return store.Invalid("not a repo digest: %s", repoDigest)
	}
	return s.update(func(ix *index) error {
		target := ix.byID(img.ID)
		if target == nil {
			return store.NotFound("No such image: %s", img.ID)
		}
		if !slices.Contains(target.RepoDigests, repoDigest) {
			target.RepoDigests = append(target.RepoDigests, repoDigest)
		}
		*img = *target
		return nil
	})
}

// Untag removes a tag or digest name from the image that has it. The image
// itself stays (dangling when it was its last name); Delete removes it.
func (s *Store) Untag(ref string) error {
	r, err := Normalize(ref)
	if err != nil {
		return err
	}
	want := Canonical(r)
	return s.update(func(ix *index) error {
		for _, img := range ix.Images {
			n := len(img.RepoTags) + len(img.RepoDigests)
			img.RepoTags = slices.DeleteFunc(img.RepoTags, func(t string) bool { return t == want })
			img.RepoDigests = slices.DeleteFunc(img.RepoDigests, func(t string) bool { return t == want })
			if len(img.RepoTags)+len(img.RepoDigests) != n {
				return nil
			}
		}
		return store.NotFound("No such image: %s", ref)
	})
}

// Delete removes the image from the index, then the blobs and layers no
// other image references. Containers using it are the engine's concern.
func (s *Store) Delete(img *Image) error {
	_, err := s.Remove(img)
	return err
}

// Remove is Delete, also returning the unpacked size of the layers it
// freed: Docker's reclaimed space, which leaves out layers other images
// still use. The images built on it (the build cache's intermediates go
// while the images built from them stay) take its parent as theirs, so
// no Parent names a missing image and the base keeps its children.
func (s *Store) Remove(img *Image) (freed int64, err error) {
	err = s.update(func(ix *index) error {
		i := slices.IndexFunc(ix.Images, func(o *Image) bool { return o.ID == img.ID })
		if i < 0 {
			return store.NotFound("No such image: %s", img.ID)
		}
		gone := ix.Images[i]
		ix.Images = slices.Delete(ix.Images, i, i+1)
		for _, o := range ix.Images {
			if o.Parent == gone.ID {
				o.Parent = gone.Parent
			}
		}
		// The index is saved before anything is removed: a crash in between
		// leaves unreferenced files (prune's job), never an image missing files.
		if err := s.save(ix); err != nil {
			return err
		}
		freed = s.sweep(ix, gone)
		return nil
	})
	return freed, err
}

// sweep removes gone's blobs and layers that no image in ix still uses and
// returns the unpacked size of the layers removed. Called under the lock.
func (s *Store) sweep(ix *index, gone *Image) (freed int64) {
	blobs, layers := map[string]bool{}, map[string]bool{}
	for _, img := range ix.Images {
		for _, b := range img.Blobs {
			blobs[b] = true
		}
		for _, l := range img.Layers {
			layers[l] = true
		}
	}
	for _, b := range gone.Blobs {
		if !blobs[b] {
			os.Remove(s.blobPath(b))
		}
	}
	for _, l := range gone.Layers {
		if layers[l] {
			continue
		}
		if m, err := s.layerMeta(l); err == nil {
			freed += m.Size
		}
		s.removeLayer(l)
	}
	return freed
}
