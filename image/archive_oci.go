package image

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Annotations that name an image in an OCI layout: containerd's (Docker 25+
// writes both) holds the full name, the OCI one by spec a tag but by
// Podman's and skiff's habit the full name too.
const (
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

func readOCIArchive(ctx context.Context, ix *tarIndex, tmp string) ([]loadEntry, error) {
	raw, err := ix.readFile("index.json")
	if err != nil {
		return nil, err
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("malformed index.json: %w", err)
	}
	if len(idx.Manifests) == 0 {
		return nil, fmt.Errorf("index.json lists no images")
	}
	layers := newLayerSet(ctx, ix, tmp)
	var out []loadEntry
	for _, d := range idx.Manifests {
		img, err := ociImage(ix, layers, d, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, loadEntry{img: img, names: ociNames(d.Annotations)})
	}
	return out, nil
}

// ociNames is the name an OCI index entry gives its image, if any. A bare
// tag ("latest") names no repository, so the image stays untagged.
func ociNames(a map[string]string) []string {
	if n := a[annotationContainerdName]; n != "" {
		return []string{n}
	}
	if n := a[annotationRefName]; strings.ContainsAny(n, ":/") {
		return []string{n}
	}
	return nil
}

// ociBlob reads a blob of the layout and checks it against its digest.
func ociBlob(ix *tarIndex, d v1.Hash) ([]byte, error) {
	b, err := ix.readFile(ociBlobPath(d))
	if err != nil {
		return nil, err
	}
	if got := digestOf(b); got != d {
		return nil, fmt.Errorf("blob %s: digest mismatch (content is %s)", d, got)
	}
	return b, nil
}

func ociBlobPath(d v1.Hash) string { return "blobs/" + d.Algorithm + "/" + d.Hex }

// ociImage reads the image a descriptor names; an index (multi-platform) is
// resolved to the host's platform, as pull does.
func ociImage(ix *tarIndex, layers *layerSet, d v1.Descriptor, depth int) (v1.Image, error) {
	if depth > 4 {
		return nil, fmt.Errorf("index %s nests too deep", d.Digest)
	}
	raw, err := ociBlob(ix, d.Digest)
	if err != nil {
		return nil, err
	}
	switch d.MediaType {
	case types.OCIImageIndex, types.DockerManifestList:
		idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("malformed index %s: %w", d.Digest, err)
		}
		for _, m := range idx.Manifests {
			if p := m.Platform; p != nil && p.OS == runtime.GOOS && p.Architecture == runtime.GOARCH {
				return ociImage(ix, layers, m, depth+1)
			}
		}
		return nil, fmt.Errorf("index %s has no image for %s/%s", d.Digest, runtime.GOOS, runtime.GOARCH)
	case types.OCIManifestSchema1, types.DockerManifestSchema2, "":
	default:
		return nil, fmt.Errorf("unsupported manifest media type %q", d.MediaType)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("malformed manifest %s: %w", d.Digest, err)
	}
	config, err := ociBlob(ix, m.Config.Digest)
	if err != nil {
		return nil, err
	}
	diffIDs, err := configDiffIDs(config, len(m.Layers))
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(m.Layers))
	for i, l := range m.Layers {
		paths[i] = ociBlobPath(l.Digest)
	}
	ls, err := layers.get(paths, diffIDs)
	if err != nil {
		return nil, err
	}
	for i, l := range ls {
		// A gzip blob is kept as it is, so it must be what the manifest says.
		if l.original && l.digest != m.Layers[i].Digest {
			return nil, fmt.Errorf("layer %s: digest mismatch (content is %s)", m.Layers[i].Digest, l.digest)
		}
	}
	return newArchiveImage(config, ls, true)
}
