package image

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skiff-dev/skiff/store"
)

const testConf = `
unqualified-search-registries = ["docker.io", "quay.io"]

[[registry]]
prefix = "docker.io"
location = "127.0.0.1:5000"

[[registry]]
prefix = "docker.io/library/special"
location = "mirror.example.com/special"
insecure = true

[[registry]]
location = "blocked.example.com"
blocked = true

[[registry]]
prefix = "quay.io"
location = "quay.example.com"
[[registry.mirror]]
location = "cache.example.com"
insecure = true

[[registry]]
prefix = "*.wild.example.com"
insecure = true
`

func TestEndpoints(t *testing.T) {
	conf, err := ParseRegistries(testConf, "test.conf")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref  string
		want []string // endpoint refs, "!" marking insecure ones
	}{
		{"busybox", []string{"127.0.0.1:5000/library/busybox:latest"}},
		{"user/app:1", []string{"127.0.0.1:5000/user/app:1"}},
		{"special:2", []string{"!mirror.example.com/special:2"}},
		{"quay.io/ns/app", []string{"!cache.example.com/ns/app:latest", "quay.example.com/ns/app:latest"}},
		{"ghcr.io/x/y:z", []string{"ghcr.io/x/y:z"}},
		{"a.wild.example.com/app", []string{"!a.wild.example.com/app:latest"}},
	}
	for _, tc := range tests {
		r, err := Normalize(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		eps, err := conf.Endpoints(r)
		if err != nil {
			t.Errorf("Endpoints(%s): %v", tc.ref, err)
			continue
		}
		var got []string
		for _, ep := range eps {
			s := ep.Ref.String()
			if ep.Insecure {
				s = "!" + s
			}
			got = append(got, s)
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("Endpoints(%s) = %v, want %v", tc.ref, got, tc.want)
		}
	}
}

func TestBlockedRegistry(t *testing.T) {
	conf, err := ParseRegistries(testConf, "test.conf")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := Normalize("blocked.example.com/app:1")
	_, err = conf.Endpoints(r)
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "blocked.example.com/app:1") {
		t.Errorf("blocked registry: %v", err)
	}
}

func TestParseRegistriesErrors(t *testing.T) {
	for _, text := range []string{
		"[[registry]]\ninsecure = true\n", // neither prefix nor location
		"[[registry]\n",                   // bad TOML
		"[[registry]]\nprefix = \"*.x.com\"\nlocation = \"y\"\n", // wildcard with location
	} {
		if _, err := ParseRegistries(text, "bad.conf"); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "bad.conf") {
			t.Errorf("ParseRegistries(%q) = %v", text, err)
		}
	}
}

func TestRegistriesFileAndCandidates(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "registries.conf")
	if err := os.WriteFile(f, []byte(testConf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CONTAINERS_REGISTRIES_CONF", f)
	if got := RegistriesFile(); got != f {
		t.Errorf("RegistriesFile() = %s", got)
	}
	var got []string
	for _, c := range Candidates("app:1") {
		got = append(got, Canonical(c))
	}
	want := "docker.io/library/app:1 quay.io/app:1"
	if strings.Join(got, " ") != want {
		t.Errorf("Candidates(app:1) = %v, want %s", got, want)
	}
	if c := Candidates("localhost:5000/app"); len(c) != 1 || Canonical(c[0]) != "localhost:5000/app:latest" {
		t.Errorf("qualified Candidates = %v", c)
	}
}
