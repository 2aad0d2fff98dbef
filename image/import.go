package image

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/skiff-dev/skiff/store"
)

// ImportOptions shape the image `import` makes of a rootfs tarball.
type ImportOptions struct {
	Changes  []string // Dockerfile instructions, as `import -c`
	Message  string   // history comment; default "Imported from <source>"
	Platform string   // os/arch[/variant]; default the host's
	Source   string   // what the history names: "-" for a file or stdin, or the URL
}

// Import stores the tarball in r (plain, gzip, bzip2 or zstd) as a
// single-layer image with a config built from opts, tagged with names (none:
// untagged). The tarball is read and checked completely before the store is
// touched.
func (s *Store) Import(ctx context.Context, r io.Reader, names []string, opts ImportOptions) (*Image, error) {
	for _, n := range names {
		if _, err := Normalize(n); err != nil {
			return nil, err
		}
	}
	cfg, err := importConfig(opts)
	if err != nil {
		return nil, err
	}
	tmp, done, err := s.transferTmp()
	if err != nil {
		return nil, err
	}
	defer done()
	src, err := spoolInput(ctx, r, tmp)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	layer, err := newLayer(ctx, src, tmp, v1.Hash{})
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	cfg.RootFS = v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{layer.diffID}}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	img, err := newArchiveImage(raw, []*blobLayer{layer}, false)
	if err != nil {
		return nil, err
	}
	return s.Write(ctx, img, names)
}

// importConfig is the config Docker gives an imported image: the platform,
// the time, one history entry, and the -c changes.
func importConfig(opts ImportOptions) (*v1.ConfigFile, error) {
	platform := v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
	if opts.Platform != "" {
		p, err := v1.ParsePlatform(opts.Platform)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return nil, store.Invalid("invalid platform %q: want os/arch[/variant]", opts.Platform)
		}
		platform = *p
	}
	msg := opts.Message
	if msg == "" {
		src := opts.Source
		if src == "" {
			src = "-"
		}
		msg = "Imported from " + src
	}
	now := v1.Time{Time: time.Now().UTC()}
	cfg := &v1.ConfigFile{
		Architecture: platform.Architecture,
		OS:           platform.OS,
		Variant:      platform.Variant,
		Created:      now,
		History:      []v1.History{{Created: now, Comment: msg}},
	}
	if err := ApplyChanges(&cfg.Config, opts.Changes); err != nil {
		return nil, err
	}
	return cfg, nil
}

// spoolInput makes r re-readable: a regular file is read in place, anything
// else is copied once into tmpDir. An empty input is an error.
func spoolInput(ctx context.Context, r io.Reader, tmpDir string) (opener, error) {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			if st.Size() == 0 {
				return nil, errors.New("empty input: no tarball")
			}
			path := f.Name()
			return fileOpener(path), nil
		}
	}
	br := bufio.NewReader(cancelReader{ctx, r})
	if _, err := br.Peek(1); err == io.EOF {
		return nil, errors.New("empty input: no tarball")
	}
	f, err := os.CreateTemp(tmpDir, "import-*")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := io.Copy(f, br); err != nil {
		return nil, err
	}
	return fileOpener(f.Name()), f.Close()
}

// OpenImportSource opens what `import` reads: "-" is stdin, an http(s) URL
// is fetched, anything else is a file. The second result is how the history
// names the source ("-" for files, as Docker's CLI streams them).
func OpenImportSource(ctx context.Context, src string, stdin io.Reader) (io.ReadCloser, string, error) {
	switch {
	case src == "-":
		return io.NopCloser(stdin), "-", nil
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, "", store.Invalid("import: invalid URL %q: %v", src, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, "", fmt.Errorf("import: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, "", fmt.Errorf("import: GET %s: %s", src, resp.Status)
		}
		return resp.Body, src, nil
	}
	f, err := os.Open(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", store.NotFound("import: open %s: no such file or directory", src)
	}
	if err != nil {
		return nil, "", fmt.Errorf("import: %w", err)
	}
	return f, "-", nil
}
