package container

import (
	"bytes"
	"errors"
	"os"
	"sort"
	"strconv"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/store"
)

// The summary cache lets ps -a over many containers stat each record
// instead of opening, reading and decoding it: on this kind of VM a
// syscall costs microseconds, and open+read+close of a thousand records
// was half of ps's time. It is only a cache: <root>/ps.cache holds, for
// each container, the summary (summaryRecord, as JSON) of the record it
// was read from, with that record file's inode number, modification time
// (ns) and size. An entry is used only while the record file still has
// all three: records are replaced by rename, never rewritten in place, so
// any change gives a new inode and a new time (set to the nanosecond by
// store.WriteFileNoSync). A stale, missing, unreadable or
// damaged cache costs a read of the records, never a wrong listing, and
// any ps that read a record rewrites it (atomically; concurrent writers
// each write a whole, valid file).
const summaryCacheFile = "ps.cache"

// recordKey identifies one version of a record file.
type recordKey struct{ ino, mtime, size int64 }

// cachedSummary is one cache entry: the summary's JSON, for the record
// version key.
type cachedSummary struct {
	key  recordKey
	json []byte
}

func (s *Store) summaryCachePath() string { return s.st.Path(summaryCacheFile) }

// loadSummaryCache parses the cache: one line per container,
// "<id> <ino> <mtime> <size> <summary JSON>". Lines it cannot parse are
// left out (their records are read).
func loadSummaryCache(path string) map[string]cachedSummary {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	out := make(map[string]cachedSummary, bytes.Count(data, []byte{'\n'}))
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte{'\n'})
		data = rest
		var f [4][]byte
		ok := true
		for i := range f {
			if f[i], line, ok = bytes.Cut(line, []byte{' '}); !ok {
				break
			}
		}
		if !ok || !validID(string(f[0])) {
			continue
		}
		var n [3]int64
		for i := range n {
			if n[i], err = strconv.ParseInt(string(f[i+1]), 10, 64); err != nil {
				ok = false
			}
		}
		if ok {
			out[string(f[0])] = cachedSummary{recordKey{n[0], n[1], n[2]}, line}
		}
	}
	return out
}

// summaryReader reads containers' summaries through the cache and
// collects the entries for the next one.
type summaryReader struct {
	s       *Store
	cache   map[string]cachedSummary
	ids     []string
	fresh   []cachedSummary // by index in ids; json nil: none
	changed atomic.Bool
}

func (s *Store) newSummaryReader(ids []string) *summaryReader {
	return &summaryReader{s: s, cache: loadSummaryCache(s.summaryCachePath()), ids: ids, fresh: make([]cachedSummary, len(ids))}
}

// read is list's reader for the i-th id.
func (r *summaryReader) read(dirfd, i int) (*Container, error) {
	id := r.ids[i]
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, id+"/"+recordFile, &st, 0); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, store.NotFound("No such container: %s", id)
		}
		return nil, err
	}
	key := recordKey{int64(st.Ino), st.Mtim.Nano(), st.Size}
	var sum summaryRecord
	if e, ok := r.cache[id]; ok && e.key == key && unmarshalExact(e.json, &sum) == nil {
		r.fresh[i] = e
		return sum.container(), nil
	}
	r.changed.Store(true)
	// Read after the stat: if the record is replaced in between, the entry
	// pairs newer content with the older file's key, which the next ps
	// finds stale: it reads the record again.
	if err := r.s.readAt(dirfd, id, &sum); err != nil {
		return nil, err
	}
	if data, err := marshalRecord(&sum); err == nil {
		r.fresh[i] = cachedSummary{key, data}
	}
	return sum.container(), nil
}

// save rewrites the cache when a record was read or a container is gone,
// and only into a store of this process's user (ps may read another's).
func (r *summaryReader) save(dir *os.File) {
	n := 0
	for _, e := range r.fresh {
		if e.json != nil {
			n++
		}
	}
	if !r.changed.Load() && n == len(r.cache) {
		return
	}
	var st unix.Stat_t
	if unix.Fstat(int(dir.Fd()), &st) != nil || int(st.Uid) != os.Geteuid() {
		return
	}
	order := make([]int, 0, n)
	for i, e := range r.fresh {
		if e.json != nil {
			order = append(order, i)
		}
	}
	sort.Slice(order, func(a, b int) bool { return r.ids[order[a]] < r.ids[order[b]] })
	var buf bytes.Buffer
	for _, i := range order {
		e := r.fresh[i]
		buf.WriteString(r.ids[i])
		for _, v := range []int64{e.key.ino, e.key.mtime, e.key.size} {
			buf.WriteByte(' ')
			buf.WriteString(strconv.FormatInt(v, 10))
		}
		buf.WriteByte(' ')
		buf.Write(e.json)
		buf.WriteByte('\n')
	}
	store.WriteFileNoSync(r.s.summaryCachePath(), buf.Bytes(), 0o600) // best effort: a cache
}
