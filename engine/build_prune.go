package engine

import (
	"github.com/skiff-dev/skiff/image"
)

// BuilderPrune forgets the build cache and removes the untagged images
// its steps produced that no container uses (the intermediate images of
// past builds). It returns the space reclaimed.
func (e *Engine) BuilderPrune() (int64, error) {
	cache, err := image.OpenBuildCache(e.Store)
	if err != nil {
		return 0, err
	}
	is, err := image.Open(e.Store)
	if err != nil {
		return 0, err
	}
	users, err := e.imageUsers()
	if err != nil {
		return 0, err
	}
	var freed int64
	for _, id := range cache.ImageIDs() {
		img, err := is.Lookup(id)
		if err != nil || len(img.RepoTags) > 0 || len(users[img.ID]) > 0 {
			continue
		}
		if n, err := is.Remove(img); err == nil {
			freed += n
		}
	}
	_, err = cache.Prune()
	return freed, err
}
