package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/store"
)

func testEngine(t *testing.T) *Engine {
	t.Helper()
	t.Setenv("CONTAINERS_REGISTRIES_CONF", filepath.Join(t.TempDir(), "none.conf"))
	e, err := Open(Options{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func writeRandomImage(t *testing.T, e *Engine, names ...string) *image.Image {
	t.Helper()
	img, err := random.Image(256, 2)
	if err != nil {
		t.Fatal(err)
	}
	is, err := e.Images()
	if err != nil {
		t.Fatal(err)
	}
	stored, err := is.Write(context.Background(), img, names)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func useImage(t *testing.T, e *Engine, ctrID, imageID string) {
	t.Helper()
	dir := e.Store.Path("containers", ctrID)
	os.MkdirAll(dir, 0o700)
	if err := store.WriteJSON(filepath.Join(dir, "container.json"), map[string]string{"ID": ctrID, "ImageID": imageID}); err != nil {
		t.Fatal(err)
	}
}

func TestRmi(t *testing.T) {
	e := testEngine(t)
	img := writeRandomImage(t, e, "a:1", "b:1")
	steps := []struct {
		refs    []string
		force   bool
		setup   func()
		want    string // output lines joined by "|"
		wantErr error
	}{
		{refs: []string{img.ID[7:19]}, wantErr: store.ErrConflict}, // two names: must force
		{refs: []string{"a:1"}, want: "Untagged: a:1"},             // not the last name
		{refs: []string{"nope"}, wantErr: store.ErrNotFound},
		{refs: []string{"b:1"}, setup: func() { useImage(t, e, "c1", img.ID) }, wantErr: store.ErrConflict},
		{refs: []string{"b:1"}, setup: func() { os.RemoveAll(e.Store.Path("containers")) },
			want: "Untagged: b:1|Deleted: " + img.ID},
	}
	for i, st := range steps {
		if st.setup != nil {
			st.setup()
		}
		out, err := e.Rmi(st.refs, st.force)
		if st.wantErr != nil {
			if !errors.Is(err, st.wantErr) {
				t.Errorf("step %d: err = %v, want %v", i, err, st.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(out, "|") != st.want {
			t.Errorf("step %d: Rmi(%v) = %q, %v; want %q", i, st.refs, out, err, st.want)
		}
	}
	if rows, _ := e.ImageList(ImageListOptions{}); len(rows) != 0 {
		t.Errorf("images left: %v", rows)
	}
}

func TestImageListFilters(t *testing.T) {
	e := testEngine(t)
	writeRandomImage(t, e, "busybox:1", "busybox:2", "quay.io/x/y:z")
	dangling := writeRandomImage(t, e, "tmp:1")
	is, _ := e.Images()
	if err := is.Untag("tmp:1"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		opts ImageListOptions
		want string // Repository:Tag of each row, sorted by the list
	}{
		{ImageListOptions{Filters: []string{"dangling=true"}}, "<none>:<none>"},
		{ImageListOptions{Filters: []string{"reference=busybox"}}, "busybox:1 busybox:2"},
		{ImageListOptions{Filters: []string{"reference=busybox:2"}}, "busybox:2"},
		{ImageListOptions{Filters: []string{"reference=quay.io/*/*"}}, "quay.io/x/y:z"},
		{ImageListOptions{Reference: "busybox:1"}, "busybox:1"},
	}
	for _, tc := range tests {
		rows, err := e.ImageList(tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, r.Repository+":"+r.Tag)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("ImageList(%+v) = %v, want %s", tc.opts, got, tc.want)
		}
	}
	if _, err := e.ImageList(ImageListOptions{Filters: []string{"bogus=1"}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad filter: %v", err)
	}
	report, _, err := e.ImagePrune(false)
	if err != nil || strings.Join(report, "|") != "deleted: "+dangling.ID {
		t.Errorf("ImagePrune = %v, %v", report, err)
	}
}

func TestInspectAndHistory(t *testing.T) {
	e := testEngine(t)
	img := writeRandomImage(t, e, "app:1")
	items, err := e.InspectImages([]string{"app:1"})
	if err != nil || len(items) != 1 {
		t.Fatalf("InspectImages = %v, %v", items, err)
	}
	ii := items[0].(*ImageInspect)
	if ii.Id != img.ID || len(ii.RepoTags) != 1 || ii.RepoTags[0] != "app:1" || len(ii.RootFS.Layers) != 2 {
		t.Errorf("inspect = %+v", ii)
	}
	if _, err := e.InspectImages([]string{"missing"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("inspect missing: %v", err)
	}
	hist, err := e.History("app:1")
	if err != nil || len(hist) != 2 || hist[0].ID != img.ID || hist[1].ID != "<missing>" {
		t.Errorf("History = %+v, %v", hist, err)
	}
}
