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

func TestRegistriesDropIns(t *testing.T) {
	write := func(p, text string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	main := `unqualified-search-registries = ["docker.io"]
[[registry]]
prefix = "docker.io"
location = "mirror.example:5000"
[[registry]]
prefix = "quay.io"
blocked = true
`
	drops := map[string]string{
		// applied first: replaces docker.io's table, adds ghcr.io
		"10-hub.conf": "[[registry]]\nprefix = \"docker.io\"\nlocation = \"first.example\"\n[[registry]]\nprefix = \"ghcr.io\"\ninsecure = true\n",
		// applied last: wins over 10-hub.conf; empties the search list
		"20-hub.conf":   "unqualified-search-registries = []\n[[registry]]\nprefix = \"docker.io\"\nlocation = \"second.example\"\n",
		"30-notes.txt":  "not = [toml",
		"05-empty.conf": "",
	}
	type want struct {
		search  string
		hub     string // docker.io's location
		quay    bool   // quay.io blocked
		ghcr    bool   // ghcr.io table present
		dropIns int
	}
	check := func(t *testing.T, w want) {
		t.Helper()
		if n := len(RegistriesDropIns()); n != w.dropIns {
			t.Errorf("RegistriesDropIns() = %v, want %d files", RegistriesDropIns(), w.dropIns)
		}
		c, err := LoadRegistries()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(c.UnqualifiedSearch, ","); got != w.search {
			t.Errorf("search = %q, want %q", got, w.search)
		}
		if r := c.match("docker.io/library/x"); r == nil || r.Location != w.hub {
			t.Errorf("docker.io = %+v, want location %s", r, w.hub)
		}
		if r := c.match("quay.io/x"); (r != nil && r.Blocked) != w.quay {
			t.Errorf("quay.io = %+v", r)
		}
		if r := c.match("ghcr.io/x"); (r != nil && r.Insecure) != w.ghcr {
			t.Errorf("ghcr.io = %+v", r)
		}
	}
	t.Run("CONTAINERS_REGISTRIES_CONF", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("CONTAINERS_REGISTRIES_CONF", filepath.Join(dir, "registries.conf"))
		t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "cfg"))
		write(filepath.Join(dir, "registries.conf"), main)
		check(t, want{search: "docker.io", hub: "mirror.example:5000", quay: true})
		for n, text := range drops {
			write(filepath.Join(dir, "registries.conf.d", n), text)
		}
		os.MkdirAll(filepath.Join(dir, "registries.conf.d", "sub.conf"), 0o700) // a directory: ignored
		// the user's drop-ins belong to the user's registries.conf, not to this one
		write(filepath.Join(dir, "cfg", "containers", "registries.conf.d", "99.conf"), "[[registry]]\nprefix = \"docker.io\"\nblocked = true\n")
		check(t, want{search: "", hub: "second.example", quay: true, ghcr: true, dropIns: 3})
	})
	t.Run("user registries.conf", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("CONTAINERS_REGISTRIES_CONF", "")
		t.Setenv("XDG_CONFIG_HOME", dir)
		write(filepath.Join(dir, "containers", "registries.conf"), main)
		for n, text := range drops {
			write(filepath.Join(dir, "containers", "registries.conf.d", n), text)
		}
		check(t, want{search: "", hub: "second.example", quay: true, ghcr: true, dropIns: 3})
	})
	t.Run("bad drop-in", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("CONTAINERS_REGISTRIES_CONF", filepath.Join(dir, "registries.conf"))
		write(filepath.Join(dir, "registries.conf.d", "bad.conf"), "[[registry]\n")
		if _, err := LoadRegistries(); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "bad.conf") {
			t.Errorf("LoadRegistries() = %v, want an error naming bad.conf", err)
		}
	})
}
