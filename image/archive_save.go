package image

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/skiff-dev/skiff/store"
)

// Archive formats `save --format` accepts.
const (
	FormatDockerArchive = "docker-archive"
	FormatOCIArchive    = "oci-archive"
)

// saveSet is one image to save with the names it is saved under (canonical).
type saveSet struct {
	img   *Image
	names []string
}

// Save writes the images refs name to w as a docker-archive (what `docker
// load` and `podman load` read: manifest.json with RepoTags) or an OCI
// archive (an OCI image layout in a tar). A repository name without a tag
// saves every tag of it, as Docker does; an ID or digest saves the image
// untagged.
func (s *Store) Save(ctx context.Context, w io.Writer, refs []string, format string) error {
	if len(refs) == 0 {
		return store.Invalid("save: no image given")
	}
	if format != "" && format != FormatDockerArchive && format != FormatOCIArchive {
		return store.Invalid("save: unknown format %q (docker-archive or oci-archive)", format)
	}
	sets, err := s.resolveSave(refs)
	if err != nil {
		return err
	}
	if format == FormatOCIArchive {
		return s.saveOCI(w, sets)
	}
	return s.saveDocker(w, sets)
}

func (s *Store) resolveSave(refs []string) ([]*saveSet, error) {
	byID := map[string]*saveSet{}
	var order []*saveSet
	add := func(img *Image, n string) {
		set, ok := byID[img.ID]
		if !ok {
			set = &saveSet{img: img}
			byID[img.ID] = set
			order = append(order, set)
		}
		if n != "" && !contains(set.names, n) {
			set.names = append(set.names, n)
		}
	}
	for _, ref := range refs {
		if tagged, err := s.repoTags(ref); err != nil {
			return nil, err
		} else if len(tagged) > 0 {
			for _, t := range tagged {
				add(t.img, t.names[0])
			}
			continue
		}
		img, err := s.Lookup(ref)
		if err != nil {
			return nil, err
		}
		add(img, tagNameOf(img, ref))
	}
	return order, nil
}

// repoTags is every tag of the repository ref names when ref is a bare
// repository name ("busybox", not "busybox:1" or an ID).
func (s *Store) repoTags(ref string) ([]*saveSet, error) {
	if strings.Contains(ref, "@") || strings.LastIndex(ref, ":") > strings.LastIndex(ref, "/") {
		return nil, nil
	}
	r, err := Normalize(ref)
	if err != nil {
		return nil, nil // maybe an ID; Lookup decides
	}
	repo := repoName(r.Context())
	imgs, err := s.List()
	if err != nil {
		return nil, err
	}
	var out []*saveSet
	for _, img := range imgs {
		for _, t := range img.RepoTags {
			if rp, _ := splitName(t); rp == repo {
				out = append(out, &saveSet{img: img, names: []string{t}})
			}
		}
	}
	return out, nil
}

// tagNameOf is the canonical tag ref names, if ref is a tag of img (not an
// ID or digest).
func tagNameOf(img *Image, ref string) string {
	r, err := Normalize(ref)
	if err != nil {
		return ""
	}
	if _, ok := r.(name.Tag); !ok {
		return ""
	}
	n := Canonical(r)
	if contains(img.RepoTags, n) {
		return n
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// saveDocker writes a docker-archive with ggcr's tarball writer. Tags are
// written fully qualified ("docker.io/library/busybox:latest"): Docker
// normalizes them on load either way, and Podman would otherwise file a
// short name under localhost/.
func (s *Store) saveDocker(w io.Writer, sets []*saveSet) error {
	refs := map[name.Reference]v1.Image{}
	for _, set := range sets {
		img, err := s.V1Image(set.img)
		if err != nil {
			return err
		}
		if len(set.names) == 0 {
			d, err := name.NewDigest("untagged@" + set.img.ID)
			if err != nil {
				return err
			}
			refs[d] = img
		}
		for _, n := range set.names {
			t, err := name.NewTag(n)
			if err != nil {
				return store.Invalid("save: %s: %v", n, err)
			}
			refs[t] = img
		}
	}
	if err := tarball.MultiRefWrite(refs, w); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}

// saveOCI writes an OCI image layout (ggcr's layout package) into a scratch
// directory, then streams it to w as a tar. Each name gets an index entry
// annotated with the full name, as Podman and Docker 25+ write it.
func (s *Store) saveOCI(w io.Writer, sets []*saveSet) error {
	tmp, done, err := s.transferTmp()
	if err != nil {
		return err
	}
	defer done()
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return err
	}
	for _, set := range sets {
		img, err := s.V1Image(set.img)
		if err != nil {
			return err
		}
		if len(set.names) == 0 {
			if err := p.AppendImage(img); err != nil {
				return fmt.Errorf("save: %w", err)
			}
		}
		for _, n := range set.names {
			ann := map[string]string{annotationRefName: n, annotationContainerdName: n}
			if err := p.AppendImage(img, layout.WithAnnotations(ann)); err != nil {
				return fmt.Errorf("save: %w", err)
			}
		}
	}
	return tarDir(w, tmp)
}

// tarDir writes the regular files and directories under dir to w as a tar
// with paths relative to dir, in a stable order.
func tarDir(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := tarFile(tw, dir, p); err != nil {
			return fmt.Errorf("save: %w", err)
		}
	}
	return tw.Close()
}

func tarFile(tw *tar.Writer, dir, p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	rel, _ := filepath.Rel(dir, p)
	hdr, err := tar.FileInfoHeader(fi, "")
	if err != nil {
		return err
	}
	hdr.Name = filepath.ToSlash(rel)
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
	if fi.IsDir() {
		hdr.Name += "/"
		hdr.Mode = 0o755
		return tw.WriteHeader(hdr)
	}
	hdr.Mode = 0o644
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}
