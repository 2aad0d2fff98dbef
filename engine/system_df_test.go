package engine

import (
	"testing"

	"github.com/skiff-dev/skiff/image"
)

func TestImageDiskUsage(t *testing.T) {
	base := &image.Image{ID: "base", Layers: []string{"L1"}}
	app := &image.Image{ID: "app", Layers: []string{"L1", "L2"}}
	other := &image.Image{ID: "other", Layers: []string{"L1", "L3"}}
	sizes := map[string]int64{"L1": 100, "L2": 10, "L3": 1}
	for _, tc := range []struct {
		name              string
		imgs              []*image.Image
		used              map[string]bool
		size, reclaimable int64
	}{
		{"nothing", nil, nil, 0, 0},
		{"shared base counted once", []*image.Image{base, app, other}, nil, 111, 111},
		{"a used image's own layer is not reclaimable", []*image.Image{base, app, other}, map[string]bool{"app": true}, 111, 101},
		{"its shared layers still are, as Docker counts", []*image.Image{app, other}, map[string]bool{"app": true, "other": true}, 111, 100},
		{"a lone used image frees nothing", []*image.Image{app}, map[string]bool{"app": true}, 110, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls := map[string]int64{}
			for _, img := range tc.imgs {
				for _, l := range img.Layers {
					ls[l] = sizes[l]
				}
			}
			size, rec := imageDiskUsage(tc.imgs, ls, tc.used)
			if size != tc.size || rec != tc.reclaimable {
				t.Fatalf("size %d, reclaimable %d; want %d, %d", size, rec, tc.size, tc.reclaimable)
			}
		})
	}
}
