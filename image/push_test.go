package image

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// authRegistry is ggcr's in-process registry behind HTTP basic auth (it has
// none of its own), on 127.0.0.1. It returns the registry's host:port.
func authRegistry(t *testing.T, user, pass string) string {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// isolateAuth points every credential and registries.conf lookup at empty
// temp files, and returns the auth file login writes.
func isolateAuth(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", filepath.Join(dir, "docker"))
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "run"))
	t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(dir, "auth.json"))
	conf := filepath.Join(dir, "registries.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CONTAINERS_REGISTRIES_CONF", conf)
	return filepath.Join(dir, "auth.json")
}

func TestLoginPushLogout(t *testing.T) {
	ctx := context.Background()
	authFile := isolateAuth(t)
	host := authRegistry(t, "alice", "s3cret")
	s := newTransferStore(t)
	img := transferImage(t, s, host+"/team/app:v1")
	ref := host + "/team/app:v1"

	// No credentials yet: the push is refused.
	if err := s.Push(ctx, ref, PushOptions{}); err == nil || !strings.Contains(err.Error(), "unauthorized") {
		t.Fatalf("push without login = %v, want unauthorized", err)
	}

	reg, err := LoginRegistry(host)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyLogin(ctx, reg, authn.AuthConfig{Username: "alice", Password: "wrong"}); err == nil {
		t.Fatal("a wrong password verified")
	}
	if err := VerifyLogin(ctx, reg, authn.AuthConfig{Username: "alice", Password: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	// Other settings in the file survive a login.
	if err := os.WriteFile(authFile, []byte(`{"credsStore":"","auths":{"other.example":{"auth":"eDp5"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if file, err := SaveLogin(reg, "alice", "s3cret"); err != nil || file != authFile {
		t.Fatalf("SaveLogin = %q, %v", file, err)
	}
	st, err := os.Stat(authFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("auth file mode %v, %v", st.Mode(), err)
	}
	var cfg struct {
		Auths map[string]map[string]string `json:"auths"`
	}
	data, _ := os.ReadFile(authFile)
	if err := json.Unmarshal(data, &cfg); err != nil || cfg.Auths[host]["auth"] != "YWxpY2U6czNjcmV0" || cfg.Auths["other.example"] == nil {
		t.Fatalf("auth file %s", data)
	}

	var out strings.Builder
	if err := s.Push(ctx, ref, PushOptions{Out: &out}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "The push refers to repository ["+host+"/team/app]") ||
		!strings.Contains(out.String(), ": Pushed") || !strings.Contains(out.String(), "v1: digest: sha256:") {
		t.Errorf("push output:\n%s", out.String())
	}
	// The registry now serves the image, config and all.
	r, _ := name.ParseReference(ref)
	remoteImg, err := remote.Image(r, remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := remoteImg.ConfigName(); id.String() != img.ID {
		t.Errorf("registry has config %s, pushed %s", id, img.ID)
	}
	// A second push finds every layer there.
	out.Reset()
	if err := s.Push(ctx, ref, PushOptions{Out: &out}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), ": Pushed") || !strings.Contains(out.String(), "Layer already exists") {
		t.Errorf("second push output:\n%s", out.String())
	}

	key, found, err := RemoveLogin(reg)
	if err != nil || !found || key != host {
		t.Fatalf("RemoveLogin = %q, %v, %v", key, found, err)
	}
	if _, ok := StoredCredentials(reg); ok {
		t.Error("credentials still stored after logout")
	}
	if _, found, _ := RemoveLogin(reg); found {
		t.Error("second logout found credentials")
	}
}

func TestPushUnknownImage(t *testing.T) {
	isolateAuth(t)
	s := newTransferStore(t)
	err := s.Push(context.Background(), "127.0.0.1:1/nosuch:v1", PushOptions{})
	if err == nil || !strings.Contains(err.Error(), "does not exist locally") {
		t.Fatalf("Push(unknown) = %v", err)
	}
}
