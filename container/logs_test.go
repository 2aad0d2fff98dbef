package container

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)

// writeLog writes entries (stream, data, seconds after t0) to a new log.
func writeLog(t *testing.T, entries []struct {
	stream, data string
	sec          int
}) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), LogFile)
	w, err := OpenLog(path, LogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := w.writeAt(e.stream, []byte(e.data), t0.Add(time.Duration(e.sec)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLogWriterFormat(t *testing.T) {
	path := writeLog(t, []struct {
		stream, data string
		sec          int
	}{{"stdout", "a\nb\"\nc", 0}, {"stderr", "\x01é\n", 1}})
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"log":"a\n","stream":"stdout","time":"2026-01-02T03:04:05.000000006Z"}
{"log":"b\"\n","stream":"stdout","time":"2026-01-02T03:04:05.000000006Z"}
{"log":"c","stream":"stdout","time":"2026-01-02T03:04:05.000000006Z"}
{"log":"\u0001é\n","stream":"stderr","time":"2026-01-02T03:04:06.000000006Z"}
`
	if string(got) != want {
		t.Errorf("log file:\n%s\nwant:\n%s", got, want)
	}
}

func TestReadLog(t *testing.T) {
	path := writeLog(t, []struct {
		stream, data string
		sec          int
	}{
		{"stdout", "one\n", 0},
		{"stderr", "err1\n", 1},
		{"stdout", "tw", 2}, // a partial line, completed by the next entry
		{"stdout", "o\n", 3},
		{"stdout", "three\n", 4},
		{"stderr", "err2\n", 5},
	})
	ts := func(sec int) string { return t0.Add(time.Duration(sec) * time.Second).Format(TimestampFormat) }
	tests := []struct {
		name           string
		opts           LogOptions
		stdout, stderr string
	}{
		{"all", LogOptions{Tail: -1}, "one\ntwo\nthree\n", "err1\nerr2\n"},
		{"tail 2", LogOptions{Tail: 2}, "three\n", "err2\n"},
		{"tail 3 joins the partial line", LogOptions{Tail: 3}, "two\nthree\n", "err2\n"},
		{"tail 0", LogOptions{Tail: 0}, "", ""},
		{"tail beyond", LogOptions{Tail: 100}, "one\ntwo\nthree\n", "err1\nerr2\n"},
		{"since inclusive", LogOptions{Tail: -1, Since: t0.Add(2 * time.Second)}, "two\nthree\n", "err2\n"},
		{"until inclusive", LogOptions{Tail: -1, Until: t0.Add(1 * time.Second)}, "one\n", "err1\n"},
		{"since and until", LogOptions{Tail: -1, Since: t0.Add(1 * time.Second), Until: t0.Add(4 * time.Second)}, "two\nthree\n", "err1\n"},
		{"timestamps", LogOptions{Tail: 2, Timestamps: true}, ts(4) + " three\n", ts(5) + " err2\n"},
		{"timestamps on a joined line", LogOptions{Tail: -1, Since: t0.Add(2 * time.Second), Until: t0.Add(3 * time.Second), Timestamps: true}, ts(2) + " two\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if err := ReadLog(path, tt.opts, &out, &errb); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.stdout || errb.String() != tt.stderr {
				t.Errorf("stdout %q stderr %q, want %q %q", out.String(), errb.String(), tt.stdout, tt.stderr)
			}
		})
	}
}

func TestReadLogMissingIsEmpty(t *testing.T) {
	var out bytes.Buffer
	if err := ReadLog(filepath.Join(t.TempDir(), "none"), LogOptions{Tail: -1, Follow: true}, &out, &out); err != nil || out.Len() != 0 {
		t.Fatalf("got %q, %v", out.String(), err)
	}
}

// TestReadLogFollow appends while a follower reads, then stops the
// "container": the follower prints everything and returns.
func TestReadLogFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), LogFile)
	w, err := OpenLog(path, LogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Write("stdout", []byte("first\n"))
	running := make(chan bool, 1)
	running <- true
	isRunning := func() bool {
		select {
		case v := <-running:
			running <- v
			return v
		default:
			return false
		}
	}
	var out, errb bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- ReadLog(path, LogOptions{Tail: -1, Follow: true, Running: isRunning, Poll: 5 * time.Millisecond}, &out, &errb)
	}()
	time.Sleep(30 * time.Millisecond)
	w.Write("stderr", []byte("second\n"))
	w.Write("stdout", []byte("third\n"))
	<-running
	running <- false
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not return after the container stopped")
	}
	if out.String() != "first\nthird\n" || strings.TrimSpace(errb.String()) != "second" {
		t.Errorf("stdout %q stderr %q", out.String(), errb.String())
	}
}

func TestParseLogTime(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"", time.Time{}, false},
		{"10m", now.Add(-10 * time.Minute), false},
		{"1h30m", now.Add(-90 * time.Minute), false},
		{"1700000000", time.Unix(1700000000, 0), false},
		{"1700000000.5", time.Unix(1700000000, 500000000), false},
		{"2026-01-02T03:04:05Z", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), false},
		{"2026-01-02T03:04:05.25+01:00", time.Date(2026, 1, 2, 2, 4, 5, 250000000, time.UTC), false},
		{"2026-01-02", time.Date(2026, 1, 2, 0, 0, 0, 0, time.Local), false},
		{"yesterday", time.Time{}, true},
		{"12.x", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseLogTime(tt.in, now)
		if (err != nil) != tt.bad || !got.Equal(tt.want) {
			t.Errorf("ParseLogTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
