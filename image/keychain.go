package image

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Keychain finds registry credentials in the order containers-auth.json(5)
// documents: $REGISTRY_AUTH_FILE (where login writes) or, when it is unset,
// Podman's primary ${XDG_RUNTIME_DIR}/containers/auth.json; then
// ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json; then Docker's
// $DOCKER_CONFIG/config.json (default ~/.docker/config.json). All are in
// Docker's config format; the first file with an entry for the registry
// wins, and no entry anywhere means anonymous access.
func Keychain() authn.Keychain {
	var chain []authn.Keychain
	for _, p := range AuthFiles() {
		chain = append(chain, fileKeychain(p))
	}
	return authn.NewMultiKeychain(chain...)
}

// AuthFiles lists the credential files Keychain reads, in order.
func AuthFiles() []string {
	var files []string
	if f := os.Getenv("REGISTRY_AUTH_FILE"); f != "" {
		files = append(files, f)
	} else if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		files = append(files, filepath.Join(d, "containers", "auth.json"))
	}
	home, homeErr := os.UserHomeDir()
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		files = append(files, filepath.Join(d, "containers", "auth.json"))
	} else if homeErr == nil {
		files = append(files, filepath.Join(home, ".config", "containers", "auth.json"))
	}
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		files = append(files, filepath.Join(d, "config.json"))
	} else if homeErr == nil {
		files = append(files, filepath.Join(home, ".docker", "config.json"))
	}
	return files
}

// fileKeychain resolves credentials from one Docker-format config file,
// read at each lookup so a login by another process is seen.
type fileKeychain string

type authEntry struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

func (f fileKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	data, err := os.ReadFile(string(f))
	if err != nil {
		return authn.Anonymous, nil
	}
	var cfg struct {
		Auths map[string]authEntry `json:"auths"`
	}
	if json.Unmarshal(data, &cfg) != nil {
		return authn.Anonymous, nil
	}
	e, ok := lookupAuth(cfg.Auths, target.RegistryStr())
	if !ok {
		return authn.Anonymous, nil
	}
	ac := authn.AuthConfig{Username: e.Username, Password: e.Password,
		IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken}
	if e.Auth != "" {
		if raw, err := base64.StdEncoding.DecodeString(e.Auth); err == nil {
			if u, p, ok := strings.Cut(string(raw), ":"); ok {
				ac.Username, ac.Password = u, p
			}
		}
	}
	if ac == (authn.AuthConfig{}) {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(ac), nil
}

// lookupAuth matches a registry against config keys, which may be bare
// hosts or URLs ("https://index.docker.io/v1/").
func lookupAuth(auths map[string]authEntry, registry string) (authEntry, bool) {
	want := []string{registry}
	if registry == dockerHub || registry == dockerHubName {
		want = []string{dockerHub, dockerHubName, "registry-1.docker.io"}
	}
	for key, e := range auths {
		host := strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
		host, _, _ = strings.Cut(host, "/")
		for _, w := range want {
			if host == w {
				return e, true
			}
		}
	}
	return authEntry{}, false
}

// AuthKey is the config.json key under which credentials for registry are
// stored: Docker Hub keeps its historical URL.
func AuthKey(registry string) string {
	if registry == dockerHub || registry == dockerHubName || registry == "registry-1.docker.io" {
		return "https://index.docker.io/v1/"
	}
	return registry
}
