package image

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ConfigFile returns img's parsed config blob.
func (s *Store) ConfigFile(img *Image) (*v1.ConfigFile, error) {
	data, err := os.ReadFile(s.blobPath(img.ID))
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", shortHex(img.ID), err)
	}
	return v1.ParseConfigFile(bytes.NewReader(data))
}

// V1Image returns a ggcr v1.Image backed by the store's blobs, as pulled
// (same manifest, same digests), for save and push.
func (s *Store) V1Image(img *Image) (v1.Image, error) {
	raw, err := os.ReadFile(s.blobPath(img.Manifest))
	if err != nil {
		return nil, fmt.Errorf("image %s: manifest: %w", shortHex(img.ID), err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("image %s: manifest: %w", shortHex(img.ID), err)
	}
	return partial.CompressedToImage(&storedImage{s: s, raw: raw, m: &m})
}

// storedImage is partial.CompressedImageCore over the blob store.
type storedImage struct {
	s   *Store
	raw []byte
	m   *v1.Manifest
}

func (i *storedImage) RawConfigFile() ([]byte, error) {
	return os.ReadFile(i.s.blobPath(i.m.Config.Digest.String()))
}

func (i *storedImage) MediaType() (types.MediaType, error) {
	if i.m.MediaType != "" {
		return i.m.MediaType, nil
	}
	return types.OCIManifestSchema1, nil
}

func (i *storedImage) RawManifest() ([]byte, error) { return i.raw, nil }

func (i *storedImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == i.m.Config.Digest {
		return &storedBlob{s: i.s, d: i.m.Config}, nil
	}
	for _, d := range i.m.Layers {
		if d.Digest == h {
			return &storedBlob{s: i.s, d: d}, nil
		}
	}
	return nil, fmt.Errorf("blob %s not in manifest", h)
}

type storedBlob struct {
	s *Store
	d v1.Descriptor
}

func (b *storedBlob) Digest() (v1.Hash, error)            { return b.d.Digest, nil }
func (b *storedBlob) Size() (int64, error)                { return b.d.Size, nil }
func (b *storedBlob) MediaType() (types.MediaType, error) { return b.d.MediaType, nil }
func (b *storedBlob) Compressed() (io.ReadCloser, error)  { return b.s.openBlob(b.d.Digest.String()) }
