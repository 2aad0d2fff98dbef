package container

import (
	"slices"
	"strings"
	"testing"
)

func TestParseReadOnlySpans(t *testing.T) {
	const exe = "/opt/my tools/skiff"
	maps := `00400000-00a83000 r-xp 00000000 fe:00 10013513                           /opt/my tools/skiff
00a83000-0116c000 r--p 00683000 fe:00 10013513                           /opt/my tools/skiff
0116c000-011e8000 rw-p 00d6c000 fe:00 10013513                           /opt/my tools/skiff
011e8000-03454000 rw-p 00000000 00:00 0
323750c00000-323751000000 rw-p 00000000 00:00 0 
7ff2ee0fe000-7ff2ee100000 r-xp 00000000 00:00 0                          [vdso]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
`
	spans, ok := parseReadOnlySpans(strings.NewReader(maps), exe)
	if !ok {
		t.Fatal("static binary: not ok")
	}
	want := [][2]uintptr{{0x400000, 0x683000}, {0xa83000, 0x6e9000}}
	if !slices.Equal(spans, want) {
		t.Fatalf("spans = %x, want %x", spans, want)
	}
	// A shared library among the read-only mappings: nothing is dropped.
	withLib := maps + "7f0000000000-7f0000001000 r--p 00000000 fe:00 42 /usr/lib/libc.so.6\n"
	if _, ok := parseReadOnlySpans(strings.NewReader(withLib), exe); ok {
		t.Fatal("dynamic binary: ok")
	}
}

func TestSupervisorEnv(t *testing.T) {
	t.Setenv("GOMAXPROCS", "8")
	t.Setenv("GODEBUG", "gctrace=1")
	env := supervisorEnv()
	var procs, debug []string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOMAXPROCS="); ok {
			procs = append(procs, v)
		}
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			debug = append(debug, v)
		}
	}
	if !slices.Equal(procs, []string{"1"}) {
		t.Errorf("GOMAXPROCS = %q, want one 1", procs)
	}
	// The caller's settings come last: the runtime applies the last
	// value of a key, so theirs win.
	if !slices.Equal(debug, []string{supervisorGodebug + ",gctrace=1"}) {
		t.Errorf("GODEBUG = %q", debug)
	}
}
