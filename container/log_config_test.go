package container

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiff-dev/skiff/store"
)

func TestParseLogConfig(t *testing.T) {
	tests := []struct {
		driver string
		opts   map[string]string
		bad    bool
	}{
		{"", nil, false},
		{"json-file", map[string]string{"max-size": "10m", "max-file": "3"}, false},
		{"local", map[string]string{"max-size": "1k"}, false},
		{"json-file", map[string]string{"compress": "false"}, false},
		{"none", nil, false},
		{"none", map[string]string{"max-size": "1m"}, true},
		{"syslog", nil, true},
		{"json-file", map[string]string{"max-size": "0"}, true},
		{"json-file", map[string]string{"max-size": "lots"}, true},
		{"json-file", map[string]string{"max-file": "0", "max-size": "1m"}, true},
		{"json-file", map[string]string{"max-file": "2"}, true}, // needs max-size
		{"json-file", map[string]string{"compress": "true"}, true},
		{"json-file", map[string]string{"tag": "x"}, true},
	}
	for _, tt := range tests {
		c, err := ParseLogConfig(tt.driver, tt.opts)
		if tt.bad != errors.Is(err, store.ErrInvalid) || (!tt.bad && err != nil) {
			t.Errorf("ParseLogConfig(%q, %v) = %+v, %v; bad = %v", tt.driver, tt.opts, c, err, tt.bad)
		}
	}
}

// A log over max-size rotates into max-file files; ReadLog reads them in
// order, and a follower goes on into the new file across a rotation.
func TestLogRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), LogFile)
	cfg, err := ParseLogConfig("json-file", map[string]string{"max-size": "1k", "max-file": "3"})
	if err != nil {
		t.Fatal(err)
	}
	w, err := OpenLog(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var followed bytes.Buffer
	running := true
	done := make(chan error)
	go func() {
		out := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return followed.Write(p) })
		done <- ReadLog(path, LogOptions{Tail: -1, Follow: true, Poll: 5 * time.Millisecond,
			Running: func() bool { mu.Lock(); defer mu.Unlock(); return running }}, out, out)
	}()
	time.Sleep(20 * time.Millisecond) // the follower is reading the first file
	var want strings.Builder
	for i := range 60 {
		line := fmt.Sprintf("line %02d\n", i)
		want.WriteString(line)
		if err := w.Write("stdout", []byte(line)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	w.Close()
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	running = false
	mu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if followed.String() != want.String() {
		t.Errorf("follower printed:\n%s\nwant every line once, in order", followed.String())
	}
	for _, n := range []string{path, path + ".1", path + ".2"} {
		if fi, err := os.Stat(n); err != nil || fi.Size() > 1024 {
			t.Errorf("%s: %v, size over max-size", filepath.Base(n), err)
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Errorf("a fourth file kept with max-file 3")
	}
	var all bytes.Buffer
	if err := ReadLog(path, LogOptions{Tail: -1}, &all, &all); err != nil {
		t.Fatal(err)
	}
	got := all.String()
	if !strings.HasSuffix(want.String(), got) || !strings.HasSuffix(got, "line 59\n") || strings.Count(got, "\n") < 20 {
		t.Errorf("logs over the kept files: %q", got)
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
