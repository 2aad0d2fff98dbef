package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/skiff-dev/skiff/store"
)

// SumEntry is one file a COPY or ADD takes: its name as the copy sees it
// (relative to the source), where it is on disk, and its lstat.
type SumEntry struct {
	Name string
	Path string
	Info fs.FileInfo
}

// StatCache remembers file content hashes by what lstat says of the file
// (size, mtime, ctime, inode, mode), so a cached rebuild does not re-read
// unchanged files. A file whose stat differs is hashed again: the content
// hash stays the truth, the stat only the shortcut to it.
type StatCache struct {
	path    string
	Entries map[string]statEntry `json:"entries"`
	dirty   bool
}

type statEntry struct {
	Stat string `json:"stat"`
	Hash string `json:"hash"`
}

// StatCache loads the file-hash cache for one build context directory.
func (c *BuildCache) StatCache(contextDir string) *StatCache {
	abs, err := filepath.Abs(contextDir)
	if err != nil {
		abs = contextDir
	}
	sum := sha256.Sum256([]byte(abs))
	sc := &StatCache{path: filepath.Join(c.dir, "stat", hex.EncodeToString(sum[:16])+".json")}
	if err := store.ReadJSON(sc.path, sc); err != nil || sc.Entries == nil {
		sc.Entries = map[string]statEntry{}
	}
	return sc
}

// Save writes the cache back when it learned something.
func (sc *StatCache) Save() error {
	if sc == nil || !sc.dirty || sc.path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(sc.path), 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	return writeNoSync(sc.path, data)
}

// statString is the part of a stat that any change of a file's content or
// metadata moves (ctime moves on every write, chmod and chown).
func statString(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d:%d:%d.%d:%d.%d:%o", st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec, st.Mode)
}

// FileHash is the sha256 of a regular file's content, through the cache.
func (sc *StatCache) FileHash(path string, fi fs.FileInfo) (string, error) {
	key := statString(fi)
	if sc != nil && key != "" {
		if e, ok := sc.Entries[path]; ok && e.Stat == key {
			return e.Hash, nil
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if sc != nil && key != "" {
		sc.Entries[path] = statEntry{Stat: key, Hash: sum}
		sc.dirty = true
	}
	return sum, nil
}

// Checksum is the digest of a list of files as a copy sees them: each
// one's name, type and permission bits, owner, and content (or link
// target). Times are left out, as Docker's builder leaves them out.
func (sc *StatCache) Checksum(entries []SumEntry) (string, error) {
	h := sha256.New()
	for _, e := range entries {
		uid, gid := owner(e.Info)
		content := ""
		switch {
		case e.Info.Mode().IsRegular():
			sum, err := sc.FileHash(e.Path, e.Info)
			if err != nil {
				return "", err
			}
			content = sum
		case e.Info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(e.Path)
			if err != nil {
				return "", err
			}
			content = "->" + target
		}
		fmt.Fprintf(h, "%s\x00%s\x00%d:%d\x00%s\n", strconv.Quote(e.Name), e.Info.Mode().String(), uid, gid, content)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func owner(fi fs.FileInfo) (int, int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return 0, 0
}
