package container

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// InRoot resolves p inside root as the container would (symlinks are
// followed but can never leave root). With nofollow the last component
// is not resolved (cp without -L copies a symlink itself).
func InRoot(root, p string, nofollow bool) (string, error) {
	p = path.Clean("/" + p)
	if !nofollow || p == "/" {
		return securejoin.SecureJoin(root, p)
	}
	dir, err := securejoin.SecureJoin(root, path.Dir(p))
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, path.Base(p)), nil
}

// Archive writes the tree at full (already resolved inside its root) to w
// as a tar whose top entry is called name ("." writes only the contents).
// It descends by file descriptors, opening each entry with O_NOFOLLOW, so
// a container swapping a directory for a symlink while we read cannot
// send us outside it. Sockets are left out.
func Archive(w io.Writer, full, name string) error {
	tw := tar.NewWriter(w)
	a := &archiver{tw: tw, links: map[[2]uint64]string{}}
	dir, base := filepath.Dir(full), filepath.Base(full)
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(dfd)
	if full == "/" || base == "/" {
		err = a.dirContents(dfd, name)
		if err == nil && name != "." {
			err = fmt.Errorf("archive of /: use a name of \".\"")
		}
	} else {
		err = a.entry(dfd, base, name)
	}
	if err != nil {
		return err
	}
	return tw.Close()
}

type archiver struct {
	tw    *tar.Writer
	links map[[2]uint64]string
}

// entry writes dfd/base (not following a symlink) as name, and what is
// below it for a directory.
func (a *archiver) entry(dfd int, base, name string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	hdr := &tar.Header{Name: name, Mode: int64(st.Mode & 0o7777), Uid: int(st.Uid), Gid: int(st.Gid),
		ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec), Format: tar.FormatPAX}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		fd, err := unix.Openat(dfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		defer unix.Close(fd)
		if name != "." {
			hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
			if err := a.tw.WriteHeader(hdr); err != nil {
				return err
			}
		}
		return a.dirContents(fd, name)
	case unix.S_IFLNK:
		buf := make([]byte, 4096)
		n, err := unix.Readlinkat(dfd, base, buf)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, string(buf[:n])
		return a.tw.WriteHeader(hdr)
	case unix.S_IFREG:
		key := [2]uint64{st.Dev, st.Ino}
		if first, ok := a.links[key]; ok && st.Nlink > 1 {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			return a.tw.WriteHeader(hdr)
		}
		a.links[key] = name
		fd, err := unix.Openat(dfd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		f := os.NewFile(uintptr(fd), name)
		defer f.Close()
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
		if err := a.tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = io.CopyN(a.tw, f, st.Size)
		return err
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		hdr.Typeflag = map[uint32]byte{unix.S_IFCHR: tar.TypeChar, unix.S_IFBLK: tar.TypeBlock, unix.S_IFIFO: tar.TypeFifo}[st.Mode&unix.S_IFMT]
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
		return a.tw.WriteHeader(hdr)
	}
	return nil // sockets
}

func (a *archiver) dirContents(fd int, name string) error {
	dup, err := unix.Dup(fd) // the caller owns fd
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(dup), name)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := a.entry(fd, n, path.Join(name, n)); err != nil {
			return err
		}
	}
	return nil
}

// ExtractOptions say how Extract writes entries.
type ExtractOptions struct {
	Chown      *[2]int // owner of every entry; nil keeps the tar's
	KeepOwners bool    // with Chown nil: chown to the tar's ids (else leave the caller's)
}

// Extract unpacks the tar r into dir, a path inside root. Every entry is
// resolved inside root (securejoin), its last component never followed,
// so neither a hostile tar nor a hostile symlink already in the container
// writes outside root.
func Extract(r io.Reader, root, dir string, o ExtractOptions) error {
	tr := tar.NewReader(r)
	type dirTime struct {
		p string
		t time.Time
	}
	var dirs []dirTime
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if name == "" {
			continue
		}
		target, err := makeParents(root, path.Join(dir, name))
		if err != nil {
			return err
		}
		if err := extractEntry(tr, hdr, root, dir, target, o); err != nil {
			return fmt.Errorf("extract %s: %w", name, err)
		}
		if hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, dirTime{target, hdr.ModTime})
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Chtimes(dirs[i].p, dirs[i].t, dirs[i].t)
	}
	return nil
}

// makeParents resolves p's parent inside root, creating missing
// directories, and returns the host path of p (its last component not
// resolved).
func makeParents(root, p string) (string, error) {
	parent := path.Dir(p)
	full, err := securejoin.SecureJoin(root, parent)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(full); errors.Is(err, os.ErrNotExist) {
		cur := "/"
		for part := range strings.SplitSeq(strings.Trim(parent, "/"), "/") {
			cur = path.Join(cur, part)
			d, err := securejoin.SecureJoin(root, cur)
			if err != nil {
				return "", err
			}
			if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				return "", err
			}
		}
		if full, err = securejoin.SecureJoin(root, parent); err != nil {
			return "", err
		}
	}
	return filepath.Join(full, path.Base(p)), nil
}

func extractEntry(tr *tar.Reader, hdr *tar.Header, root, dir, target string, o ExtractOptions) error {
	mode := os.FileMode(hdr.Mode & 0o777)
	old, err := os.Lstat(target)
	exists := err == nil
	if exists && !(old.IsDir() && hdr.Typeflag == tar.TypeDir) {
		if err := os.RemoveAll(target); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(target, mode); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	case tar.TypeReg, tar.TypeRegA:
		f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY|unix.O_NOFOLLOW, mode)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := os.Symlink(hdr.Linkname, target); err != nil {
			return err
		}
	case tar.TypeLink:
		src, err := securejoin.SecureJoin(root, path.Join(dir, hdr.Linkname))
		if err != nil {
			return err
		}
		return os.Link(src, target)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		typ := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		dev := int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
		if err := unix.Mknod(target, typ|uint32(mode), dev); err != nil {
			return nil // no devices for an unprivileged caller: skipped
		}
	default:
		return nil
	}
	switch {
	case o.Chown != nil:
		os.Lchown(target, o.Chown[0], o.Chown[1])
	case o.KeepOwners:
		os.Lchown(target, hdr.Uid, hdr.Gid)
	}
	if hdr.Typeflag != tar.TypeSymlink {
		os.Chmod(target, hdr.FileInfo().Mode()) // permissions, setuid, setgid, sticky
	}
	ts := []unix.Timespec{unix.NsecToTimespec(hdr.ModTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	unix.UtimesNanoAt(unix.AT_FDCWD, target, ts, unix.AT_SYMLINK_NOFOLLOW)
	return nil
}
