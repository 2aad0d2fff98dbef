package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/store"
)

// Store is the containers part of a skiff store: one directory per
// container under <root>/containers, a names index beside them, and the
// runtime dirs under <runroot>/containers. It caches nothing in memory:
// every call reads the disk, because other skiff processes change it
// concurrently (ps's summary cache on disk is checked against every
// record's file at every use: summary_cache.go).
type Store struct {
	st      *store.Store
	root    string // <root>/containers
	runRoot string // <runroot>/containers
}

const (
	recordFile = "container.json"
	lockFile   = "container.lock"
	namesDir   = "names"
	namesLock  = "names.lock"
)

// Open returns the container store inside st, creating its directories.
func Open(st *store.Store) (*Store, error) {
	root, err := st.Dir("containers")
	if err != nil {
		return nil, fmt.Errorf("open container store: %w", err)
	}
	runRoot, err := st.RunDir("containers")
	if err != nil {
		return nil, fmt.Errorf("open container store: %w", err)
	}
	return &Store{st: st, root: root, runRoot: runRoot}, nil
}

// Root is the persistent store this container store lives in.
func (s *Store) Root() *store.Store { return s.st }

// Dir is the container's persistent directory (record, userdata, overlay, log).
func (s *Store) Dir(id string) string { return filepath.Join(s.root, id) }

// RunDir is the container's runtime directory (sockets, pids, mount point).
func (s *Store) RunDir(id string) string { return filepath.Join(s.runRoot, id) }

func (s *Store) recordPath(id string) string { return filepath.Join(s.Dir(id), recordFile) }

// Create writes a new record and registers its name. The caller fills ID
// (NewID) and Name (GenerateName or the user's --name); Create only checks
// them, so a failed create leaves nothing behind.
func (s *Store) Create(c *Container) error {
	if !validID(c.ID) {
		return store.Invalid("invalid container id %q", c.ID)
	}
	if err := ValidateName(c.Name); err != nil {
		return err
	}
	if c.State.Status == "" {
		c.State.Status = StatusCreated
	}
	if err := os.Mkdir(s.Dir(c.ID), 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return store.Conflict("container id %s already exists", c.ID)
		}
		return fmt.Errorf("create container: %w", err)
	}
	data, err := encodeRecord(c)
	if err != nil {
		os.RemoveAll(s.Dir(c.ID))
		return err
	}
	// The name is claimed with the new record's own file (a hard link, no
	// new inode) before the record appears: readers never see a record
	// whose name is not its own.
	var claimErr error
	err = store.WriteFileNoSyncThen(s.recordPath(c.ID), data, 0o600, func(tmp string) error {
		claimErr = s.claimName(c.Name, c.ID, tmp)
		return claimErr
	})
	if err != nil {
		if claimErr == nil {
			s.releaseName(c.Name, c.ID)
			err = fmt.Errorf("create container: %w", err)
		}
		os.RemoveAll(s.Dir(c.ID))
		return err
	}
	s.Emit(c, "create", nil)
	return nil
}

// read loads a record without locking: writes are atomic renames, so a
// reader always sees a whole record.
func (s *Store) read(id string) (*Container, error) {
	var c Container
	p := s.recordPath(id)
	if err := recordErr(id, readRecordFile(store.AtCWD, p, p, &c, unmarshalRecord)); err != nil {
		return nil, err
	}
	return &c, nil
}

// readAt reads a record relative to dirfd, the open containers directory.
func (s *Store) readAt(dirfd int, id string, v any) error {
	name := id + "/" + recordFile
	return recordErr(id, readRecordFile(dirfd, name, s.root+"/"+name, v, unmarshalExact))
}

func recordErr(id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return store.NotFound("No such container: %s", id)
	}
	return err
}

// readFullAt is list's reader of whole records.
func (s *Store) readFullAt(dirfd int, id string) (*Container, error) {
	var c Container
	if err := s.readAt(dirfd, id, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Get loads one record by full id, reconciled.
func (s *Store) Get(id string) (*Container, error) {
	c, err := s.read(id)
	if err != nil {
		return nil, err
	}
	s.reconcile(c)
	return c, nil
}

// Lookup resolves ref as Docker does: a full id, then a name (with or
// without the leading "/"), then a unique id prefix.
func (s *Store) Lookup(ref string) (*Container, error) {
	id, err := s.Resolve(ref)
	if err != nil {
		return nil, err
	}
	c, err := s.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, store.NotFound("No such container: %s", ref)
	}
	return c, err
}

// Resolve turns a reference into a full id without reading the record.
func (s *Store) Resolve(ref string) (string, error) {
	if ref == "" {
		return "", store.Invalid("container name or id is empty")
	}
	if validID(ref) && exists(s.recordPath(ref)) {
		return ref, nil
	}
	if id, ok := s.nameID(strings.TrimPrefix(ref, "/")); ok && exists(s.recordPath(id)) {
		return id, nil
	}
	if isHex(ref) {
		ids, err := s.IDs()
		if err != nil {
			return "", err
		}
		var match []string
		for _, id := range ids {
			if strings.HasPrefix(id, ref) {
				match = append(match, id)
			}
		}
		if len(match) == 1 {
			return match[0], nil
		}
		if len(match) > 1 {
			return "", store.Invalid("multiple IDs found with provided prefix: %s", ref)
		}
	}
	return "", store.NotFound("No such container: %s", ref)
}

// IDs lists the ids of every container with a record, in no order.
func (s *Store) IDs() ([]string, error) {
	d, err := os.Open(s.root)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	defer d.Close()
	return s.idsIn(d)
}

func (s *Store) idsIn(d *os.File) ([]string, error) {
	ents, err := d.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	ids := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() && validID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// List returns every container, newest first, reconciled. It takes no
// lock, so it never waits on a running operation; a container removed
// while listing is simply left out. Records are decoded in parallel:
// JSON decoding is most of ps's time with many containers.
func (s *Store) List() ([]*Container, error) { return s.list(false) }

// ListSummaries is List with only the fields ps shows and filters on
// filled in (summaryRecord): about half the decoding work and allocations
// of full records, and, for records unchanged since the last listing, a
// stat instead of a read (summary_cache.go). The records it returns are
// for display; a caller that updates a container reads it in full (Update
// does).
func (s *Store) ListSummaries() ([]*Container, error) { return s.list(true) }

func (s *Store) list(summaries bool) ([]*Container, error) {
	d, err := os.Open(s.root)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	defer d.Close()
	ids, err := s.idsIn(d)
	if err != nil {
		return nil, err
	}
	dirfd := int(d.Fd())
	read := func(i int) (*Container, error) { return s.readFullAt(dirfd, ids[i]) }
	var sums *summaryReader
	if summaries {
		sums = s.newSummaryReader(ids)
		read = func(i int) (*Container, error) { return sums.read(dirfd, i) }
	}
	recs := make([]*Container, len(ids))
	errs := make([]error, len(ids))
	workers := min(runtime.GOMAXPROCS(0), len(ids)/64+1)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(ids); i += workers {
				recs[i], errs[i] = read(i)
			}
		}(w)
	}
	wg.Wait()
	if sums != nil {
		sums.save(d)
	}
	out := make([]*Container, 0, len(ids))
	for i, c := range recs {
		if err := errs[i]; err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue // being created or removed
			}
			// An unreadable record must not break ps for every other
			// container: show it as dead, so rm -f can clear it.
			c = &Container{ID: ids[i], State: State{Status: StatusDead, Error: err.Error()}}
			if fi, err := os.Stat(s.Dir(ids[i])); err == nil {
				c.Created = fi.ModTime()
			}
		}
		s.reconcile(c)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Lock takes the container's exclusive lock, for callers that need to hold
// it across more than one Update (e.g. start: check state, spawn, record).
func (s *Store) Lock(id string) (*store.Lock, error) {
	if !exists(s.Dir(id)) {
		return nil, store.NotFound("No such container: %s", id)
	}
	l, err := store.LockFile(filepath.Join(s.Dir(id), lockFile))
	if err != nil {
		return nil, err
	}
	return s.checkLocked(id, l)
}

// TryLock is Lock without waiting: ok is false when someone holds it.
func (s *Store) TryLock(id string) (l *store.Lock, ok bool, err error) {
	if !exists(s.Dir(id)) {
		return nil, false, store.NotFound("No such container: %s", id)
	}
	l, ok, err = store.TryLockFile(filepath.Join(s.Dir(id), lockFile))
	if err != nil || !ok {
		return nil, ok, err
	}
	l, err = s.checkLocked(id, l)
	return l, err == nil, err
}

// checkLocked makes sure the container still exists once its lock is
// held: a remover may have won the race, and taking the lock recreated
// its directory just to hold the lock file; that directory goes again.
func (s *Store) checkLocked(id string, l *store.Lock) (*store.Lock, error) {
	if exists(s.recordPath(id)) {
		return l, nil
	}
	if !exists(filepath.Join(s.Dir(id), "overlay")) { // not a create in progress
		os.Remove(filepath.Join(s.Dir(id), lockFile))
		os.Remove(s.Dir(id)) // only if empty
	}
	l.Unlock()
	return nil, store.NotFound("No such container: %s", id)
}

// Update reads the record under the container's lock, applies fn, and
// writes the result atomically. When fn fails nothing is written. The
// record fn sees is reconciled, so a dead "running" container reads exited.
func (s *Store) Update(id string, fn func(c *Container) error) (*Container, error) {
	l, err := s.Lock(id)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	return s.UpdateLocked(id, fn)
}

// UpdateLocked is Update for a caller already holding Lock(id).
func (s *Store) UpdateLocked(id string, fn func(c *Container) error) (*Container, error) {
	c, err := s.read(id)
	if err != nil {
		return nil, err
	}
	if old := c.State; Reconcile(c) {
		reapOrphan(c, old)
	}
	if err := fn(c); err != nil {
		return nil, err
	}
	if err := writeRecord(s.recordPath(id), c); err != nil {
		return nil, fmt.Errorf("update container %s: %w", shortID(id), err)
	}
	return c, nil
}

// Remove deletes the record, its name and its directories. It does not
// check the state: callers decide with CanRemove under the lock first.
func (s *Store) Remove(id string) error {
	l, err := s.Lock(id)
	if err != nil {
		return err
	}
	defer l.Unlock()
	return s.RemoveLocked(id)
}

// RemoveLocked is Remove for a caller already holding Lock(id).
func (s *Store) RemoveLocked(id string) error {
	// An unreadable record is removed too; its name link, if any, is
	// left stale and reused by the next claimer.
	c, _ := s.read(id)
	// The record goes first: once it is gone, readers no longer see the
	// container, whatever is left of its directories.
	if err := os.Remove(s.recordPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove container %s: %w", shortID(id), err)
	}
	if c != nil {
		if err := s.releaseName(c.Name, id); err != nil {
			return err
		}
	} else {
		c = &Container{ID: id}
	}
	cleanupRuntime(c)
	run := s.RunDir(id)
	// The rootfs is mounted inside the container's own mount namespace,
	// but a leftover mount on the host must not let RemoveAll descend
	// into the image layers.
	unix.Unmount(filepath.Join(run, "merged"), unix.MNT_DETACH)
	if err := os.RemoveAll(run); err != nil {
		return fmt.Errorf("remove container %s: %w", shortID(id), err)
	}
	if err := os.RemoveAll(s.Dir(id)); err != nil {
		return fmt.Errorf("remove container %s: %w", shortID(id), err)
	}
	s.Emit(c, "destroy", nil)
	return nil
}

// Rename changes a container's name in the index and the record.
func (s *Store) Rename(id, name string) error {
	name = strings.TrimPrefix(name, "/")
	if err := ValidateName(name); err != nil {
		return err
	}
	l, err := s.Lock(id)
	if err != nil {
		return err
	}
	defer l.Unlock()
	c, err := s.read(id)
	if err != nil {
		return err
	}
	if c.Name == name {
		return store.Invalid("Renaming a container with the same name as its current name")
	}
	if err := s.claimName(name, id, s.recordPath(id)); err != nil {
		return err
	}
	old := c.Name
	c, err = s.UpdateLocked(id, func(c *Container) error { c.Name = name; return nil })
	if err != nil {
		s.releaseName(name, id)
		return err
	}
	if err := s.releaseName(old, id); err != nil {
		return err
	}
	s.Emit(c, "rename", map[string]string{"oldName": "/" + old})
	return nil
}

// NameTaken reports whether name is registered to a live container.
func (s *Store) NameTaken(name string) bool {
	id, ok := s.nameID(name)
	return ok && exists(s.Dir(id))
}

// The names index is a directory of hard links, names/<name>, each to a
// version of its container's record (the one current when the name was
// claimed; later updates rename new files over container.json): link(2)
// adds a name atomically and fails if it exists, so claiming a name takes
// no global lock and no read-modify-write of a shared file, and, unlike
// the symlinks (names/<name> -> <id>) of stores made before, no new inode,
// which cost create 0.05-1 ms on ext4. The id is the linked record's.
func (s *Store) namePath(name string) string { return filepath.Join(s.root, namesDir, name) }

func (s *Store) nameID(name string) (string, bool) {
	if ValidateName(name) != nil {
		return "", false
	}
	id, err := readNameID(s.namePath(name))
	return id, err == nil
}

// readNameID reads the id a names/ entry registers: a hard link to a
// record, or a symlink to the id (older stores).
func readNameID(p string) (string, error) {
	id, err := os.Readlink(p)
	if err == nil || !errors.Is(err, syscall.EINVAL) { // EINVAL: not a symlink
		return id, err
	}
	var r struct {
		ID string `json:"Id"`
	}
	if err := readRecordFile(store.AtCWD, p, p, &r, unmarshalExact); err != nil {
		return "", err
	}
	if !validID(r.ID) {
		return "", fmt.Errorf("name %s: no container id", filepath.Base(p))
	}
	return r.ID, nil
}

// claimName registers name for id, linking record, a record of id's (the
// new one, not yet in place, or the current one). A name of a container
// whose directory is gone (a crash between steps) is stale and replaced,
// under names.lock so two claimers cannot both replace it.
func (s *Store) claimName(name, id, record string) error {
	if err := os.MkdirAll(filepath.Join(s.root, namesDir), 0o700); err != nil {
		return fmt.Errorf("register name: %w", err)
	}
	p := s.namePath(name)
	for attempt := 0; ; attempt++ {
		err := os.Link(record, p)
		if err == nil {
			return nil
		}
		if !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("register name %s: %w", name, err)
		}
		other, rerr := readNameID(p)
		if rerr == nil && other == id {
			return nil
		}
		if rerr == nil && exists(s.Dir(other)) || attempt > 0 {
			return store.Conflict("Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", name, other)
		}
		if err := s.dropStaleName(name, other); err != nil {
			return err
		}
	}
}

func (s *Store) dropStaleName(name, stale string) error {
	l, err := store.LockFile(filepath.Join(s.root, namesLock))
	if err != nil {
		return err
	}
	defer l.Unlock()
	if cur, err := readNameID(s.namePath(name)); err == nil && cur == stale {
		os.Remove(s.namePath(name))
	}
	return nil
}

// releaseName removes name if it still points at id. A claimer cannot
// slip in between: it sees id's directory, which outlives the name.
func (s *Store) releaseName(name, id string) error {
	if cur, ok := s.nameID(name); ok && cur == id {
		if err := os.Remove(s.namePath(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("release name %s: %w", name, err)
		}
	}
	return nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// ShortID is the 12-hex form Docker prints.
func ShortID(id string) string { return shortID(id) }

// writeRecord writes a record atomically, without fsync (state is
// reconciled on read; see store.WriteFileNoSync), as compact JSON: ps
// decodes every record, and whitespace is a good part of the bytes it
// would scan.
func writeRecord(path string, c *Container) error {
	data, err := encodeRecord(c)
	if err != nil {
		return err
	}
	return store.WriteFileNoSync(path, data, 0o600)
}

func encodeRecord(c *Container) ([]byte, error) {
	data, err := marshalRecord(c)
	if err != nil {
		return nil, fmt.Errorf("encode container %s: %w", shortID(c.ID), err)
	}
	return append(data, '\n'), nil
}
