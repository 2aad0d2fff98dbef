package image

import "testing"

// Removing an image hands its children its own parent: the build cache's
// intermediates go while the images built from them stay.
func TestRemoveReparents(t *testing.T) {
	s := newTransferStore(t)
	if err := s.update(func(ix *index) error {
		ix.Images = []*Image{
			{ID: "sha256:base", RepoTags: []string{"docker.io/library/base:latest"}},
			{ID: "sha256:mid", Parent: "sha256:base"},
			{ID: "sha256:top", Parent: "sha256:mid", RepoTags: []string{"docker.io/library/top:latest"}},
			{ID: "sha256:other", Parent: "sha256:base"},
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	parents := func() map[string]string {
		imgs, err := s.List()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, img := range imgs {
			out[img.ID] = img.Parent
		}
		return out
	}
	if _, err := s.Remove(&Image{ID: "sha256:mid"}); err != nil {
		t.Fatal(err)
	}
	if p := parents(); p["sha256:top"] != "sha256:base" || p["sha256:other"] != "sha256:base" || len(p) != 3 {
		t.Fatalf("after removing the intermediate: %v, want top and other on base", p)
	}
	if _, err := s.Remove(&Image{ID: "sha256:base"}); err != nil {
		t.Fatal(err)
	}
	if p := parents(); p["sha256:top"] != "" || p["sha256:other"] != "" {
		t.Fatalf("after removing the base: %v, want no parents left", p)
	}
}
