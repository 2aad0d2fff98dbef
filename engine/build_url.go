package engine

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/skiff-dev/skiff/store"
)

// download fetches an ADD URL into the build's scratch space, named as
// the URL's last path element, mode 0600 as Docker gives it.
func (b *builder) download(raw string) (copySource, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return copySource{}, store.Invalid("invalid URL %s: %v", raw, err)
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." || name == "" {
		name = "__unnamed__"
	}
	dir, err := b.scratchDir()
	if err != nil {
		return copySource{}, err
	}
	sub, err := os.MkdirTemp(dir, "url-")
	if err != nil {
		return copySource{}, err
	}
	host := filepath.Join(sub, name)
	req, err := http.NewRequestWithContext(b.ctx, http.MethodGet, raw, nil)
	if err != nil {
		return copySource{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return copySource{}, fmt.Errorf("ADD %s: %w", raw, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return copySource{}, fmt.Errorf("ADD %s: %s", raw, resp.Status)
	}
	f, err := os.OpenFile(host, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return copySource{}, err
	}
	_, err = io.Copy(f, resp.Body)
	if e := f.Close(); err == nil {
		err = e
	}
	if err != nil {
		return copySource{}, fmt.Errorf("ADD %s: %w", raw, err)
	}
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		os.Chtimes(host, time.Now(), lm)
	}
	fi, err := os.Lstat(host)
	if err != nil {
		return copySource{}, err
	}
	return copySource{host: host, rel: name, fi: fi, url: true}, nil
}
