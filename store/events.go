package store

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// The events log is what `skiff events` reads: with no daemon to hold
// Docker's in-memory event stream, every command that changes a container,
// image or volume appends one JSON line here, and the supervisor appends a
// container's start and die. It lives under the runtime root, so, like
// Docker's and podman's default, it does not outlive a reboot.
const (
	eventsFile = "events.log"
	// Past this size the log is rotated to events.log.1 (one generation),
	// so a long-lived host keeps a bounded history.
	eventsMaxSize = 8 << 20
)

// Event is one entry, in the shape of Docker's events API message, so
// `--format '{{json .}}'` prints what docker does.
type Event struct {
	Status   string     `json:"status,omitempty"`
	ID       string     `json:"id,omitempty"`
	From     string     `json:"from,omitempty"`
	Type     string     `json:"Type"`
	Action   string     `json:"Action"`
	Actor    EventActor `json:"Actor"`
	Scope    string     `json:"scope"`
	Time     int64      `json:"time"`
	TimeNano int64      `json:"timeNano"`
}

// EventActor is the object an event is about.
type EventActor struct {
	ID         string            `json:"ID"`
	Attributes map[string]string `json:"Attributes"`
}

// When is the event's time.
func (e *Event) When() time.Time { return time.Unix(0, e.TimeNano) }

// EventsPath is the log's file.
func (s *Store) EventsPath() string { return s.RunPath(eventsFile) }

// Emit appends an event of typ ("container", "image", "volume") about id.
// It is best effort: a command's work is done when it emits, and a log it
// cannot write (a read-only run root, a full disk) must not fail it.
func (s *Store) Emit(typ, action, id string, attrs map[string]string) {
	now := time.Now()
	ev := Event{Type: typ, Action: action, Actor: EventActor{ID: id, Attributes: attrs},
		Scope: "local", Time: now.Unix(), TimeNano: now.UnixNano()}
	if ev.Actor.Attributes == nil {
		ev.Actor.Attributes = map[string]string{}
	}
	if typ == "container" || typ == "image" {
		// The deprecated top-level fields older clients still read.
		ev.Status, ev.ID, ev.From = action, id, attrs["image"]
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return
	}
	s.appendEvent(append(line, '\n'))
}

func (s *Store) appendEvent(line []byte) {
	p := s.EventsPath()
	f, err := openEventsLog(p)
	if errors.Is(err, fs.ErrNotExist) && os.MkdirAll(s.RunRoot, 0o700) == nil {
		f, err = openEventsLog(p)
	}
	if err != nil {
		return
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > eventsMaxSize {
		f.Close()
		os.Rename(p, p+".1")
		if f, err = openEventsLog(p); err != nil {
			return
		}
	}
	// One write with O_APPEND: concurrent commands' lines never interleave.
	f.Write(line)
	f.Close()
}

func openEventsLog(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

// EventReader reads the log from a position on, so a follower sees each
// event once; lines it cannot parse (a partial last line, damage) are
// skipped.
type EventReader struct {
	path string
	off  int64
	ino  uint64
}

// NewEventReader reads from the start of the log (the rotated generation
// is not read: it holds what came before the current one).
func (s *Store) NewEventReader() *EventReader { return &EventReader{path: s.EventsPath()} }

// SkipToEnd makes the reader return only events appended from now on.
func (r *EventReader) SkipToEnd() {
	if fi, err := os.Stat(r.path); err == nil {
		r.off, r.ino = fi.Size(), inode(fi)
	}
}

// Next returns the complete events appended since the last call.
func (r *EventReader) Next() ([]Event, error) {
	f, err := os.Open(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if ino := inode(fi); ino != r.ino || fi.Size() < r.off {
		r.off, r.ino = 0, ino // rotated: the new file starts over
	}
	if _, err := f.Seek(r.off, io.SeekStart); err != nil {
		return nil, err
	}
	var out []Event
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			break // EOF, or a line still being written: read it next time
		}
		r.off += int64(len(line))
		var ev Event
		if json.Unmarshal(line, &ev) == nil {
			out = append(out, ev)
		}
	}
	return out, nil
}

func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}
