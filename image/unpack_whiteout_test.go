package image

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// whiteoutModes are the forms Unpack writes: overlay's namespace (trusted
// as root, user rootless) times the whiteout kind (0/0 device, or the xattr
// form used when the kernel refuses mknod).
var whiteoutModes = []struct {
	name     string
	rootless bool
	xattr    bool
}{
	{"root device", false, false},
	{"rootless device", true, false},
	{"root xattr", false, true},
	{"rootless xattr", true, true},
}

// forceXattrWhiteouts makes mknod(0/0) fail as an old kernel would in a
// user namespace, for the rest of the test.
func forceXattrWhiteouts(t *testing.T) {
	saved := mknodWhiteout
	mknodWhiteout = func(string) error { return unix.EPERM }
	t.Cleanup(func() { mknodWhiteout = saved })
}

// upperLayer hides etc/gone, replaces the contents of opq/, and carries
// whiteouts that also remove what this same layer wrote before them.
func upperLayer() []upEnt {
	return []upEnt{
		upDir("etc/"), upFile("etc/.wh.gone", ""),
		upFile("etc/mine", "m"), upFile("etc/.wh.mine", ""),
		upDir("opq/"), upFile("opq/.wh..wh..opq", ""), upFile("opq/new", "n"),
		upFile(".wh..wh.plnk", ""), // aufs metadata: ignored
	}
}

func TestUnpackWhiteouts(t *testing.T) {
	for _, m := range whiteoutModes {
		t.Run(m.name, func(t *testing.T) {
			if m.xattr {
				forceXattrWhiteouts(t)
			}
			dir := unpackEnts(t, UnpackOptions{Rootless: m.rootless}, upperLayer()...)
			prefix := "trusted.overlay."
			if m.rootless {
				prefix = "user.overlay."
			}
			for _, name := range []string{"etc/gone", "etc/mine"} {
				p := filepath.Join(dir, name)
				st := upLstat(t, p)
				if m.xattr {
					if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != 0 || upXattr(p, prefix+"whiteout") == "" {
						t.Errorf("%s: mode %o size %d, want an empty file with %swhiteout", name, st.Mode, st.Size, prefix)
					}
				} else if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
					t.Errorf("%s: mode %o rdev %d, want a 0/0 character device", name, st.Mode, st.Rdev)
				}
			}
			wantOpaque := ""
			if m.xattr {
				wantOpaque = "x"
			}
			if got := upXattr(filepath.Join(dir, "etc"), prefix+"opaque"); got != wantOpaque {
				t.Errorf("etc %sopaque = %q, want %q", prefix, got, wantOpaque)
			}
			if got := upXattr(filepath.Join(dir, "opq"), prefix+"opaque"); got != "y" {
				t.Errorf("opq %sopaque = %q, want y", prefix, got)
			}
			if names := dirNames(t, dir); strings.Join(names, " ") != "etc opq" {
				t.Errorf("layer root holds %v, want etc opq", names)
			}
		})
	}
}

// TestUnpackOverlayMount mounts what Unpack wrote as overlay lower layers
// and checks that the kernel honours its whiteouts and opaque directories.
func TestUnpackOverlayMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting overlayfs needs root")
	}
	for _, m := range whiteoutModes {
		t.Run(m.name, func(t *testing.T) {
			if m.xattr {
				forceXattrWhiteouts(t)
			}
			opts := UnpackOptions{Rootless: m.rootless}
			lower := unpackEnts(t, opts, upFile("etc/keep", "k"), upFile("etc/gone", "g"), upFile("opq/old", "o"))
			upper := unpackEnts(t, opts, upperLayer()...)
			merged := t.TempDir()
			data := "lowerdir=" + upper + ":" + lower
			if m.rootless {
				data += ",userxattr"
			}
			if err := unix.Mount("overlay", merged, "overlay", 0, data); err != nil {
				t.Fatalf("mount overlay %s: %v", data, err)
			}
			defer unix.Unmount(merged, unix.MNT_DETACH)
			if got := strings.Join(dirNames(t, filepath.Join(merged, "etc")), " "); got != "keep" {
				t.Errorf("merged etc holds %q, want keep (gone and mine whited out)", got)
			}
			if got := strings.Join(dirNames(t, filepath.Join(merged, "opq")), " "); got != "new" {
				t.Errorf("merged opq holds %q, want new only (opaque)", got)
			}
			if _, err := os.Stat(filepath.Join(merged, "etc/gone")); !os.IsNotExist(err) {
				t.Errorf("etc/gone visible in merged view (%v)", err)
			}
		})
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}
