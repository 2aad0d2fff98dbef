package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/skiff-dev/skiff/store"
)

// TestUnpackHostile feeds layers built to write outside the layer dir and
// checks that the tree beside it is byte-for-byte untouched, and that each
// attempt is either refused with store.ErrInvalid or lands inside the layer.
func TestUnpackHostile(t *testing.T) {
	cases := []struct {
		name    string
		ents    func(out string) []upEnt // out: absolute path of the outside tree
		wantErr bool
		anyErr  bool                    // the error need not be store.ErrInvalid
		inside  func(out string) string // a path (relative to the layer) the write must land on
	}{
		{name: "dotdot escape", wantErr: true,
			ents: func(string) []upEnt { return []upEnt{upFile("../outside/evil", "x")} }},
		{name: "dotdot in the middle", wantErr: true,
			ents: func(string) []upEnt { return []upEnt{upFile("a/../../outside/sentinel", "x")} }},
		{name: "dotdot directory", wantErr: true,
			ents: func(string) []upEnt { return []upEnt{upDir("../outside/b/")} }},
		{name: "absolute path",
			ents:   func(out string) []upEnt { return []upEnt{upFile(out+"/sentinel", "x")} },
			inside: func(out string) string { return out + "/sentinel" }},
		{name: "symlink to / then file through it",
			ents: func(out string) []upEnt {
				return []upEnt{upSymlink("root", "/"), upFile("root"+out+"/sentinel", "x")}
			},
			inside: func(out string) string { return out + "/sentinel" }},
		{name: "relative symlink climbing out then file through it",
			ents: func(string) []upEnt {
				return []upEnt{upSymlink("up", "../../../../../../../../.."), upFile("up/outside/evil", "x")}
			},
			inside: func(string) string { return "outside/evil" }},
		{name: "symlinked parent directory",
			ents: func(out string) []upEnt {
				return []upEnt{upSymlink("d", out), upFile("d/sentinel", "x"), upDir("d/b/"), upFile("d/b/new", "x")}
			},
			inside: func(out string) string { return out + "/b/new" }},
		{name: "file over a symlink to an outside file",
			ents: func(out string) []upEnt {
				return []upEnt{upSymlink("f", out+"/sentinel"), upFile("f", "x")}
			},
			inside: func(string) string { return "f" }},
		{name: "hardlink to /etc/passwd", wantErr: true,
			ents: func(string) []upEnt { return []upEnt{upLink("passwd", "/etc/passwd")} }},
		{name: "hardlink to an absolute outside file", wantErr: true,
			ents: func(out string) []upEnt { return []upEnt{upLink("h", out+"/sentinel")} }},
		{name: "hardlink climbing out", wantErr: true,
			ents: func(string) []upEnt { return []upEnt{upLink("h", "../outside/sentinel")} }},
		{name: "hardlink through a symlink", wantErr: true,
			ents: func(out string) []upEnt {
				return []upEnt{upSymlink("l", out), upLink("h", "l/sentinel"), upFile("h", "x")}
			}},
		{name: "hardlink to a symlink then write to it",
			ents: func(out string) []upEnt {
				return []upEnt{upSymlink("l", out+"/sentinel"), upLink("h", "l"), upFile("h", "x")}
			},
			inside: func(string) string { return "h" }},
		{name: "directory replaced by symlink then write under it",
			ents: func(out string) []upEnt {
				return []upEnt{upDir("d/"), upFile("d/keep", "k"), upSymlink("d", out), upFile("d/sentinel", "x")}
			},
			inside: func(out string) string { return out + "/sentinel" }},
		{name: "directory metadata applied after its parent became a symlink",
			ents: func(out string) []upEnt {
				b := upDir("a/b/")
				b.mode = 0o700
				return []upEnt{upDir("a/"), b, upSymlink("a", out)}
			},
			inside: func(string) string { return "a" }},
		{name: "whiteout through a symlinked parent",
			ents: func(out string) []upEnt {
				return []upEnt{upSymlink("l", out), upFile("l/.wh.sentinel", ""), upFile("l/.wh..wh..opq", "")}
			},
			inside: func(out string) string { return out + "/sentinel" }},
		{name: "whiteout of dot dot", wantErr: true,
			ents: func(string) []upEnt { return []upEnt{upFile(".wh..", "")} }},
		{name: "symlink loop",
			wantErr: true, anyErr: true, // ELOOP from resolving l1
			ents: func(string) []upEnt {
				return []upEnt{upSymlink("l1", "l2"), upSymlink("l2", "l1"), upFile("l1/x", "x")}
			}},
		{name: "device and fifo through a symlink",
			ents: func(out string) []upEnt {
				return []upEnt{upSymlink("l", out), {name: "l/fifo", typ: tar.TypeFifo, mode: 0o600}}
			},
			inside: func(out string) string { return out + "/fifo" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newUpSandbox(t)
			before := upSnapshot(t, s.tmp, s.layer)
			_, err := Unpack(bytes.NewReader(upTar(t, tc.ents(s.outside)...)), s.layer, UnpackOptions{})
			if after := upSnapshot(t, s.tmp, s.layer); !reflect.DeepEqual(before, after) {
				t.Errorf("the tree outside the layer changed:\nbefore %v\nafter  %v", before, after)
			}
			if tc.wantErr {
				if err == nil {
					t.Fatal("Unpack succeeded, want an error")
				}
				if !tc.anyErr && !errors.Is(err, store.ErrInvalid) {
					t.Errorf("error %v is not store.ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Unpack: %v", err)
			}
			want := filepath.Join(s.layer, tc.inside(s.outside))
			if _, err := os.Lstat(want); err != nil {
				t.Errorf("the entry did not land inside the layer: %v", err)
			}
		})
	}
}
