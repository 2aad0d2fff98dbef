package image

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/skiff-dev/skiff/store"
)

func TestNameOnly(t *testing.T) {
	for ref, want := range map[string]bool{
		"busybox": true, "library/busybox": true, "localhost:5000/app": true, "registry.example/a/b": true,
		"busybox:1": false, "localhost:5000/app:2": false, "busybox@sha256:abc": false, "localhost:5000": false,
	} {
		if got := NameOnly(ref); got != want {
			t.Errorf("NameOnly(%q) = %v, want %v", ref, got, want)
		}
	}
}

// TestPullAllTags: every tag is pulled and named; the per-tag lines come
// for each, the status and the repository once, at the end.
func TestPullAllTags(t *testing.T) {
	reg := newPullRegistry(t)
	one := pullTestImage(t, "amd64", map[string]string{"a": "1"})
	two := pullTestImage(t, "amd64", map[string]string{"a": "2"})
	reg.push(t, "test/app:1", one)
	reg.push(t, "test/app:2", two)
	reg.push(t, "test/app:latest", two)
	repo := reg.host + "/test/app"
	s := pullTestStore(t)
	var out bytes.Buffer
	imgs, err := s.PullAllTags(context.Background(), repo, PullOptions{Out: &out, Platform: "linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 3 || imgs[1].ID != imgs[2].ID || imgs[0].ID == imgs[1].ID {
		t.Fatalf("pulled %d images: %v", len(imgs), imgs)
	}
	for _, tag := range []string{"1", "2", "latest"} {
		if _, err := s.Lookup(repo + ":" + tag); err != nil {
			t.Errorf("tag %s: %v", tag, err)
		}
	}
	o := out.String()
	for _, want := range []string{"1: Pulling from test/app\n", "2: Pulling from test/app\n", "latest: Pulling from test/app\n"} {
		if strings.Count(o, want) != 1 {
			t.Errorf("output lacks %q once:\n%s", want, o)
		}
	}
	if strings.Count(o, "Digest: ") != 3 || strings.Count(o, "Status: ") != 1 || strings.Contains(o, "Using default tag") ||
		!strings.HasSuffix(o, "Status: Downloaded newer image for "+repo+"\n"+repo+"\n") {
		t.Errorf("output:\n%s", o)
	}

	// Again: up to date; -q prints only the repository.
	out.Reset()
	if _, err := s.PullAllTags(context.Background(), repo, PullOptions{Out: &out, Platform: "linux/amd64"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "Status: Image is up to date for "+repo+"\n"+repo+"\n") {
		t.Errorf("second pull:\n%s", out.String())
	}
	out.Reset()
	if _, err := s.PullAllTags(context.Background(), repo, PullOptions{Out: &out, Quiet: true, Platform: "linux/amd64"}); err != nil {
		t.Fatal(err)
	}
	if out.String() != repo+"\n" {
		t.Errorf("-q: %q", out.String())
	}

	_, err = s.PullAllTags(context.Background(), reg.host+"/test/nothing", PullOptions{Platform: "linux/amd64"})
	if want := "repository " + reg.host + "/test/nothing not found: name unknown"; !errors.Is(err, store.ErrNotFound) || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("unknown repository: %v, want %q", err, want)
	}
}
