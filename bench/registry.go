package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// localRegistry is go-containerregistry's in-memory registry on 127.0.0.1:
// pulls then measure unpacking and bookkeeping, not the network.
type localRegistry struct {
	host string
	srv  *http.Server
}

func startRegistry() (*localRegistry, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r := &localRegistry{host: ln.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *localRegistry) close() { r.srv.Close() }

// push writes img as repo:tag, e.g. "library/busybox:latest".
func (r *localRegistry) push(repoTag string, img v1.Image) error {
	ref, err := name.ParseReference(r.host+"/"+repoTag, name.Insecure)
	if err != nil {
		return err
	}
	return remote.Write(ref, img)
}

// writeRegistriesConf maps docker.io to the local registry for both
// engines (CONTAINERS_REGISTRIES_CONF).
func writeRegistriesConf(dir, host string) (string, error) {
	p := filepath.Join(dir, "registries.conf")
	conf := fmt.Sprintf("unqualified-search-registries = [\"docker.io\"]\n\n[[registry]]\nprefix = \"docker.io\"\nlocation = %q\ninsecure = true\n", host)
	return p, os.WriteFile(p, []byte(conf), 0o644)
}
