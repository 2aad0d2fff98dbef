package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/store"
)

// SaveOptions are `save`'s flags.
type SaveOptions struct {
	Output string    // file to write; "" writes to Stdout
	Stdout io.Writer // where the archive goes without Output
	Format string    // docker-archive (default) or oci-archive
}

// Save writes refs as one archive. With Output the archive is written to a
// temp file beside it and renamed into place, so a failed save leaves no
// partial file.
func (e *Engine) Save(ctx context.Context, refs []string, o SaveOptions) error {
	imgs, err := e.Images()
	if err != nil {
		return err
	}
	if o.Output == "" {
		err = imgs.Save(ctx, o.Stdout, refs, o.Format)
	} else if st, serr := os.Stat(filepath.Dir(o.Output)); serr != nil || !st.IsDir() {
		return store.Invalid("failed to save image: invalid output path: directory %q does not exist", filepath.Dir(o.Output))
	} else {
		err = store.WriteFrom(o.Output, 0o644, func(w io.Writer) error {
			return imgs.Save(ctx, w, refs, o.Format)
		})
	}
	if err == nil {
		for _, r := range refs {
			e.emitImage("save", r, r)
		}
	}
	return err
}

// Load stores the images of the archive in r and returns the lines Docker
// prints for them ("Loaded image: busybox:latest", or "Loaded image ID:
// sha256:..." for an untagged one).
func (e *Engine) Load(ctx context.Context, r io.Reader) ([]string, error) {
	imgs, err := e.Images()
	if err != nil {
		return nil, err
	}
	loaded, err := imgs.Load(ctx, r)
	var lines []string
	for _, l := range loaded {
		if len(l.Names) == 0 {
			lines = append(lines, "Loaded image ID: "+l.Image.ID)
			e.emitImage("load", l.Image.ID, l.Image.ID)
		}
		for _, n := range l.Names {
			lines = append(lines, "Loaded image: "+n)
			e.emitImage("load", n, n)
		}
	}
	return lines, err
}

// ImportOptions are `import`'s flags.
type ImportOptions struct {
	Changes  []string
	Message  string
	Platform string
	Stdin    io.Reader // what "-" reads
}

// Import makes an image of the rootfs tarball src (a file, an http(s) URL
// or "-") and returns its ID.
func (e *Engine) Import(ctx context.Context, src, repo string, o ImportOptions) (string, error) {
	imgs, err := e.Images()
	if err != nil {
		return "", err
	}
	var names []string
	if repo != "" {
		if _, err := image.Normalize(repo); err != nil {
			return "", err
		}
		names = []string{repo}
	}
	rc, label, err := image.OpenImportSource(ctx, src, o.Stdin)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	img, err := imgs.Import(ctx, rc, names, image.ImportOptions{
		Changes: o.Changes, Message: o.Message, Platform: o.Platform, Source: label})
	if err != nil {
		return "", err
	}
	e.emitImage("import", img.ID, img.ID)
	return img.ID, nil
}

// PushOptions are `push`'s flags.
type PushOptions struct {
	Quiet bool
}

// Push uploads ref to its registry, printing Docker's progress lines.
func (e *Engine) Push(ctx context.Context, ref string, o PushOptions) error {
	imgs, err := e.Images()
	if err != nil {
		return err
	}
	if err := imgs.Push(ctx, ref, image.PushOptions{Out: e.Stdout, Quiet: o.Quiet}); err != nil {
		return err
	}
	e.emitImage("push", familiarRef(ref), familiarRef(ref))
	return nil
}

// LoginOptions are `login`'s flags. Empty Username and Password mean "use
// the stored credentials"; the CLI prompts when there are none.
type LoginOptions struct {
	Server, Username, Password string
}

// ErrNoCredentials: login was given no credentials and none are stored.
var ErrNoCredentials = errors.New("no credentials")

// Login verifies the credentials against the registry and stores them
// (Docker's config.json format). It returns the file they went to.
func (e *Engine) Login(ctx context.Context, o LoginOptions) (string, error) {
	reg, err := image.LoginRegistry(o.Server)
	if err != nil {
		return "", err
	}
	if o.Username == "" && o.Password == "" {
		cred, ok := image.StoredCredentials(reg)
		if !ok {
			return "", ErrNoCredentials
		}
		fmt.Fprintln(e.Stdout, "Authenticating with existing credentials...")
		return "", image.VerifyLogin(ctx, reg, cred)
	}
	if o.Username == "" {
		return "", store.Invalid("login: username is empty")
	}
	if o.Password == "" {
		return "", store.Invalid("login: password is empty")
	}
	if err := image.VerifyLogin(ctx, reg, authn.AuthConfig{Username: o.Username, Password: o.Password}); err != nil {
		return "", err
	}
	return image.SaveLogin(reg, o.Username, o.Password)
}

// Logout removes the stored credentials for server and returns the line
// Docker prints.
func (e *Engine) Logout(server string) (string, error) {
	reg, err := image.LoginRegistry(server)
	if err != nil {
		return "", err
	}
	key, found, err := image.RemoveLogin(reg)
	if err != nil {
		return "", err
	}
	if !found {
		return "Not logged in to " + key, nil
	}
	return "Removing login credentials for " + key, nil
}
