package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// upEnt is one tar entry of a test layer.
type upEnt struct {
	name, link string
	typ        byte
	mode       int64
	body       string
	uid, gid   int
	mtime      time.Time
	xattrs     map[string]string
	major      int64
	minor      int64
}

func upFile(name, body string) upEnt    { return upEnt{name: name, typ: tar.TypeReg, body: body} }
func upDir(name string) upEnt           { return upEnt{name: name, typ: tar.TypeDir} }
func upSymlink(name, link string) upEnt { return upEnt{name: name, typ: tar.TypeSymlink, link: link} }
func upLink(name, link string) upEnt    { return upEnt{name: name, typ: tar.TypeLink, link: link} }

var upTime = time.Date(2021, 3, 4, 5, 6, 7, 123456789, time.UTC)

// upTar builds an uncompressed PAX layer tar from entries.
func upTar(t testing.TB, ents ...upEnt) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		hdr := &tar.Header{
			Typeflag: e.typ, Name: e.name, Linkname: e.link, Mode: e.mode,
			Uid: e.uid, Gid: e.gid, ModTime: e.mtime, Format: tar.FormatPAX,
			Devmajor: e.major, Devminor: e.minor,
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
			if e.typ == tar.TypeDir {
				hdr.Mode = 0o755
			}
		}
		if hdr.ModTime.IsZero() {
			hdr.ModTime = upTime
		}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		for k, v := range e.xattrs {
			if hdr.PAXRecords == nil {
				hdr.PAXRecords = map[string]string{}
			}
			hdr.PAXRecords[paxXattr+k] = v
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("tar header %s: %v", e.name, err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upSnapshot records everything observable about the tree under dir (except
// skip) so a test can prove nothing changed there.
func upSnapshot(t testing.TB, dir, skip string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == skip {
			return filepath.SkipDir
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		desc := fmt.Sprintf("mode=%o uid=%d gid=%d nlink=%d mtime=%d.%d ino=%d",
			st.Mode, st.Uid, st.Gid, st.Nlink, st.Mtim.Sec, st.Mtim.Nsec, st.Ino)
		if p != dir && st.Mode&unix.S_IFMT != unix.S_IFDIR { // a dir's mtime changes with its entries; entries are listed anyway
			desc += fmt.Sprintf(" ctime=%d.%d", st.Ctim.Sec, st.Ctim.Nsec)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" sha=%x", sha256.Sum256(data))
		case unix.S_IFLNK:
			l, _ := os.Readlink(p)
			desc += " link=" + l
		}
		snap[p] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// upSandbox is a temp dir holding the layer dir and, beside it, an "outside"
// tree that hostile layers aim at.
type upSandbox struct {
	tmp, layer, outside string
}

func newUpSandbox(t testing.TB) upSandbox {
	t.Helper()
	tmp := t.TempDir()
	s := upSandbox{tmp: tmp, layer: filepath.Join(tmp, "layer"), outside: filepath.Join(tmp, "outside")}
	for _, d := range []string{s.layer, filepath.Join(s.outside, "b")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.outside, "sentinel"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

func upLstat(t testing.TB, p string) *unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("lstat: %v", err)
	}
	return &st
}

func upXattr(p, name string) string {
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(p, name, buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}
