package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Loaded is one image a load stored, with the names it was given
// (familiar form, as Docker prints them).
type Loaded struct {
	Image *Image
	Names []string
}

// loadEntry is an image read and checked from an archive, not yet stored.
type loadEntry struct {
	img   v1.Image
	names []string
}

// Load stores the images of a docker-archive (`docker save`) or OCI archive
// (an OCI layout in a tar) read from r, plain or compressed. The whole
// archive is read and every blob checked before the store is touched, so a
// truncated or corrupt archive changes nothing.
func (s *Store) Load(ctx context.Context, r io.Reader) ([]Loaded, error) {
	tmp, done, err := s.transferTmp()
	if err != nil {
		return nil, err
	}
	defer done()
	ix, err := indexArchive(ctx, r, tmp)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer ix.Close()
	var entries []loadEntry
	switch {
	case ix.has("manifest.json"):
		entries, err = readDockerArchive(ctx, ix, tmp)
	case ix.has("index.json") && ix.has("oci-layout"):
		entries, err = readOCIArchive(ctx, ix, tmp)
	default:
		err = errors.New("not an image archive: no manifest.json or OCI index.json")
	}
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	for _, e := range entries {
		for _, n := range e.names {
			if _, err := Normalize(n); err != nil {
				return nil, fmt.Errorf("load: %w", err)
			}
		}
	}
	var out []Loaded
	for _, e := range entries {
		img, err := s.Write(ctx, e.img, e.names)
		if err != nil {
			return out, fmt.Errorf("load: %w", err)
		}
		l := Loaded{Image: img}
		for _, n := range e.names {
			ref, _ := Normalize(n)
			l.Names = append(l.Names, FamiliarName(Canonical(ref)))
		}
		out = append(out, l)
	}
	return out, nil
}

// dockerManifest is an entry of a docker-archive's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func readDockerArchive(ctx context.Context, ix *tarIndex, tmp string) ([]loadEntry, error) {
	raw, err := ix.readFile("manifest.json")
	if err != nil {
		return nil, err
	}
	var manifests []dockerManifest
	if err := json.Unmarshal(raw, &manifests); err != nil {
		return nil, fmt.Errorf("malformed manifest.json: %w", err)
	}
	if len(manifests) == 0 {
		return nil, errors.New("manifest.json lists no images")
	}
	layers := newLayerSet(ctx, ix, tmp)
	var out []loadEntry
	for _, m := range manifests {
		config, err := ix.readFile(m.Config)
		if err != nil {
			return nil, err
		}
		diffIDs, err := configDiffIDs(config, len(m.Layers))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Config, err)
		}
		ls, err := layers.get(m.Layers, diffIDs)
		if err != nil {
			return nil, err
		}
		img, err := newArchiveImage(config, ls, false)
		if err != nil {
			return nil, err
		}
		out = append(out, loadEntry{img: img, names: m.RepoTags})
	}
	return out, nil
}

// configDiffIDs is the config's rootfs.diff_ids, which must name as many
// layers as the manifest has.
func configDiffIDs(config []byte, layers int) ([]v1.Hash, error) {
	cf, err := v1.ParseConfigFile(bytes.NewReader(config))
	if err != nil {
		return nil, fmt.Errorf("malformed image config: %w", err)
	}
	if len(cf.RootFS.DiffIDs) != layers {
		return nil, fmt.Errorf("image config names %d layers, manifest %d", len(cf.RootFS.DiffIDs), layers)
	}
	return cf.RootFS.DiffIDs, nil
}

// layerSet checks each layer file of an archive once, in parallel, however
// many images share it.
type layerSet struct {
	ctx  context.Context
	ix   *tarIndex
	tmp  string
	done map[string]*blobLayer
}

func newLayerSet(ctx context.Context, ix *tarIndex, tmp string) *layerSet {
	return &layerSet{ctx: ctx, ix: ix, tmp: tmp, done: map[string]*blobLayer{}}
}

func (ls *layerSet) get(paths []string, diffIDs []v1.Hash) ([]*blobLayer, error) {
	out := make([]*blobLayer, len(paths))
	errs := make([]error, len(paths))
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for i, p := range paths {
		if l, ok := ls.done[p]; ok && l.diffID == diffIDs[i] {
			out[i] = l
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = newLayer(ls.ctx, ls.ix.opener(p), ls.tmp, diffIDs[i])
			if errs[i] != nil {
				errs[i] = fmt.Errorf("layer %s: %w", p, errs[i])
			}
		}()
	}
	wg.Wait()
	if err := firstErr(errs); err != nil {
		return nil, err
	}
	for i, p := range paths {
		ls.done[p] = out[i]
	}
	return out, nil
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
