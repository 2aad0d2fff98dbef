package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/gzip"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/store"
)

// buildContext is the directory COPY and ADD read from, the Dockerfile
// and the .dockerignore excludes.
type buildContext struct {
	dir            string
	dockerfile     []byte
	dockerfileName string // as messages name it
	ignore         *patternmatcher.PatternMatcher
	tmp            string // a context read from stdin, removed afterwards
}

// openBuildContext reads the context: a directory, or from stdin a tar
// (plain or gzip) or just a Dockerfile (then the context is empty).
func openBuildContext(o BuildOptions) (*buildContext, error) {
	c := &buildContext{dir: o.Context, dockerfileName: "Dockerfile"}
	if o.Context == "-" {
		if o.Dockerfile == "-" {
			return nil, store.Invalid("invalid argument: can't use stdin for both build context and dockerfile")
		}
		if err := c.fromStdin(o.Stdin); err != nil {
			c.cleanup()
			return nil, err
		}
	} else if fi, err := os.Stat(o.Context); err != nil || !fi.IsDir() {
		return nil, store.Invalid("unable to prepare context: path %q not found", o.Context)
	}
	if err := c.readDockerfile(o); err != nil {
		c.cleanup()
		return nil, err
	}
	if err := c.readIgnore(); err != nil {
		c.cleanup()
		return nil, err
	}
	return c, nil
}

func (c *buildContext) fromStdin(r io.Reader) error {
	if r == nil {
		r = os.Stdin
	}
	dir, err := os.MkdirTemp("", "skiff-build-context-")
	if err != nil {
		return err
	}
	c.tmp, c.dir = dir, dir
	br := bufio.NewReader(r)
	head, _ := br.Peek(512)
	var tr io.Reader = br
	if bytes.HasPrefix(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return err
		}
		defer zr.Close()
		tr = zr
	} else if len(head) < 262 || string(head[257:262]) != "ustar" {
		// Not an archive: stdin is the Dockerfile itself.
		data, err := io.ReadAll(br)
		if err != nil {
			return err
		}
		c.dockerfile = data
		return nil
	}
	_, err = image.Unpack(tr, dir, image.UnpackOptions{Rootless: store.Rootless(), IgnoreChownErrors: true})
	if err != nil {
		return fmt.Errorf("read build context: %w", err)
	}
	return nil
}

func (c *buildContext) readDockerfile(o BuildOptions) error {
	switch {
	case o.Dockerfile == "-":
		data, err := io.ReadAll(stdinOf(o))
		if err != nil {
			return err
		}
		c.dockerfile = data
		return nil
	case c.dockerfile != nil:
		return nil // stdin was the Dockerfile
	}
	file := o.Dockerfile
	if file == "" {
		file = filepath.Join(c.dir, "Dockerfile")
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat(filepath.Join(c.dir, "dockerfile")); err == nil {
				file = filepath.Join(c.dir, "dockerfile")
			}
		}
	} else {
		c.dockerfileName = o.Dockerfile
		if c.tmp != "" && !filepath.IsAbs(file) {
			file = filepath.Join(c.dir, file)
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return store.NotFound("unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat %s: no such file or directory", file)
		}
		return err
	}
	c.dockerfile = data
	return nil
}

func stdinOf(o BuildOptions) io.Reader {
	if o.Stdin != nil {
		return o.Stdin
	}
	return os.Stdin
}

func (c *buildContext) readIgnore() error {
	f, err := os.Open(filepath.Join(c.dir, ".dockerignore"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return fmt.Errorf("read .dockerignore: %w", err)
	}
	if len(patterns) == 0 {
		return nil
	}
	if c.ignore, err = patternmatcher.New(patterns); err != nil {
		return store.Invalid(".dockerignore: %v", err)
	}
	return nil
}

// excluded reports whether .dockerignore leaves rel (a context path) out.
// A directory with "!" exceptions under it is kept so the walk can find
// them; its excluded files are then dropped one by one.
func (c *buildContext) excluded(rel string, dir bool) bool {
	if c.ignore == nil {
		return false
	}
	m, err := c.ignore.MatchesOrParentMatches(filepath.ToSlash(rel))
	if err != nil || !m {
		return false
	}
	return !(dir && c.ignore.Exclusions())
}

func (c *buildContext) cleanup() {
	if c.tmp != "" {
		os.RemoveAll(c.tmp)
	}
}
