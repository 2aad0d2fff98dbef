package image

import (
	"bytes"
	"errors"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// errNotStored: the image a manifest describes is not (wholly) in the store.
var errNotStored = errors.New("image not in the store")

// manifestRefs reads the config digest and the manifest digest from an
// image's manifest alone: for a remote image this costs no blob fetch.
func manifestRefs(img v1.Image) (config, manifest v1.Hash, err error) {
	m, err := img.Manifest()
	if err != nil {
		return v1.Hash{}, v1.Hash{}, err
	}
	manifest, err = img.Digest()
	return m.Config.Digest, manifest, err
}

// retagStored gives the names in o to the stored image with this config and
// manifest digest, when it and every file it needs are present. Pull uses it
// so an up-to-date image costs a manifest request and no blob; errNotStored
// means a full write is needed.
func (s *Store) retagStored(config, manifest v1.Hash, o writeOptions) (*Image, error) {
	var out Image
	err := s.update(func(ix *index) error {
		img := ix.byID(config.String())
		if img == nil || img.Manifest != manifest.String() || !s.complete(img) {
			return errNotStored
		}
		applyNames(ix, img, o)
		out = *img
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// complete reports whether every blob and layer of img is in the store.
func (s *Store) complete(img *Image) bool {
	for _, b := range img.Blobs {
		if !s.hasBlob(b) {
			return false
		}
	}
	for _, l := range img.Layers {
		if _, err := s.layerMeta(l); err != nil {
			return false
		}
	}
	return true
}

// localConfig serves an image's config from the store when the blob is
// already there (an up-to-date image, or the same image under another
// manifest), so checking and writing it fetch only what is missing.
type localConfig struct {
	v1.Image
	raw []byte
}

func (l localConfig) RawConfigFile() ([]byte, error) { return l.raw, nil }
func (l localConfig) ConfigName() (v1.Hash, error)   { return sha256Hash(l.raw), nil }
func (l localConfig) ConfigFile() (*v1.ConfigFile, error) {
	return v1.ParseConfigFile(bytes.NewReader(l.raw))
}

// withLocalConfig wraps img with its stored config blob, if any.
func (s *Store) withLocalConfig(img v1.Image) v1.Image {
	config, _, err := manifestRefs(img)
	if err != nil || !s.hasBlob(config.String()) {
		return img
	}
	raw, err := os.ReadFile(s.blobPath(config.String()))
	if err != nil || sha256Hash(raw) != config {
		return img
	}
	return localConfig{Image: img, raw: raw}
}
