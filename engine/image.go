package engine

import (
	"context"
	"errors"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/store"
)

// Images opens the image store of this engine's root.
func (e *Engine) Images() (*image.Store, error) { return image.Open(e.Store) }

// PullOptions are `skiff pull`'s flags.
type PullOptions struct {
	Platform string
	Quiet    bool
	AllTags  bool      // every tag of the repository (pull_tags.go)
	Terminal bool      // Out is a terminal: live progress bars
	Out      io.Writer // default e.Stdout
}

// Pull fetches an image into the store, printing Docker's progress lines.
func (e *Engine) Pull(ctx context.Context, ref string, o PullOptions) (*image.Image, error) {
	is, err := e.Images()
	if err != nil {
		return nil, err
	}
	opts := image.PullOptions{Platform: o.Platform, Terminal: o.Terminal, Out: o.Out, Quiet: o.Quiet}
	if opts.Out == nil {
		opts.Out = e.Stdout
	}
	if o.AllTags {
		return nil, pullAllTags(ctx, is, ref, opts)
	}
	img, err := is.Pull(ctx, ref, opts)
	if err == nil {
		e.emitPull(ref)
	}
	return img, err
}

// emitPull is Docker's "pull" event: the reference as the actor, its
// repository as the name.
func (e *Engine) emitPull(ref string) {
	repo := ref
	if r, err := image.Normalize(ref); err == nil {
		repo = image.FamiliarName(r.Context().Name())
	}
	e.emitImage("pull", familiarRef(ref), repo)
}

// familiarRef is ref as Docker echoes it: "busybox" -> "busybox:latest".
func familiarRef(ref string) string {
	r, err := image.Normalize(ref)
	if err != nil {
		return ref
	}
	return image.FamiliarName(image.Canonical(r))
}

// ImageRow is one line of `images`: an image under one of its names.
type ImageRow struct {
	Image      *image.Image
	Repository string // familiar, "<none>" when untagged
	Tag        string
	Digest     string
	Containers int
}

// ImageListOptions are `images`' flags: -a, -f, and the optional
// [REPOSITORY[:TAG]] argument.
type ImageListOptions struct {
	All       bool
	Filters   []string // "dangling=true", "reference=busybox*", "before=", "since=", "label="
	Reference string
}

// ImageList returns `images` rows, newest image first.
func (e *Engine) ImageList(o ImageListOptions) ([]ImageRow, error) {
	is, err := e.Images()
	if err != nil {
		return nil, err
	}
	imgs, err := is.List()
	if err != nil {
		return nil, err
	}
	f, err := parseImageFilters(o.Filters, o.Reference)
	if err != nil {
		return nil, err
	}
	users, err := e.imageUsers()
	if err != nil {
		return nil, err
	}
	children := image.Children(imgs)
	// Docker lists the newest image first.
	imgs = slices.Clone(imgs)
	slices.SortStableFunc(imgs, func(a, b *image.Image) int { return b.Created.Compare(a.Created) })
	var rows []ImageRow
	for _, img := range imgs {
		// An untagged parent is an intermediate image (a build step):
		// Docker shows it only with -a, dangling filter or not.
		if !o.All && img.Untagged() && len(children[img.ID]) > 0 {
			continue
		}
		if !f.keepImage(img) {
			continue
		}
		for _, r := range imageRows(img) {
			if f.keepRow(r) {
				r.Containers = len(users[img.ID])
				rows = append(rows, r)
			}
		}
	}
	return rows, nil
}

// imageRows lists an image once per tag, or once as <none> (with its
// repository when it was pulled by digest).
func imageRows(img *image.Image) []ImageRow {
	digest := "<none>"
	if len(img.RepoDigests) > 0 {
		_, digest, _ = strings.Cut(img.RepoDigests[0], "@")
	}
	var rows []ImageRow
	for _, t := range img.RepoTags {
		fam := image.FamiliarName(t)
		i := strings.LastIndex(fam, ":")
		rows = append(rows, ImageRow{Image: img, Repository: fam[:i], Tag: fam[i+1:], Digest: digest})
	}
	if len(rows) > 0 {
		return rows
	}
	repo := "<none>"
	if len(img.RepoDigests) > 0 {
		repo, _, _ = strings.Cut(image.FamiliarName(img.RepoDigests[0]), "@")
	}
	return []ImageRow{{Image: img, Repository: repo, Tag: "<none>", Digest: digest}}
}

type imageFilter struct {
	dangling *bool
	refs     []string
	labels   []string
}

func parseImageFilters(filters []string, ref string) (*imageFilter, error) {
	f := &imageFilter{}
	if ref != "" {
		f.refs = append(f.refs, ref)
	}
	for _, s := range filters {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, store.Invalid("bad format of filter (expected name=value): %s", s)
		}
		switch k {
		case "dangling":
			b, err := parseDangling(v)
			if err != nil {
				return nil, err
			}
			f.dangling = &b
		case "reference":
			f.refs = append(f.refs, v)
		case "label":
			f.labels = append(f.labels, v)
		default:
			return nil, store.Invalid("invalid filter '%s'", k)
		}
	}
	return f, nil
}

// keepImage applies the dangling filter as Docker's daemon does:
// dangling=true keeps images without a tag (a repo digest left by a moved
// tag does not count), dangling=false keeps images with any name.
func (f *imageFilter) keepImage(img *image.Image) bool {
	switch {
	case f.dangling == nil:
		return true
	case *f.dangling:
		return dangling(img)
	}
	return len(img.RepoTags)+len(img.RepoDigests) > 0
}

// dangling: an image with no tag, as `images -f dangling=true` and `image
// prune` (without -a) see it.
func dangling(img *image.Image) bool { return len(img.RepoTags) == 0 }

// keepRow applies reference patterns (path.Match globs, as Docker) to the
// familiar repository[:tag] of a row.
func (f *imageFilter) keepRow(r ImageRow) bool {
	if len(f.refs) == 0 {
		return true
	}
	for _, pat := range f.refs {
		if matchRef(pat, r.Repository, r.Tag) {
			return true
		}
	}
	return false
}

func matchRef(pat, repo, tag string) bool {
	if repo == "<none>" {
		return false
	}
	pat = image.FamiliarName(pat)
	if ok, _ := path.Match(pat, repo); ok {
		return true
	}
	ok, _ := path.Match(pat, repo+":"+tag)
	return ok
}

// imageUsers maps image ids to the containers created from them (in any
// state). A store it cannot list is an error: rmi and prune must not take
// "no container" for an answer they could not read.
func (e *Engine) imageUsers() (map[string][]string, error) {
	cs, err := e.containers()
	if err != nil {
		return nil, err
	}
	list, err := cs.ListSummaries()
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, c := range list {
		if c.ImageID != "" {
			users[c.ImageID] = append(users[c.ImageID], c.ID)
		}
	}
	return users, nil
}

// TagImage gives the image src the name dst.
func (e *Engine) TagImage(src, dst string) error {
	is, err := e.Images()
	if err != nil {
		return err
	}
	img, err := is.Lookup(src)
	if err != nil {
		return err
	}
	if err := is.Tag(img, dst); err != nil {
		return err
	}
	e.emitImage("tag", img.ID, familiarRef(dst))
	return nil
}

// RmiOptions are `rmi`'s flags.
type RmiOptions struct {
	Force   bool
	NoPrune bool // keep the untagged parents of a deleted image
}

// Rmi removes images as `docker rmi` does: a name that is not the image's
// last is only untagged; otherwise every name goes and the image is deleted,
// then its untagged parents that nothing else uses (unless NoPrune).
// It returns Docker's "Untagged:"/"Deleted:" lines; errors for some refs do
// not stop the others.
func (e *Engine) Rmi(refs []string, o RmiOptions) ([]string, error) {
	is, err := e.Images()
	if err != nil {
		return nil, err
	}
	var out []string
	var errs rmiError
	for _, ref := range refs {
		lines, _, err := e.rmiOne(is, ref, o.Force, !o.NoPrune)
		out = append(out, lines...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return out, rmiError(errs)
	}
	return out, nil
}

// rmiError is every failure of one rmi, on one line.
type rmiError []error

func (r rmiError) Error() string {
	msgs := make([]string, len(r))
	for i, err := range r {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (r rmiError) Unwrap() []error { return r }

// rmiOne removes one image or name, returning its report lines and the
// bytes its deletion freed. With prune, the deleted image's untagged
// parents that have no other child and no container go too.
func (e *Engine) rmiOne(is *image.Store, ref string, force, prune bool) ([]string, int64, error) {
	img, err := is.Lookup(ref)
	if err != nil {
		return nil, 0, err
	}
	byName := !strings.HasPrefix(img.ID, "sha256:"+strings.TrimPrefix(ref, "sha256:"))
	allUsers, err := e.imageUsers()
	if err != nil {
		return nil, 0, err
	}
	users := allUsers[img.ID]
	all, err := is.List()
	if err != nil {
		return nil, 0, err
	}
	hasChildren := len(image.Children(all)[img.ID]) > 0
	var out []string
	if byName {
		name, err := image.Normalize(ref)
		if err != nil {
			return nil, 0, err
		}
		canon := image.Canonical(name)
		onlyName := len(img.RepoTags) <= 1 && (len(img.RepoTags) == 0 || img.RepoTags[0] == canon)
		if !onlyName {
			if err := untag(is, canon); err != nil {
				return nil, 0, err
			}
			e.emitImage("untag", img.ID, image.FamiliarName(canon))
			return []string{"Untagged: " + image.FamiliarName(canon)}, 0, nil
		}
	} else if hasChildren {
		return nil, 0, store.Conflict("conflict: unable to delete %s (cannot be forced) - image has dependent child images", shortID(img.ID))
	} else if len(img.RepoTags) > 1 && !force {
		return nil, 0, store.Conflict("conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories", shortID(img.ID))
	}
	if len(users) > 0 && !force {
		return nil, 0, store.Conflict("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s",
			ref, shortID(users[0]), shortID(img.ID))
	}
	for _, n := range append(slices.Clone(img.RepoTags), img.RepoDigests...) {
		if err := untag(is, n); err != nil {
			return out, 0, err
		}
		out = append(out, "Untagged: "+image.FamiliarName(n))
		e.emitImage("untag", img.ID, image.FamiliarName(n))
	}
	if len(users) > 0 || hasChildren {
		// Forced: the names go, the layers stay under the containers; a
		// parent stays, now an intermediate image, for its children.
		return out, 0, nil
	}
	freed, err := is.Remove(img)
	if err != nil {
		return out, 0, err
	}
	out = append(out, "Deleted: "+img.ID)
	e.emitImage("delete", img.ID, img.ID)
	if !prune {
		return out, freed, nil
	}
	lines, more := e.removeParents(is, img.Parent)
	return append(out, lines...), freed + more, nil
}

// removeParents deletes the chain of untagged parents from id up, as
// Docker's rmi does, stopping at one with a name, another child or a
// container.
func (e *Engine) removeParents(is *image.Store, id string) (lines []string, freed int64) {
	users, err := e.imageUsers()
	if err != nil {
		return lines, freed
	}
	for id != "" {
		all, err := is.List()
		if err != nil {
			return lines, freed
		}
		i := slices.IndexFunc(all, func(img *image.Image) bool { return img.ID == id })
		if i < 0 {
			return lines, freed
		}
		parent := all[i]
		if !parent.Untagged() || len(image.Children(all)[id]) > 0 || len(users[id]) > 0 {
			return lines, freed
		}
		n, err := is.Remove(parent)
		if err != nil {
			return lines, freed
		}
		lines, freed = append(lines, "Deleted: "+id), freed+n
		e.emitImage("delete", id, id)
		id = parent.Parent
	}
	return lines, freed
}

func untag(is *image.Store, n string) error {
	err := is.Untag(n)
	if errors.Is(err, store.ErrNotFound) {
		return nil // a concurrent rmi got there first
	}
	return err
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// ImageInspect is Docker's `image inspect` shape.
type ImageInspect struct {
	Id            string
	RepoTags      []string
	RepoDigests   []string
	Parent        string
	Comment       string
	Created       string
	DockerVersion string
	Author        string
	Config        v1.Config
	Architecture  string
	Variant       string `json:",omitempty"`
	Os            string
	Size          int64
	GraphDriver   GraphDriver
	RootFS        RootFS
	Metadata      struct{ LastTagTime string }
}

// GraphDriver names where the layers live.
type GraphDriver struct {
	Name string
	Data map[string]string
}

// RootFS lists the image's diff ids.
type RootFS struct {
	Type   string
	Layers []string
}

// InspectImages returns one ImageInspect per ref, or the first lookup error
// (a store.ErrNotFound naming the ref). The top-level `inspect` calls it.
func (e *Engine) InspectImages(refs []string) ([]any, error) {
	is, err := e.Images()
	if err != nil {
		return nil, err
	}
	var out []any
	for _, ref := range refs {
		img, err := is.Lookup(ref)
		if err != nil {
			return out, err
		}
		ii, err := inspectImage(is, img)
		if err != nil {
			return out, err
		}
		out = append(out, ii)
	}
	return out, nil
}

func inspectImage(is *image.Store, img *image.Image) (*ImageInspect, error) {
	cf, err := is.ConfigFile(img)
	if err != nil {
		return nil, err
	}
	ii := &ImageInspect{Id: img.ID, Parent: img.Parent, RepoTags: familiar(img.RepoTags), RepoDigests: familiar(img.RepoDigests),
		Created: cf.Created.UTC().Format(time.RFC3339Nano), DockerVersion: cf.DockerVersion, Author: cf.Author,
		Config: cf.Config, Architecture: cf.Architecture, Variant: cf.Variant, Os: cf.OS, Size: img.Size,
		RootFS: RootFS{Type: "layers"}}
	ii.Metadata.LastTagTime = img.Pulled.UTC().Format(time.RFC3339Nano)
	for _, d := range cf.RootFS.DiffIDs {
		ii.RootFS.Layers = append(ii.RootFS.Layers, d.String())
	}
	if paths, err := is.LayerPaths(img); err == nil && len(paths) > 0 {
		ii.GraphDriver = GraphDriver{Name: "overlay", Data: map[string]string{"LowerDir": strings.Join(reversed(paths), ":")}}
	}
	return ii, nil
}

func familiar(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, image.FamiliarName(n))
	}
	return out
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// HistoryEntry is one row of `history`, newest first.
type HistoryEntry struct {
	ID        string // the image id on the top row, "<missing>" below, as Docker
	Created   time.Time
	CreatedBy string
	Size      int64
	Comment   string
}

// History returns the image's build history from its config.
func (e *Engine) History(ref string) ([]HistoryEntry, error) {
	is, err := e.Images()
	if err != nil {
		return nil, err
	}
	img, err := is.Lookup(ref)
	if err != nil {
		return nil, err
	}
	cf, err := is.ConfigFile(img)
	if err != nil {
		return nil, err
	}
	sizes := is.LayerSizes(img)
	hist := cf.History
	if len(hist) == 0 { // an image without history: one row per layer
		for range cf.RootFS.DiffIDs {
			hist = append(hist, v1.History{Created: cf.Created})
		}
	}
	var out []HistoryEntry
	layer := 0
	for _, h := range hist {
		ent := HistoryEntry{ID: "<missing>", Created: h.Created.Time, CreatedBy: h.CreatedBy, Comment: h.Comment}
		if !h.EmptyLayer && layer < len(sizes) {
			ent.Size = sizes[layer]
			layer++
		}
		out = append(out, ent)
	}
	slices.Reverse(out)
	if len(out) > 0 {
		out[0].ID = img.ID
	}
	return out, nil
}

// pruneMatch is f on an image: its creation time and its config's labels
// (read only when f has a label filter).
func pruneMatch(is *image.Store, img *image.Image, f PruneFilter) bool {
	var labels map[string]string
	if f.needsLabels() {
		if cf, err := is.ConfigFile(img); err == nil {
			labels = cf.Config.Labels
		}
	}
	return f.Match(img.Created, labels)
}

// ImagePrune removes dangling images (all unused ones with all), never one
// a container uses, and only those f lets go. It returns Docker's report
// lines ("untagged: ...", "deleted: sha256:...") and the bytes reclaimed.
func (e *Engine) ImagePrune(all bool, f PruneFilter) ([]string, int64, error) {
	is, err := e.Images()
	if err != nil {
		return nil, 0, err
	}
	imgs, err := is.List()
	if err != nil {
		return nil, 0, err
	}
	users, err := e.imageUsers()
	if err != nil {
		return nil, 0, err
	}
	var report []string
	var reclaimed int64
	// Children go before their parents: with -a each round deletes the
	// unused images that are no other image's parent, until none is left;
	// without -a only dangling heads go, their untagged parents with them.
	for {
		children := image.Children(imgs)
		removed := 0
		for _, img := range imgs {
			if len(users[img.ID]) > 0 || len(children[img.ID]) > 0 || (!all && !dangling(img)) || !pruneMatch(is, img, f) {
				continue
			}
			lines, freed, err := e.rmiOne(is, img.ID, true, true)
			for _, l := range lines {
				verb, rest, _ := strings.Cut(l, ": ")
				report = append(report, strings.ToLower(verb)+": "+rest)
			}
			// Only layers no remaining image shares count, as Docker.
			reclaimed += freed
			if errors.Is(err, store.ErrNotFound) {
				continue // a concurrent rmi, or a parent removed with its child
			}
			if err != nil {
				return report, reclaimed, err
			}
			removed++
		}
		if !all || removed == 0 {
			break
		}
		if imgs, err = is.List(); err != nil {
			return report, reclaimed, err
		}
	}
	is.CleanTemp(time.Hour)
	return report, reclaimed, nil
}
