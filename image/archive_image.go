package image

import (
	"bytes"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// archiveImage is an image assembled from checked parts (a raw config and
// blobLayers), with a manifest written for them: load and import hand it to
// Store.Write. The config is kept byte for byte, so the image ID is the one
// the archive's author saw.
type archiveImage struct {
	config   []byte
	layers   []*blobLayer
	oci      bool
	manifest []byte
}

func newArchiveImage(config []byte, layers []*blobLayer, oci bool) (v1.Image, error) {
	ai := &archiveImage{config: config, layers: layers, oci: oci}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config: v1.Descriptor{MediaType: types.DockerConfigJSON, Size: int64(len(config)),
			Digest: digestOf(config)},
	}
	layerType := types.DockerLayer
	if oci {
		m.MediaType, m.Config.MediaType, layerType = types.OCIManifestSchema1, types.OCIConfigJSON, types.OCILayer
	}
	for _, l := range layers {
		l.mt = layerType
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: layerType, Size: l.size, Digest: l.digest})
	}
	var err error
	if ai.manifest, err = json.Marshal(m); err != nil {
		return nil, err
	}
	return partial.CompressedToImage(ai)
}

func (ai *archiveImage) RawConfigFile() ([]byte, error) { return ai.config, nil }
func (ai *archiveImage) RawManifest() ([]byte, error)   { return ai.manifest, nil }

func (ai *archiveImage) MediaType() (types.MediaType, error) {
	if ai.oci {
		return types.OCIManifestSchema1, nil
	}
	return types.DockerManifestSchema2, nil
}

func (ai *archiveImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == digestOf(ai.config) {
		return partial.ConfigLayer(ai)
	}
	for _, l := range ai.layers {
		if l.digest == h {
			return l, nil
		}
	}
	return nil, fmt.Errorf("blob %s not in the image", h)
}

func digestOf(b []byte) v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h
}
