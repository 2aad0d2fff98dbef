package image

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// initPaths are the mount points commit leaves out (container.InitPaths).
var initPaths = []string{"/proc", "/sys", "/dev", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}

// omitThrough writes entries ("name" a directory if it ends in "/", else a
// file holding "body of <name>") through an OmitWriter and returns the
// names written, checking every body that got through.
func omitThrough(t *testing.T, omit []string, entries ...string) []string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	w := NewOmitWriter(tw, omit)
	for _, name := range entries {
		hdr := &tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755}
		body := ""
		if !strings.HasSuffix(name, "/") {
			body = "body of " + name
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, int64(len(body))
		}
		upMust(t, w.WriteHeader(hdr))
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
	}
	upMust(t, w.Flush())
	upMust(t, tw.Close())
	var got []string
	tr := tar.NewReader(&buf)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return got
		}
		upMust(t, err)
		data, err := io.ReadAll(tr)
		upMust(t, err)
		if hdr.Typeflag == tar.TypeReg && string(data) != "body of "+hdr.Name {
			t.Errorf("%s holds %q", hdr.Name, data)
		}
		got = append(got, hdr.Name)
	}
}

func TestOmitWriter(t *testing.T) {
	tests := []struct {
		name     string
		omit     []string
		in, want []string
	}{
		{"mount points of an image without them", initPaths,
			[]string{"dev/", "etc/", "etc/hostname", "etc/hosts", "etc/resolv.conf", "proc/", "sys/", "tmp/", "tmp/x"},
			[]string{"tmp/", "tmp/x"}},
		{"a real change beside them keeps the directory", initPaths,
			[]string{"etc/", "etc/hostname", "etc/hosts", "etc/motd", "etc/resolv.conf", "usr/"},
			[]string{"etc/", "etc/motd", "usr/"}},
		{"a change after them", initPaths,
			[]string{"etc/", "etc/hosts", "etc/passwd"},
			[]string{"etc/", "etc/passwd"}},
		{"opaque directory", initPaths,
			[]string{"etc/", "etc/.wh..wh..opq", "etc/hosts"},
			[]string{"etc/", "etc/.wh..wh..opq"}},
		{"a deletion beside them", initPaths,
			[]string{"etc/", "etc/.wh.group", "etc/hostname"},
			[]string{"etc/", "etc/.wh.group"}},
		{"an empty directory of the diff's own", initPaths,
			[]string{"etc/", "var/"},
			[]string{"etc/", "var/"}},
		{"an empty directory last", initPaths,
			[]string{"bin/", "etc/"},
			[]string{"bin/", "etc/"}},
		{"whole trees left out, bodies too", initPaths,
			[]string{"dev/", "dev/null", "dev/pts/", "dev/pts/0", "devices", "proc/", "proc/1/", "sys"},
			[]string{"devices"}},
		{"nested holders", []string{"/a/b/c"},
			[]string{"a/", "a/b/", "a/b/c", "a/d", "e"},
			[]string{"a/", "a/d", "e"}},
		{"nested holders, nothing else", []string{"/a/b/c"},
			[]string{"a/", "a/b/", "a/b/c", "e"},
			[]string{"e"}},
		{"an empty directory inside a holder", []string{"/a/b/c"},
			[]string{"a/", "a/b/", "a/b/c", "a/b/d/", "e"},
			[]string{"a/", "a/b/", "a/b/d/", "e"}},
		{"nothing to omit", nil,
			[]string{"etc/", "etc/hosts"},
			[]string{"etc/", "etc/hosts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := omitThrough(t, tt.omit, tt.in...); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// omitLayer passes a layer tar through an OmitWriter of initPaths and
// lists what comes out (as tarEntries).
func omitLayer(t *testing.T, data []byte) []string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	w := NewOmitWriter(tw, initPaths)
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		upMust(t, err)
		upMust(t, w.WriteHeader(hdr))
		_, err = io.Copy(w, tr)
		upMust(t, err)
	}
	upMust(t, w.Flush())
	upMust(t, tw.Close())
	lines, _ := tarEntries(t, buf.Bytes())
	return lines
}

// TestOmitWriterDiff: an upper dir as a run of an image without /etc/hosts
// leaves it (the mount points; /etc copied up to hold them) gives an empty
// layer; a real change in /etc keeps /etc.
func TestOmitWriterDiff(t *testing.T) {
	upper := t.TempDir()
	for _, d := range []string{"dev", "etc", "proc", "sys"} {
		upMust(t, os.Mkdir(filepath.Join(upper, d), 0o755))
	}
	for _, f := range []string{"etc/hosts", "etc/hostname", "etc/resolv.conf"} {
		upMust(t, os.WriteFile(filepath.Join(upper, f), nil, 0o644))
	}
	if got := omitLayer(t, diffBytes(t, upper)); len(got) != 0 {
		t.Errorf("mount points only: layer has %q", got)
	}
	upMust(t, os.WriteFile(filepath.Join(upper, "etc/motd"), []byte("hi\n"), 0o644))
	if got, want := omitLayer(t, diffBytes(t, upper)), []string{"etc/ 5", "etc/motd 0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("with /etc/motd: layer has %q, want %q", got, want)
	}
}

// TestOmitWriterDiffRootfs: the same on the vfs driver's copy, where making
// the mount points changed /etc's mtime.
func TestOmitWriterDiffRootfs(t *testing.T) {
	rootfs, layers := vfsFixture(t)
	diff := func() []byte {
		var buf bytes.Buffer
		upMust(t, DiffRootfs(&buf, rootfs, layers))
		return buf.Bytes()
	}
	for _, d := range []string{"dev", "proc", "sys"} {
		upMust(t, os.Mkdir(filepath.Join(rootfs, d), 0o755))
	}
	for _, f := range []string{"etc/hosts", "etc/hostname", "etc/resolv.conf"} {
		upMust(t, os.WriteFile(filepath.Join(rootfs, f), nil, 0o644))
	}
	if before, _ := tarEntries(t, diff()); !slices.Contains(before, "etc/ 5") || !slices.Contains(before, "etc/hosts 0") {
		t.Fatalf("the fixture does not change /etc: %q", before)
	}
	if got := omitLayer(t, diff()); len(got) != 0 {
		t.Errorf("mount points only: layer has %q", got)
	}
	upMust(t, os.Remove(filepath.Join(rootfs, "etc/group")))
	if got, want := omitLayer(t, diff()), []string{"etc/ 5", "etc/.wh.group 0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("with /etc/group deleted: layer has %q, want %q", got, want)
	}
}
