package image

import (
	"path/filepath"
	"time"

	"github.com/skiff-dev/skiff/store"
)

// Store is the image side of a skiff root:
//
//	<root>/images/blobs/sha256/<hex>      manifests, configs, compressed layers
//	<root>/images/layers/<chainid-hex>/   layer.json + diff/ (the unpacked layer)
//	<root>/images/index.json              the images and their names
//	<root>/images/index.lock              flock held while the index changes
type Store struct {
	st   *store.Store
	root string
}

// Image is one stored image as the index records it.
type Image struct {
	ID          string    `json:"Id"`          // "sha256:<hex>" of the config blob (Docker's image ID)
	RepoTags    []string  `json:"RepoTags"`    // normalized, e.g. "docker.io/library/busybox:latest"
	RepoDigests []string  `json:"RepoDigests"` // "docker.io/library/busybox@sha256:..."
	Manifest    string    `json:"Manifest"`    // digest of the stored manifest
	Created     time.Time `json:"Created"`
	Size        int64     `json:"Size"` // unpacked size, as docker images SIZE
	// Layers are the chain ids of the image's layers, base first: what
	// Delete may free and what LayerPaths returns.
	Layers []string `json:"Layers"`
	// Blobs are every blob digest the image needs (manifest, config,
	// compressed layers).
	Blobs []string `json:"Blobs"`
	// Pulled is when the image entered this store (Docker's "Metadata.LastTagTime" analogue).
	Pulled time.Time `json:"Pulled"`
	// Parent is the id of the image this one was built on (a build step's
	// base), as Docker's classic builder records it: an untagged parent is
	// an intermediate image, hidden by `images` and removed with its child.
	Parent string `json:"Parent,omitempty"`
}

// Untagged reports whether img has no name at all (no tag, no digest).
func (img *Image) Untagged() bool { return len(img.RepoTags) == 0 && len(img.RepoDigests) == 0 }

// Children maps each image id to the ids of the images whose Parent it is.
func Children(imgs []*Image) map[string][]string {
	out := map[string][]string{}
	for _, img := range imgs {
		if img.Parent != "" {
			out[img.Parent] = append(out[img.Parent], img.ID)
		}
	}
	return out
}

// Open opens (creating) the image store inside st.
func Open(st *store.Store) (*Store, error) {
	root, err := st.Dir("images")
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"blobs/sha256", "layers"} {
		if _, err := st.Dir("images", d); err != nil {
			return nil, err
		}
	}
	return &Store{st: st, root: root}, nil
}

func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.root}, elem...)...)
}

func (s *Store) indexPath() string { return s.path("index.json") }
func (s *Store) lockPath() string  { return s.path("index.lock") }

// lock takes the index lock; every mutation of the index or removal of a blob
// or layer happens under it.
func (s *Store) lock() (*store.Lock, error) { return store.LockFile(s.lockPath()) }
