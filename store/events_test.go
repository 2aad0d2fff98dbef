package store

import (
	"os"
	"testing"
)

func TestEventsLog(t *testing.T) {
	s := &Store{Root: t.TempDir(), RunRoot: t.TempDir() + "/run"} // run root made on first emit
	r := s.NewEventReader()
	if evs, err := r.Next(); err != nil || len(evs) != 0 {
		t.Fatalf("empty log: %v %v", evs, err)
	}
	s.Emit("container", "create", "abc", map[string]string{"image": "busybox", "name": "x"})
	s.Emit("volume", "create", "v1", nil)
	evs, err := r.Next()
	if err != nil || len(evs) != 2 {
		t.Fatalf("after two emits: %v %v", evs, err)
	}
	if e := evs[0]; e.Type != "container" || e.Action != "create" || e.Actor.ID != "abc" || e.From != "busybox" || e.Status != "create" || e.Scope != "local" || e.TimeNano == 0 {
		t.Errorf("container event: %+v", e)
	}
	if e := evs[1]; e.ID != "" || e.Actor.Attributes == nil {
		t.Errorf("volume event (no legacy fields, empty attributes): %+v", e)
	}
	// A line still being written is read once it is whole.
	f, err := os.OpenFile(s.EventsPath(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"Type":"image","Action":"pull"`)
	if evs, _ := r.Next(); len(evs) != 0 {
		t.Errorf("a partial line was returned: %v", evs)
	}
	f.WriteString(`,"Actor":{"ID":"busybox:latest"}}` + "\nnot json\n")
	f.Close()
	if evs, _ := r.Next(); len(evs) != 1 || evs[0].Action != "pull" {
		t.Errorf("completed line (and a damaged one skipped): %v", evs)
	}
	// A follower that started at the end sees only new events, and one
	// whose file was rotated starts over in the new file.
	late := s.NewEventReader()
	late.SkipToEnd()
	os.Rename(s.EventsPath(), s.EventsPath()+".1")
	s.Emit("container", "start", "abc", nil)
	for name, rd := range map[string]*EventReader{"late": late, "first": r} {
		if evs, _ := rd.Next(); len(evs) != 1 || evs[0].Action != "start" {
			t.Errorf("%s reader after rotation: %v", name, evs)
		}
	}
}
