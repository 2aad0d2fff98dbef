package engine

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// useImage writes a minimal record of a container created from imageID,
// with an id made from name, and returns the container's directory.
func useImage(t *testing.T, e *Engine, name, imageID string) string {
	t.Helper()
	id := fmt.Sprintf("%x", sha256.Sum256([]byte(name)))
	dir := e.Store.Path("containers", id)
	os.MkdirAll(dir, 0o700)
	rec := map[string]string{"Id": id, "Name": name, "ImageID": imageID, "Created": time.Now().Format(time.RFC3339Nano)}
	if err := store.WriteJSON(filepath.Join(dir, "container.json"), rec); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRmi(t *testing.T) {
	e := testEngine(t)
	img := writeRandomImage(t, e, "a:1", "b:1")
	var ctr string
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
		{refs: []string{"b:1"}, setup: func() { ctr = useImage(t, e, "c1", img.ID) }, wantErr: store.ErrConflict},
		{refs: []string{"b:1"}, setup: func() { os.RemoveAll(ctr) },
			want: "Untagged: b:1|Deleted: " + img.ID},
	}
	for i, st := range steps {
		if st.setup != nil {
			st.setup()
		}
		out, err := e.Rmi(st.refs, RmiOptions{Force: st.force})
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
	report, _, err := e.ImagePrune(false, PruneFilter{})
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

// writeChain stores n images, each the parent of the next, the last with
// names, as a build's steps are; it returns them base first.
func writeChain(t *testing.T, e *Engine, n int, names ...string) []*image.Image {
	t.Helper()
	is, err := e.Images()
	if err != nil {
		t.Fatal(err)
	}
	var out []*image.Image
	parent := ""
	for i := range n {
		img, err := random.Image(128, 1)
		if err != nil {
			t.Fatal(err)
		}
		var tags []string
		if i == n-1 {
			tags = names
		}
		stored, err := is.WriteWithParent(context.Background(), img, tags, parent)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, stored)
		parent = stored.ID
	}
	return out
}

func rowNames(t *testing.T, e *Engine, o ImageListOptions) string {
	t.Helper()
	rows, err := e.ImageList(o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Repository+":"+r.Tag+"@"+shortID(r.Image.ID))
	}
	return strings.Join(got, " ")
}

func TestIntermediateImages(t *testing.T) {
	e := testEngine(t)
	chain := writeChain(t, e, 3, "app:1")
	base, step, top := chain[0], chain[1], chain[2]
	head := writeChain(t, e, 1)[0] // a dangling image: untagged, no child
	none := func(img *image.Image) string { return "<none>:<none>@" + shortID(img.ID) }
	for _, tc := range []struct {
		opts ImageListOptions
		want []string
	}{
		{ImageListOptions{}, []string{"app:1@" + shortID(top.ID), none(head)}},
		{ImageListOptions{All: true}, []string{"app:1@" + shortID(top.ID), none(step), none(base), none(head)}},
		{ImageListOptions{Filters: []string{"dangling=true"}}, []string{none(head)}},
	} {
		got := rowNames(t, e, tc.opts)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("ImageList(%+v) = %s, missing %s", tc.opts, got, w)
			}
		}
		if n := len(strings.Fields(got)); n != len(tc.want) {
			t.Errorf("ImageList(%+v) = %s, want %d rows", tc.opts, got, len(tc.want))
		}
	}
	ii, err := e.InspectImages([]string{"app:1"})
	if err != nil || ii[0].(*ImageInspect).Parent != step.ID {
		t.Errorf("inspect Parent = %v, %v; want %s", ii, err, step.ID)
	}
	if _, err := e.Rmi([]string{base.ID}, RmiOptions{Force: true}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("rmi of a parent by id: %v, want a conflict", err)
	}
	out, err := e.Rmi([]string{"app:1"}, RmiOptions{})
	want := "Untagged: app:1|Deleted: " + top.ID + "|Deleted: " + step.ID + "|Deleted: " + base.ID
	if err != nil || strings.Join(out, "|") != want {
		t.Errorf("rmi app:1 = %q, %v; want %q", out, err, want)
	}
	if got := rowNames(t, e, ImageListOptions{All: true}); got != none(head) {
		t.Errorf("left after rmi: %s", got)
	}
}

func TestRmiNoPruneAndImagePrune(t *testing.T) {
	e := testEngine(t)
	chain := writeChain(t, e, 2, "app:1")
	out, err := e.Rmi([]string{"app:1"}, RmiOptions{NoPrune: true})
	if err != nil || len(out) != 2 {
		t.Fatalf("rmi --no-prune = %q, %v", out, err)
	}
	// The parent kept is now a dangling head.
	if got := rowNames(t, e, ImageListOptions{Filters: []string{"dangling=true"}}); got != "<none>:<none>@"+shortID(chain[0].ID) {
		t.Errorf("after rmi --no-prune: %s", got)
	}
	// prune: a dangling head goes with its untagged parents.
	dang := writeChain(t, e, 3)
	// prune -a: a tagged parent goes too, after its child.
	writeChain(t, e, 1, "keep:1")
	is, _ := e.Images()
	tagged := writeChain(t, e, 2, "child:1")
	if err := is.Tag(tagged[0], "parent:1"); err != nil {
		t.Fatal(err)
	}
	report, _, err := e.ImagePrune(false, PruneFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(report, "|")
	for _, img := range append([]*image.Image{chain[0]}, dang...) {
		if !strings.Contains(got, "deleted: "+img.ID) {
			t.Errorf("prune report %q lacks %s", got, img.ID)
		}
	}
	if len(report) != 4 {
		t.Errorf("prune removed %d images, want 4: %q", len(report), got)
	}
	if _, _, err := e.ImagePrune(true, PruneFilter{}); err != nil {
		t.Fatal(err)
	}
	if got := rowNames(t, e, ImageListOptions{All: true}); got != "" {
		t.Errorf("left after prune -a: %s", got)
	}
}
