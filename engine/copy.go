package engine

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/store"
)

// CopyOptions are cp's flags.
type CopyOptions struct {
	Archive    bool // -a: keep the source's owners
	FollowLink bool // -L: copy what a source symlink points to
}

// SplitCopyArg splits "CONTAINER:PATH" as Docker does: a colon before
// any slash names a container; a path starting with / or . never does.
func SplitCopyArg(arg string) (ctr, p string) {
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		return "", arg
	}
	ctr, p, ok := strings.Cut(arg, ":")
	if !ok || strings.Contains(ctr, "/") {
		return "", arg
	}
	return ctr, p
}

// Copy is `cp SRC DST`, one side in a container; "-" is a tar stream on
// stdin (source) or stdout (destination).
func (e *Engine) Copy(src, dst string, o CopyOptions, stdin io.Reader, stdout io.Writer) error {
	sc, sp := SplitCopyArg(src)
	dc, dp := SplitCopyArg(dst)
	switch {
	case sc != "" && dc != "":
		return store.Invalid("copying between containers is not supported")
	case sc == "" && dc == "":
		return store.Invalid("must specify at least one container source")
	case sc != "":
		return e.copyFrom(sc, sp, dst, o, stdout)
	}
	return e.copyTo(src, dc, dp, o, stdin)
}

// cpSource is what to archive: the resolved path, whether it is a
// directory, and the top name (where "/." asks for the contents only).
type cpSource struct {
	full     string
	isDir    bool
	contents bool
}

func statSource(root, p string, follow bool) (cpSource, error) {
	contents := strings.HasSuffix(p, "/.") || p == "."
	var full string
	var err error
	if root == "/" { // the host side
		full, err = filepath.Abs(p)
		if follow || contents {
			full, err = filepath.EvalSymlinks(full)
		}
	} else {
		full, err = container.InRoot(root, p, !follow && !contents)
	}
	if err != nil {
		return cpSource{}, err
	}
	fi, err := os.Lstat(full)
	if err != nil {
		return cpSource{}, store.NotFound("Could not find the file %s: no such file or directory", p)
	}
	if !fi.IsDir() && (strings.HasSuffix(p, "/") || contents) {
		return cpSource{}, store.Invalid("%s: not a directory", p)
	}
	return cpSource{full: full, isDir: fi.IsDir(), contents: contents}, nil
}

// placeCopy applies Docker's destination rules: into an existing
// directory (under the source's name, or its contents for "/."), over an
// existing file, or as a new entry named by the destination. It returns
// the directory to extract into and the archive's top name there.
func placeCopy(src cpSource, dst string, dstFull string) (dir, name string, err error) {
	fi, statErr := os.Stat(dstFull)
	switch {
	case statErr == nil && fi.IsDir():
		return dst, archiveName(src), nil
	case statErr == nil:
		if src.isDir {
			return "", "", store.Invalid("cannot copy a directory to a file: %s", dst)
		}
	case strings.HasSuffix(dst, "/") && !src.isDir:
		return "", "", store.NotFound("destination directory %s does not exist", dst)
	}
	trimmed := strings.TrimSuffix(dst, "/")
	if pfi, err := os.Stat(filepath.Dir(strings.TrimSuffix(dstFull, "/"))); err != nil || !pfi.IsDir() {
		return "", "", store.NotFound("no such directory: %s", path.Dir(trimmed))
	}
	return path.Dir(trimmed), path.Base(trimmed), nil
}

// archiveName is the top name of a source's archive: "." for contents,
// else the source's own name.
func archiveName(src cpSource) string {
	if src.contents {
		return "."
	}
	return filepath.Base(src.full)
}

func (e *Engine) copyFrom(ref, p, dst string, o CopyOptions, stdout io.Writer) error {
	cs, c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	v, err := container.OpenView(c, cs.RunDir(c.ID), true, false)
	if err != nil {
		return err
	}
	defer v.Close()
	src, err := statSource(v.Root, p, o.FollowLink)
	if err != nil {
		return err
	}
	if dst == "-" {
		return container.Archive(stdout, src.full, archiveName(src))
	}
	dstFull, err := filepath.Abs(dst)
	if err != nil {
		return err
	}
	if strings.HasSuffix(dst, "/") {
		dstFull += "/"
	}
	dir, name, err := placeCopy(src, dst, dstFull)
	if err != nil {
		return err
	}
	// The host side is extracted with its directory as the root, so a
	// symlink the container put in the archive cannot lead out of it.
	hostDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	return pipeCopy(src, name, hostDir, "/", container.ExtractOptions{KeepOwners: o.Archive && os.Geteuid() == 0})
}

func (e *Engine) copyTo(src, ref, p string, o CopyOptions, stdin io.Reader) error {
	cs, c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	if !c.IsRunning() {
		// Writes go to the upper dir through a read-write overlay: hold
		// the lock so start cannot mount the same upper dir meanwhile.
		l, locked, err := lockRecord(cs, c.ID)
		if err != nil {
			return err
		}
		defer l.Unlock()
		c = locked
	}
	v, err := container.OpenView(c, cs.RunDir(c.ID), true, true)
	if err != nil {
		return err
	}
	defer v.Close()
	opts := container.ExtractOptions{Chown: &[2]int{0, 0}}
	if o.Archive {
		opts = container.ExtractOptions{KeepOwners: true}
	}
	dstFull, err := container.InRoot(v.Root, p, false)
	if err != nil {
		return err
	}
	if src == "-" {
		if fi, err := os.Stat(dstFull); err != nil || !fi.IsDir() {
			return store.Invalid("destination \"%s:%s\" must be a directory", ref, p)
		}
		return container.Extract(stdin, v.Root, p, opts)
	}
	s, err := statSource("/", src, o.FollowLink)
	if err != nil {
		return err
	}
	if strings.HasSuffix(p, "/") {
		dstFull += "/"
	}
	dir, name, err := placeCopy(s, p, dstFull)
	if err != nil {
		return err
	}
	return pipeCopy(s, name, v.Root, dir, opts)
}

// pipeCopy archives src as name and extracts it into dir inside root.
func pipeCopy(src cpSource, name, root, dir string, o container.ExtractOptions) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(container.Archive(pw, src.full, name)) }()
	err := container.Extract(pr, root, dir, o)
	pr.CloseWithError(fmt.Errorf("extract stopped"))
	return err
}

// Diff lists a container's changes to its image's filesystem.
func (e *Engine) Diff(ref string) ([]container.Change, error) {
	c, err := e.LookupContainer(ref)
	if err != nil {
		return nil, err
	}
	return containerChanges(c)
}

// Export writes a container's flattened filesystem to w as a tar.
func (e *Engine) Export(ref string, w io.Writer) error {
	cs, c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	v, err := container.OpenView(c, cs.RunDir(c.ID), false, false)
	if err != nil {
		return err
	}
	defer v.Close()
	return container.Archive(w, v.Root+"/.", ".")
}
