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
	docker := filepath.Join(dir, "docker")
	os.MkdirAll(docker, 0o700)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	os.WriteFile(filepath.Join(docker, "config.json"), []byte(`{"auths":{
		"https://index.docker.io/v1/":{"auth":"`+b64("hub:hubpw")+`"},
		"127.0.0.1:5000":{"auth":"`+b64("local:localpw")+`"}}}`), 0o600)
	podman := filepath.Join(dir, "auth.json")
	os.WriteFile(podman, []byte(`{"auths":{"quay.io":{"auth":"`+b64("quay:quaypw")+`"},
		"127.0.0.1:5000":{"auth":"`+b64("shadowed:x")+`"}}}`), 0o600)
	t.Setenv("DOCKER_CONFIG", docker)
	t.Setenv("REGISTRY_AUTH_FILE", podman)
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "none"))
	tests := []struct{ registry, user string }{
		{"index.docker.io", "hub"},
		{"127.0.0.1:5000", "local"},
		{"quay.io", "quay"},
		{"ghcr.io", ""},
	}
	for _, tc := range tests {
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
				t.Errorf("%s: got %v, want anonymous", tc.registry, a)
			}
			continue
		}
		cfg, err := a.Authorization()
		if err != nil || cfg.Username != tc.user {
			t.Errorf("%s: user %q (%v), want %q", tc.registry, cfg.Username, err, tc.user)
		}
	}
}
