package store

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Lock is an flock(2) lock on a file. flock locks belong to the open file
// description, so they are released when the process dies, however it dies:
// a killed skiff never leaves the store locked.
type Lock struct{ f *os.File }

// LockFile takes an exclusive lock on path, creating the file if needed,
// blocking until it is free.
func LockFile(path string) (*Lock, error) { return lockFile(path, unix.LOCK_EX) }

// RLockFile takes a shared lock on path.
func RLockFile(path string) (*Lock, error) { return lockFile(path, unix.LOCK_SH) }

// TryLockFile takes an exclusive lock without waiting; ok is false when
// another process holds it.
func TryLockFile(path string) (l *Lock, ok bool, err error) {
	l, err = lockFile(path, unix.LOCK_EX|unix.LOCK_NB)
	if err == unix.EWOULDBLOCK {
		return nil, false, nil
	}
	return l, err == nil, err
}

func lockFile(path string, how int) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if err == unix.EWOULDBLOCK {
			return nil, err
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock. It is safe on a nil Lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
