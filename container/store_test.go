package container

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/skiff-dev/skiff/store"
)

func testStore(t *testing.T) *Store {
	t.Helper()
	st, err := store.Open(t.TempDir(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cs, err := Open(st)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// mustCreate creates a container with the given id (hex) and name.
func mustCreate(t *testing.T, cs *Store, id, name string) *Container {
	t.Helper()
	c := &Container{ID: id, Name: name, Created: time.Now()}
	if err := cs.Create(c); err != nil {
		t.Fatalf("Create(%s, %s): %v", id[:12], name, err)
	}
	return c
}

func hexID(prefix string) string { return prefix + strings.Repeat("0", 64-len(prefix)) }

func TestLookup(t *testing.T) {
	cs := testStore(t)
	a := mustCreate(t, cs, hexID("abc1"), "web")
	mustCreate(t, cs, hexID("abc2"), "db")
	mustCreate(t, cs, hexID("def"), "abc1") // a name that looks like another's prefix
	tests := []struct {
		ref    string
		wantID string
		kind   error
	}{
		{a.ID, a.ID, nil},
		{"web", a.ID, nil},
		{"/web", a.ID, nil},
		{"abc1", hexID("def"), nil}, // names win over prefixes, as in Docker
		{"abc2", hexID("abc2"), nil},
		{"de", hexID("def"), nil},
		{"abc", "", store.ErrInvalid}, // ambiguous prefix
		{"nosuch", "", store.ErrNotFound},
		{"fff", "", store.ErrNotFound},
		{"", "", store.ErrInvalid},
	}
	for _, tt := range tests {
		c, err := cs.Lookup(tt.ref)
		if tt.kind != nil {
			if !errors.Is(err, tt.kind) {
				t.Errorf("Lookup(%q) err = %v, want %v", tt.ref, err, tt.kind)
			}
			continue
		}
		if err != nil || c.ID != tt.wantID {
			t.Errorf("Lookup(%q) = %v, %v; want %s", tt.ref, c, err, tt.wantID[:12])
		}
	}
	if _, err := cs.Lookup("nosuch"); err == nil || err.Error() != "No such container: nosuch" {
		t.Errorf("not-found message = %v", err)
	}
	if _, err := cs.Lookup("abc"); err == nil || !strings.Contains(err.Error(), "multiple IDs found with provided prefix: abc") {
		t.Errorf("ambiguous message = %v", err)
	}
}

func TestCreateConflicts(t *testing.T) {
	cs := testStore(t)
	a := mustCreate(t, cs, hexID("a1"), "web")
	err := cs.Create(&Container{ID: hexID("a2"), Name: "web"})
	if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), `The container name "/web" is already in use by container "`+a.ID+`"`) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := os.Stat(cs.Dir(hexID("a2"))); !os.IsNotExist(err) {
		t.Errorf("failed create left its directory: %v", err)
	}
	if err := cs.Create(&Container{ID: a.ID, Name: "other"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate id: %v", err)
	}
	if err := cs.Create(&Container{ID: hexID("a3"), Name: "bad name"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad name: %v", err)
	}
	if err := cs.Create(&Container{ID: "short", Name: "ok1"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad id: %v", err)
	}
	// The name is free again once its container is removed.
	if err := cs.Remove(a.ID); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, cs, hexID("a4"), "web")
	if _, err := cs.Lookup(a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removed container still found: %v", err)
	}
}

func TestStaleNameIsReused(t *testing.T) {
	cs := testStore(t)
	a := mustCreate(t, cs, hexID("b1"), "web")
	// A crash after the name was claimed but before the record: the
	// directory is gone, the link remains.
	if err := os.RemoveAll(cs.Dir(a.ID)); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, cs, hexID("b2"), "web")
	c, err := cs.Lookup("web")
	if err != nil || c.ID != hexID("b2") {
		t.Fatalf("Lookup(web) = %v, %v", c, err)
	}
}

func TestRenameAndUpdate(t *testing.T) {
	cs := testStore(t)
	a := mustCreate(t, cs, hexID("c1"), "web")
	mustCreate(t, cs, hexID("c2"), "db")
	if err := cs.Rename(a.ID, "db"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("rename onto a used name: %v", err)
	}
	if err := cs.Rename(a.ID, "web"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("rename to the same name: %v", err)
	}
	if err := cs.Rename(a.ID, "front"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Lookup("web"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old name still resolves: %v", err)
	}
	c, err := cs.Lookup("front")
	if err != nil || c.ID != a.ID || c.Name != "front" {
		t.Fatalf("Lookup(front) = %+v, %v", c, err)
	}
	got, err := cs.Update(a.ID, func(c *Container) error { c.RestartCount = 3; return nil })
	if err != nil || got.RestartCount != 3 {
		t.Fatalf("Update = %v, %v", got, err)
	}
	_, err = cs.Update(a.ID, func(c *Container) error { c.RestartCount = 9; return errors.New("no") })
	if err == nil {
		t.Fatal("Update ignored fn's error")
	}
	if c, _ := cs.Lookup(a.ID); c.RestartCount != 3 {
		t.Errorf("failed Update wrote the record: RestartCount %d", c.RestartCount)
	}
}

func TestListReconciles(t *testing.T) {
	cs := testStore(t)
	self := os.Getpid()
	selfStart, err := ProcStartTime(self)
	if err != nil {
		t.Fatal(err)
	}
	live := mustCreate(t, cs, hexID("d1"), "live")
	dead := mustCreate(t, cs, hexID("d2"), "dead")
	reused := mustCreate(t, cs, hexID("d3"), "reused")
	set := func(id string, st State) {
		if _, err := cs.Update(id, func(c *Container) error { c.State = st; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	set(live.ID, State{Status: StatusRunning, SupervisorPid: self, SupervisorStart: selfStart})
	set(dead.ID, State{Status: StatusRunning, SupervisorPid: 1 << 30, Pid: 1<<30 + 1, StartedAt: time.Now()})
	// Our pid with another start time: a reused pid is not our supervisor.
	set(reused.ID, State{Status: StatusRunning, SupervisorPid: self, SupervisorStart: selfStart + 1, ExitCode: 3})
	list, err := cs.List()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]State{}
	for _, c := range list {
		got[c.Name] = c.State
	}
	if got["live"].Status != StatusRunning {
		t.Errorf("live container: %+v", got["live"])
	}
	if s := got["dead"]; s.Status != StatusExited || s.ExitCode != ExitUnknown || s.FinishedAt.IsZero() || s.SupervisorPid != 0 {
		t.Errorf("dead container: %+v", s)
	}
	if s := got["reused"]; s.Status != StatusExited || s.ExitCode != 3 {
		t.Errorf("reused-pid container: %+v", s)
	}
	// The correction was written back.
	var rec Container
	if err := store.ReadJSON(cs.recordPath(dead.ID), &rec); err != nil || rec.State.Status != StatusExited {
		t.Errorf("reconciled state not persisted: %+v %v", rec.State, err)
	}
}

// TestReconcileKillsOrphan: a container whose supervisor died but whose
// init still runs is reported exited (137) and the init is killed, so
// nothing runs that nothing supervises.
func TestReconcileKillsOrphan(t *testing.T) {
	cs := testStore(t)
	init := exec.Command("sleep", "60")
	if err := init.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- init.Wait() }()
	defer init.Process.Kill()
	start, err := ProcStartTime(init.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	c := mustCreate(t, cs, hexID("e1"), "orphan")
	if _, err := cs.Update(c.ID, func(c *Container) error {
		c.State = State{Status: StatusRunning, SupervisorPid: 1 << 30, Pid: init.Process.Pid, PidStart: start}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := cs.Lookup("orphan")
	if err != nil {
		t.Fatal(err)
	}
	if got.State.Status != StatusExited || got.State.ExitCode != 137 || got.State.Pid != 0 {
		t.Errorf("orphaned container: %+v", got.State)
	}
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Error("the orphaned init was not killed")
	}
}

// TestNameLinks: names are hard links to a record of their container, read
// back as its id; a store's older symlink names (-> id) still resolve and
// still block a second claim.
func TestNameLinks(t *testing.T) {
	cs := testStore(t)
	c := mustCreate(t, cs, hexID("a1"), "web")
	fi, err := os.Lstat(cs.namePath("web"))
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("names/web: %v, %v; want a hard link to the record", fi, err)
	}
	if _, err := cs.Update(c.ID, func(c *Container) error { c.State.ExitCode = 7; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := cs.Lookup("web"); err != nil || got.ID != c.ID || got.State.ExitCode != 7 {
		t.Fatalf("Lookup(web) after an update = %v, %v", got, err)
	}
	old := mustCreate(t, cs, hexID("b2"), "tmp")
	os.Remove(cs.namePath("tmp"))
	if err := os.Symlink(old.ID, cs.namePath("old")); err != nil {
		t.Fatal(err)
	}
	if got, err := cs.Lookup("old"); err != nil || got.ID != old.ID {
		t.Fatalf("Lookup(old) through a symlink name = %v, %v", got, err)
	}
	err = cs.Create(&Container{ID: hexID("c3"), Name: "old", Created: time.Now()})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("claiming a symlinked name: %v, want a conflict", err)
	}
	if err := cs.Rename(c.ID, "api"); err != nil {
		t.Fatal(err)
	}
	if cs.NameTaken("web") || !cs.NameTaken("api") {
		t.Errorf("after rename: web taken %v, api taken %v", cs.NameTaken("web"), cs.NameTaken("api"))
	}
	if err := cs.Remove(c.ID); err != nil {
		t.Fatal(err)
	}
	if cs.NameTaken("api") {
		t.Error("api still taken after rm")
	}
}
