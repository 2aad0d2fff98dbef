package engine

import (
	"archive/tar"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/store"
)

// copyRequest is a COPY or ADD after expansion.
type copyRequest struct {
	src                instructions.SourcesAndDest
	from, chown, chmod string
	text, name         string
	add                bool
}

// copySource is one matched source: a file or directory on the host, and
// its path relative to where the copy takes it from.
type copySource struct {
	host string
	rel  string
	fi   os.FileInfo
	url  bool // downloaded by ADD: never an archive to unpack
}

// copyPlan is what a COPY/ADD will write, known before anything is
// written so the cache can be consulted first.
type copyPlan struct {
	sources  []copySource
	ignore   func(rel string, dir bool) bool // context excludes (.dockerignore)
	dest     string                          // absolute in the image
	destDir  bool
	uid, gid int
	mode     *os.FileMode
}

// copy is COPY and ADD: the sources (from the context, an earlier stage or
// an image) become a layer at the destination.
func (b *builder) copy(s *stage, r copyRequest) error {
	layers, err := b.layerPaths(s)
	if err != nil {
		return err
	}
	p := &copyPlan{dest: r.src.DestPath}
	if !path.IsAbs(p.dest) {
		p.dest = path.Join("/", s.cfg.Config.WorkingDir, p.dest)
	}
	if p.uid, p.gid, err = resolveChown(layers, r.chown); err != nil {
		return err
	}
	if r.chmod != "" {
		m, err := strconv.ParseUint(r.chmod, 8, 32)
		if err != nil || m > 0o7777 {
			return store.Invalid("invalid chmod parameter: %s", r.chmod)
		}
		mode := os.FileMode(m)
		p.mode = &mode
	}
	extra, err := b.copySources(s, r, p)
	if err != nil {
		return err
	}
	p.destDir = strings.HasSuffix(r.src.DestPath, "/") || len(p.sources) > 1
	if !p.destDir {
		if _, fi, ok := layerLookup(layers, p.dest); ok && fi.IsDir() {
			p.destDir = true
		}
	}
	p.dest = path.Clean(p.dest)
	kind := "file"
	if len(p.sources) > 1 {
		kind = "multi"
	} else if len(p.sources) == 1 && p.sources[0].fi.IsDir() {
		kind = "dir"
	}
	createdBy := fmt.Sprintf("/bin/sh -c #(nop) %s %s:%s in %s ", r.name, kind, strings.TrimPrefix(extra, "sha256:"), r.src.DestPath)
	key := image.StepKey(s.img.ID, createdBy, r.text, strconv.Itoa(p.uid), strconv.Itoa(p.gid), r.chmod)
	if b.useCache(s, key) {
		return nil
	}
	w, err := b.newLayer()
	if err != nil {
		return err
	}
	if err := p.write(w.Writer, layers, r.add); err != nil {
		w.abort()
		return err
	}
	file, err := w.finish()
	if err != nil {
		return err
	}
	return b.commitLayer(s, configOf(s.cfg), file, createdBy, key)
}

// copySources fills p.sources and returns the checksum that stands for
// their content in the cache key.
func (b *builder) copySources(s *stage, r copyRequest, p *copyPlan) (string, error) {
	if r.from != "" {
		return b.fromSources(r, p)
	}
	root := b.bctx.dir
	p.ignore = b.bctx.excluded
	for _, src := range r.src.SourcePaths {
		if r.add && isURL(src) {
			cs, err := b.download(src)
			if err != nil {
				return "", err
			}
			p.sources = append(p.sources, cs)
			continue
		}
		found, err := globSources(root, src, p.ignore)
		if err != nil {
			return "", err
		}
		if len(found) == 0 {
			return "", store.NotFound("%s failed: file not found in build context or excluded by .dockerignore: stat %s: file does not exist", r.name, src)
		}
		p.sources = append(p.sources, found...)
	}
	if err := b.inlineSources(r, p); err != nil {
		return "", err
	}
	if len(p.sources) == 0 {
		return "", store.Invalid("%s requires at least one source", r.name)
	}
	var entries []image.SumEntry
	for _, src := range p.sources {
		if err := walkSource(src, p.ignore, func(host, rel string, fi os.FileInfo) error {
			entries = append(entries, image.SumEntry{Name: rel, Path: host, Info: fi})
			return nil
		}); err != nil {
			return "", err
		}
	}
	return b.sums.Checksum(entries)
}

// inlineSources writes heredoc sources (COPY <<EOF /dst) to scratch files.
func (b *builder) inlineSources(r copyRequest, p *copyPlan) error {
	if len(r.src.SourceContents) == 0 {
		return nil
	}
	dir, err := b.scratchDir()
	if err != nil {
		return err
	}
	inline, err := os.MkdirTemp(dir, "inline-")
	if err != nil {
		return err
	}
	for _, sc := range r.src.SourceContents {
		data := sc.Data // expanded by dispatch when the delimiter was unquoted
		host := filepath.Join(inline, filepath.Base(sc.Path))
		if err := os.WriteFile(host, []byte(data), 0o644); err != nil {
			return err
		}
		fi, err := os.Lstat(host)
		if err != nil {
			return err
		}
		p.sources = append(p.sources, copySource{host: host, rel: filepath.Base(sc.Path), fi: fi, url: true})
	}
	return nil
}

// fromSources stages the needed paths of an earlier stage or an image.
// The cache key needs no file hashing: the source image's id fixes them.
func (b *builder) fromSources(r copyRequest, p *copyPlan) (string, error) {
	var srcImg *image.Image
	if prev := b.stageByName(r.from); prev != nil {
		srcImg = prev.img
	} else {
		img, err := b.pullEngine().resolveImage(b.ctx, b.is, r.from, "missing", "", b.o.Quiet)
		if err != nil {
			return "", err
		}
		srcImg = img
	}
	layers, err := b.is.LayerPaths(srcImg)
	if err != nil {
		return "", err
	}
	dir, err := b.scratchDir()
	if err != nil {
		return "", err
	}
	root, err := os.MkdirTemp(dir, "from-")
	if err != nil {
		return "", err
	}
	for _, src := range r.src.SourcePaths {
		clean := path.Join("/", src)
		if err := mergeTree(layers, globPrefix(clean), root); err != nil {
			return "", err
		}
		found, err := globSources(root, clean, nil)
		if err != nil {
			return "", err
		}
		if len(found) == 0 {
			return "", store.NotFound("%s failed: stat %s: file does not exist", r.name, src)
		}
		p.sources = append(p.sources, found...)
	}
	return srcImg.ID, nil
}

// globPrefix is the part of a pattern before its first wildcard element.
func globPrefix(p string) string {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	var out []string
	for _, part := range parts {
		if strings.ContainsAny(part, "*?[\\") {
			break
		}
		out = append(out, part)
	}
	return "/" + strings.Join(out, "/")
}

// globSources matches a source pattern inside root. Patterns cannot leave
// root: they are cleaned as absolute paths first.
func globSources(root, pattern string, ignore func(string, bool) bool) ([]copySource, error) {
	clean := strings.TrimPrefix(path.Join("/", pattern), "/")
	var matches []string
	if clean == "" {
		matches = []string{root}
	} else if strings.ContainsAny(clean, "*?[\\") {
		m, err := filepath.Glob(filepath.Join(root, clean))
		if err != nil {
			return nil, store.Invalid("invalid source pattern %s: %v", pattern, err)
		}
		matches = m
	} else {
		matches = []string{filepath.Join(root, clean)}
	}
	sort.Strings(matches)
	var out []copySource
	for _, m := range matches {
		fi, err := os.Lstat(m)
		if err != nil {
			continue
		}
		rel, _ := filepath.Rel(root, m)
		if rel != "." && ignore != nil && ignore(rel, fi.IsDir()) {
			continue
		}
		out = append(out, copySource{host: m, rel: rel, fi: fi})
	}
	return out, nil
}

// walkSource visits a source and, for a directory, everything under it
// that the excludes keep, in name order.
func walkSource(src copySource, ignore func(string, bool) bool, fn func(host, rel string, fi os.FileInfo) error) error {
	if err := fn(src.host, src.rel, src.fi); err != nil {
		return err
	}
	if !src.fi.IsDir() {
		return nil
	}
	names, err := image.ReadNames(src.host)
	if err != nil {
		return err
	}
	for _, n := range names {
		host := filepath.Join(src.host, n)
		rel := filepath.Join(src.rel, n)
		fi, err := os.Lstat(host)
		if err != nil {
			return err
		}
		if ignore != nil && ignore(rel, fi.IsDir()) {
			continue
		}
		if err := walkSource(copySource{host: host, rel: rel, fi: fi}, ignore, fn); err != nil {
			return err
		}
	}
	return nil
}

// write emits the layer: missing parents of the destination, then each
// source at its target.
func (p *copyPlan) write(tw *tar.Writer, layers []string, add bool) error {
	done := map[string]bool{}
	for _, src := range p.sources {
		target := p.dest
		if p.destDir && !src.fi.IsDir() {
			target = path.Join(p.dest, filepath.Base(src.host))
		}
		if err := writeParents(tw, layers, target, done); err != nil {
			return err
		}
		if add && !src.url && src.fi.Mode().IsRegular() {
			ok, err := extractArchive(tw, src.host, p.dest, layers, done)
			if err != nil {
				return err
			}
			if ok {
				continue
			}
		}
		if src.fi.IsDir() {
			if err := p.writeDir(tw, src, target, layers, done); err != nil {
				return err
			}
			continue
		}
		if err := p.writeEntry(tw, src.host, target, src.fi); err != nil {
			return err
		}
	}
	return nil
}

// writeDir copies a directory's content (not the directory itself) to
// target, creating target when the image lacks it.
func (p *copyPlan) writeDir(tw *tar.Writer, src copySource, target string, layers []string, done map[string]bool) error {
	if target != "/" && !done[target] && !layerExists(layers, target) {
		done[target] = true
		if err := p.writeEntry(tw, src.host, target, src.fi); err != nil {
			return err
		}
	}
	return walkSource(src, p.ignore, func(host, rel string, fi os.FileInfo) error {
		sub, _ := filepath.Rel(src.rel, rel)
		if sub == "." {
			return nil
		}
		return p.writeEntry(tw, host, path.Join(target, filepath.ToSlash(sub)), fi)
	})
}

// writeEntry writes one file, directory or symlink at target, owned as
// --chown says (root by default) and with --chmod's mode if given.
func (p *copyPlan) writeEntry(tw *tar.Writer, host, target string, fi os.FileInfo) error {
	link := ""
	if fi.Mode()&os.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(host); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return nil // sockets and the like are not copied
	}
	hdr.Name = strings.TrimPrefix(target, "/")
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = p.uid, p.gid, "", ""
	if p.mode != nil && fi.Mode()&os.ModeSymlink == 0 {
		hdr.Mode = int64(*p.mode)
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(host)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = copyN(tw, f, fi.Size())
	return err
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}
