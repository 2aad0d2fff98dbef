package image

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skiff-dev/skiff/store"
)

// transferTmp is a private scratch directory inside the store, on the same
// file system as the blobs, for spooled archives and compressed layers.
// It holds a lock file flock'd for as long as the transfer runs, so the
// next transfer can tell a dead one's directory (SIGKILL leaves it behind)
// and remove it. done removes the directory.
func (s *Store) transferTmp() (dir string, done func(), err error) {
	parent, err := s.st.Dir("tmp")
	if err != nil {
		return "", nil, err
	}
	sweepTransfers(parent)
	if dir, err = os.MkdirTemp(parent, "transfer-"); err != nil {
		return "", nil, err
	}
	l, err := store.LockFile(filepath.Join(dir, transferLock))
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir); l.Unlock() }, nil
}

const transferLock = ".lock"

// sweepTransfers removes the scratch directories of transfers that died:
// their lock is free. A lock file younger than staleLock may belong to a
// transfer that has created it but not locked it yet; a directory with no
// lock file at all is left for an hour.
func sweepTransfers(parent string) {
	const staleLock, staleDir = 2 * time.Second, time.Hour
	ents, _ := os.ReadDir(parent)
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "transfer-") {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		info, err := os.Stat(filepath.Join(dir, transferLock))
		if err != nil {
			if di, err := e.Info(); err == nil && time.Since(di.ModTime()) > staleDir {
				os.RemoveAll(dir)
			}
			continue
		}
		if time.Since(info.ModTime()) < staleLock {
			continue
		}
		l, ok, err := store.TryLockFile(filepath.Join(dir, transferLock))
		if err != nil || !ok {
			continue
		}
		os.RemoveAll(dir)
		l.Unlock()
	}
}
