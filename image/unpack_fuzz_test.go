package image

import (
	"archive/tar"
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// FuzzUnpack unpacks layers described by a small script and asserts that
// nothing outside the layer dir ever changes, whatever Unpack returns.
// A script line is a type letter (f file, d dir, l symlink, h hardlink,
// p fifo, w whiteout) then a name, and for links " -> target"; "@" stands
// for the absolute path of the tree beside the layer dir.
//
// Run beyond the seeds only in a throwaway machine: a bug found as root may
// write anywhere.
func FuzzUnpack(f *testing.F) {
	seeds := []string{
		"f../outside/sentinel",
		"f@/sentinel",
		"l root -> /\nfroot@/sentinel",
		"l d -> @\nfd/sentinel\ndd/b/\nfd/b/x",
		"l up -> ../../../../..\nfup/outside/sentinel",
		"l f -> @/sentinel\nff",
		"h h -> /etc/passwd",
		"l l -> @\nh h -> l/sentinel\nfh",
		"l l -> @/sentinel\nh h -> l\nfh",
		"dd/\nfd/k\nl d -> @\nfd/sentinel",
		"da/\nda/b/\nl a -> @",
		"l l -> @\nwl/sentinel\nwl/.wh..opq",
		"l l -> @\npl/fifo",
		"l a -> b\nl b -> a\nfa/x",
		"dx/\nl x/y -> ..\nfx/y/y/outside/sentinel",
		"l a -> @/b\nda/\nfa/z",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		s := newUpSandbox(t)
		ents, ok := parseScript(strings.ReplaceAll(script, "@", s.outside))
		if !ok {
			return
		}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, e := range ents {
			hdr := &tar.Header{Typeflag: e.typ, Name: e.name, Linkname: e.link, Mode: 0o755, Size: int64(len(e.body))}
			if tw.WriteHeader(hdr) != nil {
				return // not representable in a tar
			}
			tw.Write([]byte(e.body))
		}
		if tw.Close() != nil {
			return
		}
		before := upSnapshot(t, s.tmp, s.layer)
		Unpack(&buf, s.layer, UnpackOptions{}) //nolint:errcheck // refusing is as fine as neutralizing
		if after := upSnapshot(t, s.tmp, s.layer); !reflect.DeepEqual(before, after) {
			t.Fatalf("script %q changed the tree outside the layer:\nbefore %v\nafter  %v", script, before, after)
		}
	})
}

func parseScript(script string) ([]upEnt, bool) {
	var ents []upEnt
	for _, line := range strings.Split(script, "\n") {
		if len(line) < 2 || len(ents) > 64 {
			return nil, false
		}
		name, link, _ := strings.Cut(line[1:], " -> ")
		e := upEnt{name: name, link: link}
		switch line[0] {
		case 'f':
			e.typ, e.body = tar.TypeReg, "x"
		case 'd':
			e.typ = tar.TypeDir
		case 'l':
			e.typ = tar.TypeSymlink
		case 'h':
			e.typ = tar.TypeLink
		case 'p':
			e.typ = tar.TypeFifo
		case 'w':
			i := strings.LastIndexByte(name, '/')
			e.typ, e.name = tar.TypeReg, name[:i+1]+whiteoutPrefix+name[i+1:]
		default:
			return nil, false
		}
		e.name = strings.TrimSpace(e.name)
		ents = append(ents, e)
	}
	return ents, true
}
