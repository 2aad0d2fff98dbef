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
func WriteFileNoSync(path string, data []byte, perm os.FileMode) error {
	return writeAtomic(path, perm, false, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFrom is WriteFile for content produced by a writer function.
func WriteFrom(path string, perm os.FileMode, fill func(io.Writer) error) error {
	return writeAtomic(path, perm, true, fill)
}

func writeAtomic(path string, perm os.FileMode, durable bool, fill func(io.Writer) error) error {
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
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	data, err := readSmall(path, (*bp)[:0])
	*bp = data[:0]
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
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
// of the time ps -a spent reading a thousand small records.
func readSmall(path string, buf []byte) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return buf, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return buf, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
