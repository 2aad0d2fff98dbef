package image

import (
	"archive/tar"
	"path"
	"strings"
)

// OmitWriter passes a layer tar's entries on to a tar.Writer, leaving out
// some paths (whole trees) and the directories that were in the diff only
// to hold them. Commit and build use it to drop the mount points skiff
// makes in a container's rootfs (/etc/hosts, /proc...), which Docker keeps
// in an init layer below the one it commits: the container's /etc, copied
// up or made only to hold /etc/hosts, is no change of its own.
//
// It relies on the order Diff and DiffRootfs write: each directory before
// its contents, and the contents together. A directory that is an ancestor
// of an omitted path is held back until an entry below it is written (it is
// written first), or dropped when only omitted entries were below it; an
// empty one is written as it is.
type OmitWriter struct {
	tw      *tar.Writer
	omit    []string        // layer names, without "/" around them
	holders map[string]bool // their ancestors
	held    []heldDir       // directories held back, outermost first
	discard bool            // the current entry is left out
}

type heldDir struct {
	name    string
	hdr     *tar.Header
	omitted bool // an omitted entry was below it
}

// NewOmitWriter writes to tw what is not in (or below) omit, absolute
// paths inside the container.
func NewOmitWriter(tw *tar.Writer, omit []string) *OmitWriter {
	w := &OmitWriter{tw: tw, holders: map[string]bool{}}
	for _, p := range omit {
		p = layerName(p)
		w.omit = append(w.omit, p)
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			w.holders[d] = true
		}
	}
	return w
}

// layerName is a tar entry's or a container path's name in the layer:
// clean, relative, without a trailing "/".
func layerName(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

// WriteHeader writes hdr, holds it back or leaves it out; the Writes that
// follow go where it went.
func (w *OmitWriter) WriteHeader(hdr *tar.Header) error {
	name := layerName(hdr.Name)
	if err := w.release(name); err != nil {
		return err
	}
	switch {
	case w.omitted(name):
		if n := len(w.held); n > 0 {
			w.held[n-1].omitted = true
		}
		w.discard = true
		return nil
	case hdr.Typeflag == tar.TypeDir && w.holders[name]:
		h := *hdr
		w.held = append(w.held, heldDir{name: name, hdr: &h})
		w.discard = true
		return nil
	}
	w.discard = false
	if err := w.flushHeld(len(w.held)); err != nil {
		return err
	}
	return w.tw.WriteHeader(hdr)
}

// Write writes to the current entry, unless it was left out.
func (w *OmitWriter) Write(p []byte) (int, error) {
	if w.discard {
		return len(p), nil
	}
	return w.tw.Write(p)
}

// Flush settles the directories still held back: call it after the last
// entry. It does not close the underlying writer.
func (w *OmitWriter) Flush() error {
	w.discard = false
	return w.release("")
}

func (w *OmitWriter) omitted(name string) bool {
	for _, p := range w.omit {
		if name == p || strings.HasPrefix(name, p+"/") {
			return true
		}
	}
	return false
}

// release settles the held directories that name is not below (all of
// them for ""): one that held only omitted entries is dropped, and so is
// it for its parent; one that held nothing is an empty directory of the
// diff's own and is written.
func (w *OmitWriter) release(name string) error {
	for n := len(w.held); n > 0; n = len(w.held) {
		top := w.held[n-1]
		if name != "" && strings.HasPrefix(name, top.name+"/") {
			return nil
		}
		if !top.omitted {
			return w.flushHeld(n) // written: none are held any more
		}
		w.held = w.held[:n-1]
		if n > 1 {
			w.held[n-2].omitted = true
		}
	}
	return nil
}

// flushHeld writes the n outermost held directories, parents first.
func (w *OmitWriter) flushHeld(n int) error {
	for _, h := range w.held[:n] {
		if err := w.tw.WriteHeader(h.hdr); err != nil {
			return err
		}
	}
	w.held = append(w.held[:0], w.held[n:]...)
	return nil
}
