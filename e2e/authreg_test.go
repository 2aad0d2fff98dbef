package e2e

// A second listener on the same registry content that demands Docker Hub's
// bearer-token flow: /v2/ answers 401 with a Bearer challenge, /token hands
// out an anonymous token (pull only, and not under private/) or, given
// e2e:secret by basic auth or the OAuth2 password grant, a full one.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

const (
	authUser     = "e2e"
	authPassword = "secret"
	tokenAnon    = "anon-token"
	tokenFull    = "full-token"
)

// authHost is the token-protected registry's 127.0.0.1:PORT.
var authHost string

func startAuthRegistry() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	authHost = ln.Addr().String()
	srv := &http.Server{Handler: authHandler(reg.srv.Handler), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return nil
}

func authHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/token" {
			serveToken(w, req)
			return
		}
		tok := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
		if !allowed(tok, req) {
			challenge(w, req)
			return
		}
		next.ServeHTTP(w, req)
	})
}

// allowed: the full token may do anything; the anonymous one may read
// anything outside private/.
func allowed(tok string, req *http.Request) bool {
	switch tok {
	case tokenFull:
		return true
	case tokenAnon:
		read := req.Method == http.MethodGet || req.Method == http.MethodHead
		return read && !strings.HasPrefix(req.URL.Path, "/v2/private/")
	}
	return false
}

func challenge(w http.ResponseWriter, req *http.Request) {
	h := fmt.Sprintf(`Bearer realm="http://%s/token",service="e2e-registry"`, authHost)
	if repo := repoOf(req.URL.Path); repo != "" {
		action := "pull"
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			action = "pull,push"
		}
		h += fmt.Sprintf(`,scope="repository:%s:%s"`, repo, action)
	}
	w.Header().Set("WWW-Authenticate", h)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
}

// repoOf is the repository in /v2/<repo>/{manifests,blobs,tags}/...
func repoOf(p string) string {
	p = strings.TrimPrefix(p, "/v2/")
	for _, kind := range []string{"/manifests/", "/blobs/", "/tags/"} {
		if i := strings.LastIndex(p, kind); i > 0 {
			return p[:i]
		}
	}
	return ""
}

func serveToken(w http.ResponseWriter, req *http.Request) {
	user, pass, hasBasic := req.BasicAuth()
	if req.Method == http.MethodPost {
		req.ParseForm()
		if req.PostForm.Get("grant_type") == "password" {
			user, pass, hasBasic = req.PostForm.Get("username"), req.PostForm.Get("password"), true
		}
	}
	tok := tokenAnon
	if hasBasic {
		if user != authUser || pass != authPassword {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"details":"incorrect username or password"}`)
			return
		}
		tok = tokenFull
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"token": tok, "access_token": tok, "expires_in": 300})
}

// authConfig is a Docker config.json granting e2e:secret on the auth registry.
func authConfig() []byte {
	cred := base64.StdEncoding.EncodeToString([]byte(authUser + ":" + authPassword))
	return []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, authHost, cred))
}
