package container

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skiff-dev/skiff/store"
)

// LogFile is the name of a container's log under its store directory.
const LogFile = "ctr.log"

// TimestampFormat is how `logs -t` prints times: RFC 3339 with nanoseconds
// padded to a fixed width, as Docker's jsonmessage.RFC3339NanoFixed.
const TimestampFormat = "2006-01-02T15:04:05.000000000Z07:00"

// LogEntry is one line of the log in Docker's json-file shape. Log holds
// the bytes as written, a line with its trailing newline, or a partial line
// when the writer flushed before one came.
type LogEntry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// LogWriter appends entries to a container's log. Each Write call is split
// at newlines so every entry is at most one line; one write(2) per entry
// with O_APPEND keeps concurrent readers from seeing torn records.
type LogWriter struct {
	mu  sync.Mutex
	f   *os.File
	buf []byte

	path    string
	size    int64 // of the current file
	maxSize int64 // rotate past it (--log-opt max-size); 0: never
	maxFile int   // files kept, the current one included
}

// OpenLog opens (creating, 0600) the log at path for appending: a
// restarted container adds to what its earlier runs wrote. With the
// "none" driver nothing is kept.
func OpenLog(path string, cfg LogConfig) (*LogWriter, error) {
	if cfg.Type == "none" {
		path = os.DevNull
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	w := &LogWriter{f: f, path: path}
	if cfg.Type != "none" {
		w.maxSize, w.maxFile = cfg.rotation()
		if fi, err := f.Stat(); err == nil {
			w.size = fi.Size()
		}
	}
	return w, nil
}

// rotate moves the current file to path.1 (path.1 to path.2, ...), drops
// what is past max-file, and starts an empty one, as json-file does.
func (w *LogWriter) rotate() error {
	w.f.Close()
	os.Remove(rotatedName(w.path, w.maxFile-1))
	for n := w.maxFile - 2; n >= 1; n-- {
		os.Rename(rotatedName(w.path, n), rotatedName(w.path, n+1))
	}
	if w.maxFile > 1 {
		os.Rename(w.path, rotatedName(w.path, 1))
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w.f, w.size = f, 0
	return nil
}

// Write logs p as coming from stream ("stdout" or "stderr") now.
func (w *LogWriter) Write(stream string, p []byte) error {
	return w.writeAt(stream, p, time.Now().UTC())
}

func (w *LogWriter) writeAt(stream string, p []byte, t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var first error
	for len(p) > 0 {
		n := bytes.IndexByte(p, '\n') + 1
		if n == 0 {
			n = len(p)
		}
		w.buf = appendEntry(w.buf[:0], stream, p[:n], t)
		if w.maxSize > 0 && w.size > 0 && w.size+int64(len(w.buf)) > w.maxSize {
			if err := w.rotate(); err != nil && first == nil {
				first = err
			}
		}
		n2, err := w.f.Write(w.buf)
		w.size += int64(n2)
		if err != nil && first == nil {
			first = err
		}
		p = p[n:]
	}
	return first
}

func appendEntry(b []byte, stream string, line []byte, t time.Time) []byte {
	msg, _ := json.Marshal(string(line)) // a string always encodes
	b = append(b, `{"log":`...)
	b = append(b, msg...)
	b = append(b, `,"stream":"`...)
	b = append(b, stream...)
	b = append(b, `","time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, "\"}\n"...)
}

// Close closes the log file.
func (w *LogWriter) Close() error { return w.f.Close() }

// LogOptions select what ReadLog prints, as `docker logs` flags do.
type LogOptions struct {
	Tail       int       // last N lines only; < 0 for all
	Since      time.Time // zero: from the start (inclusive)
	Until      time.Time // zero: no end (inclusive)
	Timestamps bool      // prefix each line with its time
	Follow     bool      // keep reading new entries while Running() is true
	// Running reports whether more output may still come; Follow stops
	// once it returns false and what was written by then has been read.
	Running func() bool
	// Poll is how often a follower looks for new entries (default 100ms).
	Poll time.Duration
}

// logLine is one line as printed: consecutive partial entries of one
// stream joined, carrying the time of the first.
type logLine struct {
	stream string
	time   time.Time
	data   []byte
}

// ReadLog prints the log at path, after the files rotated out of it
// (oldest first): stdout entries to stdout, stderr entries to stderr. A
// missing log is empty (a container that never ran).
func ReadLog(path string, opts LogOptions, stdout, stderr io.Writer) error {
	var lines []logLine
	var open *logLine // last line, still missing its newline
	for _, old := range rotatedLogs(path) {
		if f, err := os.Open(old); err == nil {
			lines, open, _ = scanLog(bufio.NewReader(f), lines, open, opts.Tail)
			f.Close()
		}
	}
	f, err := os.Open(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var r *bufio.Reader
	var pending []byte
	if f != nil {
		defer func() { f.Close() }()
		r = bufio.NewReader(f)
		lines, open, pending = scanLog(r, lines, open, opts.Tail)
	}
	if opts.Tail >= 0 {
		lines, _ = keepTail(lines, open, opts.Tail)
	}
	out := logPrinter{opts: opts, stdout: stdout, stderr: stderr}
	for _, l := range lines {
		if out.stopped(l.time) {
			return nil
		}
		if out.skip(l.time) {
			continue
		}
		if err := out.print(l.stream, l.time, l.data); err != nil {
			return err
		}
	}
	if !opts.Follow || f == nil {
		return nil
	}
	return out.follow(path, &f, r, pending)
}

// scanLog reads r's entries into lines, joining a partial line with the
// entries that complete it; a half-written last record is returned as
// pending, for a follower.
func scanLog(r *bufio.Reader, lines []logLine, open *logLine, tail int) ([]logLine, *logLine, []byte) {
	var pending []byte
	for {
		chunk, err := r.ReadBytes('\n')
		pending = append(pending, chunk...)
		if err != nil {
			return lines, open, pending // EOF
		}
		e, ok := decodeEntry(pending)
		pending = pending[:0]
		if !ok {
			continue
		}
		if open != nil && open.stream == e.Stream {
			open.data = append(open.data, e.Log...)
		} else {
			lines = append(lines, logLine{e.Stream, e.Time, []byte(e.Log)})
			open = &lines[len(lines)-1]
		}
		if e.Log != "" && e.Log[len(e.Log)-1] == '\n' {
			open = nil
		}
		if tail >= 0 && len(lines) > 2*tail+64 {
			lines, open = keepTail(lines, open, tail)
		}
	}
}

// rotatedLogs are path.N files, oldest (highest N) first.
func rotatedLogs(path string) []string {
	matches, _ := filepath.Glob(path + ".*")
	type rotated struct {
		n    int
		name string
	}
	var rs []rotated
	for _, m := range matches {
		if n, err := strconv.Atoi(strings.TrimPrefix(m, path+".")); err == nil && n > 0 {
			rs = append(rs, rotated{n, m})
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n })
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.name
	}
	return out
}

// keepTail keeps the last n lines, fixing up the open-line pointer.
func keepTail(lines []logLine, open *logLine, n int) ([]logLine, *logLine) {
	if len(lines) <= n {
		return lines, open
	}
	kept := append([]logLine(nil), lines[len(lines)-n:]...)
	if open != nil && len(kept) > 0 {
		open = &kept[len(kept)-1]
	}
	return kept, open
}

func decodeEntry(b []byte) (LogEntry, bool) {
	var e LogEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return e, false
	}
	return e, true
}

type logPrinter struct {
	opts           LogOptions
	stdout, stderr io.Writer
	midLine        map[string]bool // stream's last print lacked a newline
}

func (p *logPrinter) skip(t time.Time) bool {
	return !p.opts.Since.IsZero() && t.Before(p.opts.Since)
}

func (p *logPrinter) stopped(t time.Time) bool {
	return !p.opts.Until.IsZero() && t.After(p.opts.Until)
}

func (p *logPrinter) print(stream string, t time.Time, data []byte) error {
	w := p.stdout
	if stream == "stderr" {
		w = p.stderr
	}
	if p.midLine == nil {
		p.midLine = map[string]bool{}
	}
	if p.opts.Timestamps && !p.midLine[stream] {
		if _, err := io.WriteString(w, t.UTC().Format(TimestampFormat)+" "); err != nil {
			return err
		}
	}
	p.midLine[stream] = len(data) > 0 && data[len(data)-1] != '\n'
	_, err := w.Write(data)
	return err
}

// follow prints entries appended after the first pass until the container
// stops running, then drains what is left. When the log is rotated under
// it, it goes on in the new file at path once the old one is read out.
func (p *logPrinter) follow(path string, f **os.File, r *bufio.Reader, pending []byte) error {
	poll := p.opts.Poll
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	last := false
	for {
		chunk, err := r.ReadBytes('\n')
		pending = append(pending, chunk...)
		if err == nil {
			e, ok := decodeEntry(pending)
			pending = pending[:0]
			if !ok || p.skip(e.Time) {
				continue
			}
			if p.stopped(e.Time) {
				return nil
			}
			if err := p.print(e.Stream, e.Time, []byte(e.Log)); err != nil {
				return err
			}
			continue
		}
		if err != io.EOF {
			return err
		}
		if rotated(path, *f) {
			nf, err := os.Open(path)
			if err == nil {
				(*f).Close()
				*f, r, pending = nf, bufio.NewReader(nf), pending[:0]
				continue
			}
		}
		if last {
			return nil
		}
		if p.opts.Running != nil && !p.opts.Running() {
			last = true // one more pass for what was written before it stopped
			continue
		}
		time.Sleep(poll)
	}
}

// rotated says whether path is no longer the file f has open.
func rotated(path string, f *os.File) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && !os.SameFile(a, b)
}

// ParseLogTime reads --since/--until as Docker does: an RFC 3339 date or
// time (local when it has no zone), a Unix timestamp with optional
// fraction, or a Go duration meaning that long before now.
func ParseLogTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	if sec, frac, ok := strings.Cut(s, "."); isDigits(sec) && (!ok || isDigits(frac)) {
		n, _ := strconv.ParseInt(sec, 10, 64)
		var ns int64
		if ok {
			frac = (frac + "000000000")[:9]
			ns, _ = strconv.ParseInt(frac, 10, 64)
		}
		return time.Unix(n, ns), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, store.Invalid("invalid value for \"since\"/\"until\": %q is not a timestamp or duration", s)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
