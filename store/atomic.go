package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// WriteFile writes data to path so that a reader sees either the old or the
// new content, never a mix: temp file in the same directory, fsync, rename,
// then fsync of the directory so the rename itself survives a crash.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return WriteFrom(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFileNoSync is WriteFile without the fsyncs: still atomic (temp
// file, rename), so a reader never sees half a file, but a crash of the
// machine may lose the latest write or leave the file empty. That is the
// policy for records whose state is reconciled on read anyway (container
// records: a dead supervisor reads as exited, an unreadable record as dead
// and removable), where two fsyncs were most of create's and run's time.
// Blobs, layers and the image index keep WriteFile: losing them loses data.
// The file gets a modification time to the nanosecond (see writeAtomicThen).
func WriteFileNoSync(path string, data []byte, perm os.FileMode) error {
	return writeAtomic(path, perm, false, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFileNoSyncThen is WriteFileNoSync that calls before(tmp) with the
// complete temp file before renaming it into place, and gives up (the
// file never appears at path) when before fails: a caller can hard-link
// the new file elsewhere first (container names).
func WriteFileNoSyncThen(path string, data []byte, perm os.FileMode, before func(tmp string) error) error {
	return writeAtomicThen(path, perm, false, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, before)
}

// WriteFrom is WriteFile for content produced by a writer function.
func WriteFrom(path string, perm os.FileMode, fill func(io.Writer) error) error {
	return writeAtomic(path, perm, true, fill)
}

func writeAtomic(path string, perm os.FileMode, durable bool, fill func(io.Writer) error) error {
	return writeAtomicThen(path, perm, durable, fill, nil)
}

func writeAtomicThen(path string, perm os.FileMode, durable bool, fill func(io.Writer) error, before func(tmp string) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if durable {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if !durable {
		// A modification time to the nanosecond, not the kernel's clock
		// tick (4 ms here): with its new inode, it tells this version of
		// a record from every other, which the ps cache relies on.
		now := syscall.NsecToTimespec(time.Now().UnixNano())
		if err := syscall.UtimesNano(tmp, []syscall.Timespec{now, now}); err != nil {
			return err
		}
	}
	if before != nil {
		if err := before(tmp); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if !durable {
		return nil
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WriteJSON atomically writes v as indented JSON, mode 0600.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return WriteFile(path, append(data, '\n'), 0o600)
}

// ReadJSON decodes the JSON file at path into v. A missing file is reported
// as ErrNotFound so callers can tell "absent" from "broken".
func ReadJSON(path string, v any) error {
	return ReadDecode(AtCWD, path, path, func(data []byte) error { return json.Unmarshal(data, v) })
}

// AtCWD is AT_FDCWD for ReadDecode: name is a path relative to the
// working directory (or absolute).
const AtCWD = -0x64

// ReadDecode reads the small file name, relative to the open directory
// dirfd (AtCWD for a plain path), into a pooled buffer and hands it to
// decode, which must copy what it keeps. path names the file in messages.
// Callers that read many records of one directory (ps -a) pass the
// directory's fd, so each open walks two path components instead of the
// whole root, and their own decoder (container records use a faster JSON
// implementation than this stdlib-only package may import).
func ReadDecode(dirfd int, name, path string, decode func([]byte) error) error {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	data, err := readSmall(dirfd, name, (*bp)[:0])
	*bp = data[:0]
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	if err != nil {
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			pe.Path = path // the whole path, not the one relative to dirfd
		}
		return err
	}
	if err := decode(data); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// readBufs holds read buffers for ReadJSON: the decoder copies what it
// keeps, so ps reading a thousand records reuses a few buffers instead of
// faulting in a fresh one per record.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// readSmall reads a whole file into buf with bare open/read/close: it skips
// os.File's fstat, poller registration and finalizer, which were a third
// of the time ps -a spent reading a thousand small records. A read that
// returns less than it was offered is taken as the end of the file, with
// no second read to see 0: a read of a regular file returns short only at
// its end (records are written by rename, never appended to).
func readSmall(dirfd int, name string, buf []byte) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Openat(dirfd, name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return buf, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer syscall.Close(fd)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		want := cap(buf) - len(buf)
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return buf, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		buf = buf[:len(buf)+n]
		if n < want {
			return buf, nil
		}
	}
}
