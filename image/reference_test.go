package image

import (
	"errors"
	"strings"
	"testing"

	"github.com/skiff-dev/skiff/store"
)

func TestNormalize(t *testing.T) {
	const dg = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct{ in, canonical, familiar string }{
		{"busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"},
		{"library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
		{"index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox:1"},
		{"user/app", "docker.io/user/app:latest", "user/app:latest"},
		{"localhost:5000/ns/app:tag", "localhost:5000/ns/app:tag", "localhost:5000/ns/app:tag"},
		{"127.0.0.1:5000/app", "127.0.0.1:5000/app:latest", "127.0.0.1:5000/app:latest"},
		{"localhost/app", "localhost/app:latest", "localhost/app:latest"},
		{"quay.io/a/b/c:v1", "quay.io/a/b/c:v1", "quay.io/a/b/c:v1"},
		{"busybox@" + dg, "docker.io/library/busybox@" + dg, "busybox@" + dg},
		{"host:5000/app@" + dg, "host:5000/app@" + dg, "host:5000/app@" + dg},
	}
	for _, tc := range tests {
		r, err := Normalize(tc.in)
		if err != nil {
			t.Errorf("Normalize(%q): %v", tc.in, err)
			continue
		}
		if got := Canonical(r); got != tc.canonical {
			t.Errorf("Canonical(Normalize(%q)) = %q, want %q", tc.in, got, tc.canonical)
		}
		if got := FamiliarName(tc.canonical); got != tc.familiar {
			t.Errorf("FamiliarName(%q) = %q, want %q", tc.canonical, got, tc.familiar)
		}
	}
}

func TestNormalizeRejects(t *testing.T) {
	for _, in := range []string{"", " busybox", "Busybox", "busy box", "busybox:", "busybox@sha256:short",
		"-busybox", "busybox:tag:tag", "a//b", "https://docker.io/busybox", "busybox:" + strings.Repeat("t", 129)} {
		_, err := Normalize(in)
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Normalize(%q) = %v, want ErrInvalid", in, err)
			continue
		}
		if !strings.Contains(err.Error(), in) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Normalize(%q) error %q does not name the reference on one line", in, err)
		}
	}
}

func TestSplitName(t *testing.T) {
	tests := []struct{ in, repo, id string }{
		{"docker.io/library/busybox:latest", "docker.io/library/busybox", "latest"},
		{"localhost:5000/app", "localhost:5000/app", ""},
		{"localhost:5000/app:1", "localhost:5000/app", "1"},
		{"docker.io/library/busybox@sha256:ab", "docker.io/library/busybox", "sha256:ab"},
	}
	for _, tc := range tests {
		if repo, id := splitName(tc.in); repo != tc.repo || id != tc.id {
			t.Errorf("splitName(%q) = %q, %q; want %q, %q", tc.in, repo, id, tc.repo, tc.id)
		}
	}
}
