package image

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/skiff-dev/skiff/store"
)

// DefaultServer is the registry login and logout use when none is given.
const DefaultServer = "docker.io"

// AuthWriteFile is where login stores credentials: $REGISTRY_AUTH_FILE as
// Podman does, else Docker's $DOCKER_CONFIG/config.json (default
// ~/.docker/config.json).
func AuthWriteFile() (string, error) {
	if f := os.Getenv("REGISTRY_AUTH_FILE"); f != "" {
		return f, nil
	}
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for ~/.docker/config.json: set REGISTRY_AUTH_FILE")
	}
	return filepath.Join(home, ".docker", "config.json"), nil
}

// LoginRegistry parses a login server argument ("localhost:5000",
// "https://index.docker.io/v1/", "docker.io") into a registry.
func LoginRegistry(server string) (name.Registry, error) {
	if server == "" {
		server = DefaultServer
	}
	host := strings.TrimPrefix(strings.TrimPrefix(server, "https://"), "http://")
	host, _, _ = strings.Cut(host, "/")
	reg, err := name.NewRegistry(host, name.StrictValidation)
	if err != nil || host == "" {
		return name.Registry{}, store.Invalid("invalid registry %q", server)
	}
	if conf, err := LoadRegistries(); err == nil {
		if rc := conf.match(host); rc != nil && rc.Insecure {
			reg, _ = name.NewRegistry(host, name.Insecure)
		}
	}
	return reg, nil
}

// StoredCredentials returns the credentials Keychain has for reg, if any.
func StoredCredentials(reg name.Registry) (authn.AuthConfig, bool) {
	a, err := Keychain().Resolve(reg)
	if err != nil || a == authn.Anonymous {
		return authn.AuthConfig{}, false
	}
	cfg, err := a.Authorization()
	if err != nil || cfg.Username == "" && cfg.IdentityToken == "" {
		return authn.AuthConfig{}, false
	}
	return *cfg, true
}

// VerifyLogin checks credentials against the registry: the /v2/ ping with
// ggcr's transport, which performs the registry's auth exchange (basic, or
// a bearer token from its token service).
func VerifyLogin(ctx context.Context, reg name.Registry, cred authn.AuthConfig) error {
	guard := httpGuard{base: remote.DefaultTransport, insecure: reg.Scheme() == "http"}
	scopes := []string{}
	tr, err := transport.NewWithContext(ctx, reg, authn.FromConfig(cred), guard, scopes)
	if err != nil {
		return loginError(reg, err)
	}
	u := fmt.Sprintf("%s://%s/v2/", reg.Scheme(), reg.RegistryStr())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return loginError(reg, err)
	}
	defer resp.Body.Close()
	return loginError(reg, transport.CheckError(resp, http.StatusOK))
}

func loginError(reg name.Registry, err error) error {
	if err == nil {
		return nil
	}
	var te *transport.Error
	if errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("login %s: unauthorized: incorrect username or password", reg.RegistryStr())
	}
	return fmt.Errorf("login %s: %s", reg.RegistryStr(), oneLine(err.Error()))
}

// SaveLogin records user/password for reg in the auth file (Docker's
// config.json format, mode 0600), keeping every other entry and setting of
// the file. It returns the file's path.
func SaveLogin(reg name.Registry, user, password string) (string, error) {
	file, err := AuthWriteFile()
	if err != nil {
		return "", err
	}
	entry, _ := json.Marshal(map[string]string{
		"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password)),
	})
	err = editAuthFile(file, func(auths map[string]json.RawMessage) bool {
		for _, k := range authKeys(auths, reg.RegistryStr()) {
			delete(auths, k)
		}
		auths[AuthKey(reg.RegistryStr())] = entry
		return true
	})
	return file, err
}

// RemoveLogin deletes the credentials for reg from every auth file
// Keychain reads. It reports the key Docker prints and whether any entry
// was found.
func RemoveLogin(reg name.Registry) (string, bool, error) {
	files := AuthFiles()
	if w, err := AuthWriteFile(); err == nil && !contains(files, w) {
		files = append(files, w)
	}
	found := false
	for _, f := range files {
		err := editAuthFile(f, func(auths map[string]json.RawMessage) bool {
			keys := authKeys(auths, reg.RegistryStr())
			for _, k := range keys {
				delete(auths, k)
			}
			found = found || len(keys) > 0
			return len(keys) > 0
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", found, err
		}
	}
	return AuthKey(reg.RegistryStr()), found, nil
}

// authKeys are the keys of auths that name registry (bare host or URL).
func authKeys(auths map[string]json.RawMessage, registry string) []string {
	want := map[string]bool{registry: true}
	if registry == dockerHub || registry == dockerHubName {
		want = map[string]bool{dockerHub: true, dockerHubName: true, "registry-1.docker.io": true}
	}
	var keys []string
	for k := range auths {
		host := strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://")
		host, _, _ = strings.Cut(host, "/")
		if want[host] {
			keys = append(keys, k)
		}
	}
	return keys
}

// editAuthFile applies edit to the "auths" of a Docker config file, leaving
// every other key as it was, and writes it back atomically (0600) when edit
// reports a change. A missing file starts empty; a malformed one is an
// error, never overwritten.
func editAuthFile(file string, edit func(map[string]json.RawMessage) bool) error {
	doc := map[string]json.RawMessage{}
	data, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case len(strings.TrimSpace(string(data))) > 0:
		if err := json.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("%s: malformed auth file: %w", file, err)
		}
	}
	auths := map[string]json.RawMessage{}
	if raw, ok := doc["auths"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return fmt.Errorf("%s: malformed auths: %w", file, err)
		}
	}
	if !edit(auths) {
		return nil
	}
	if doc["auths"], err = json.Marshal(auths); err != nil {
		return err
	}
	out, err := json.MarshalIndent(doc, "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	return store.WriteFile(file, append(out, '\n'), 0o600)
}
