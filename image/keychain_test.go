package image

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

func TestKeychain(t *testing.T) {
	dir := t.TempDir()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	write := func(p, auths string) {
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(`{"auths":{`+auths+`}}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	entry := func(key, user string) string { return `"` + key + `":{"auth":"` + b64(user+":pw") + `"}` }
	docker := filepath.Join(dir, "docker")
	write(filepath.Join(docker, "config.json"), entry("https://index.docker.io/v1/", "hub")+","+
		entry("127.0.0.1:5000", "docker")+","+entry("ghcr.io", "docker"))
	override := filepath.Join(dir, "override.json")
	write(override, entry("quay.io", "quay")+","+entry("127.0.0.1:5000", "override"))
	runtime := filepath.Join(dir, "run")
	write(filepath.Join(runtime, "containers", "auth.json"), entry("127.0.0.1:5000", "runtime"))
	config := filepath.Join(dir, "config")
	write(filepath.Join(config, "containers", "auth.json"), entry("127.0.0.1:5000", "xdgconfig")+","+entry("ghcr.io", "xdgconfig"))
	t.Setenv("DOCKER_CONFIG", docker)
	t.Setenv("XDG_RUNTIME_DIR", runtime)
	t.Setenv("XDG_CONFIG_HOME", config)
	tests := []struct {
		authFile string // $REGISTRY_AUTH_FILE
		registry string
		user     string // "" is anonymous
	}{
		// $REGISTRY_AUTH_FILE replaces the primary file and wins.
		{override, "127.0.0.1:5000", "override"},
		{override, "quay.io", "quay"},
		{override, "ghcr.io", "xdgconfig"},   // then ~/.config's auth.json
		{override, "index.docker.io", "hub"}, // then Docker's config.json
		{"", "127.0.0.1:5000", "runtime"},    // Podman's primary file first
		{"", "ghcr.io", "xdgconfig"},
		{"", "quay.io", ""},
		{"", "docker.io", "hub"},
	}
	for _, tc := range tests {
		t.Setenv("REGISTRY_AUTH_FILE", tc.authFile)
		reg, err := name.NewRegistry(tc.registry)
		if err != nil {
			t.Fatal(err)
		}
		a, err := Keychain().Resolve(reg)
		if err != nil {
			t.Fatal(err)
		}
		if tc.user == "" {
			if a != authn.Anonymous {
				t.Errorf("%s (%q): got %v, want anonymous", tc.registry, tc.authFile, a)
			}
			continue
		}
		cfg, err := a.Authorization()
		if err != nil || cfg.Username != tc.user {
			t.Errorf("%s (%q): user %q (%v), want %q", tc.registry, tc.authFile, cfg.Username, err, tc.user)
		}
	}
}
