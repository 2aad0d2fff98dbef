package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/skiff-dev/skiff/store"
)

// Volume is a named (or anonymous) local volume: a directory under
// <root>/volumes/<name>/_data, shaped as Docker's volume inspect shows it.
type Volume struct {
	CreatedAt  time.Time         `json:"CreatedAt"`
	Driver     string            `json:"Driver"`
	Labels     map[string]string `json:"Labels"`
	Mountpoint string            `json:"Mountpoint"`
	Name       string            `json:"Name"`
	Options    map[string]string `json:"Options"`
	Scope      string            `json:"Scope"`
	Anonymous  bool              `json:"Anonymous,omitempty"`
}

const volumeFile = "volume.json"

func (s *Store) volumesDir() string { return s.st.Path("volumes") }

// VolumePath is the data directory of volume name.
func (s *Store) VolumePath(name string) string {
	return filepath.Join(s.volumesDir(), name, "_data")
}

func (s *Store) lockVolumes() (*store.Lock, error) {
	return store.LockFile(filepath.Join(s.volumesDir(), "volumes.lock"))
}

// CreateVolume creates volume name (a random 64-hex name when empty), or
// returns the existing one, as Docker's volume create does.
func (s *Store) CreateVolume(name string, labels map[string]string, anonymous bool) (*Volume, error) {
	if name == "" {
		name = NewID()
		anonymous = true
	}
	if !validName(name) {
		return nil, store.Invalid("create %s: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed", name, name)
	}
	l, err := s.lockVolumes()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	if v, err := s.Volume(name); err == nil {
		return v, nil
	}
	v := &Volume{
		CreatedAt: time.Now().UTC().Truncate(time.Second), Driver: "local", Labels: labels,
		Mountpoint: s.VolumePath(name), Name: name, Options: map[string]string{},
		Scope: "local", Anonymous: anonymous,
	}
	if v.Labels == nil {
		v.Labels = map[string]string{}
	}
	// The data dir is 0755 like Docker's: the container's users must
	// reach it; the store root above it stays private.
	if err := os.MkdirAll(v.Mountpoint, 0o755); err != nil {
		return nil, fmt.Errorf("create volume %s: %w", name, err)
	}
	if err := store.WriteJSON(filepath.Join(s.volumesDir(), name, volumeFile), v); err != nil {
		os.RemoveAll(filepath.Join(s.volumesDir(), name))
		return nil, fmt.Errorf("create volume %s: %w", name, err)
	}
	s.st.Emit("volume", "create", name, map[string]string{"driver": "local"})
	return v, nil
}

// Volume loads one volume.
func (s *Store) Volume(name string) (*Volume, error) {
	var v Volume
	if !validName(name) {
		return nil, store.NotFound("No such volume: %s", name)
	}
	if err := store.ReadJSON(filepath.Join(s.volumesDir(), name, volumeFile), &v); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, store.NotFound("No such volume: %s", name)
		}
		return nil, err
	}
	return &v, nil
}

// ListVolumes returns every volume, by name.
func (s *Store) ListVolumes() ([]*Volume, error) {
	ents, err := os.ReadDir(s.volumesDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Volume
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if v, err := s.Volume(e.Name()); err == nil {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// VolumeUsers returns the ids of containers that mount volume name.
func (s *Store) VolumeUsers(name string) ([]string, error) {
	cs, err := s.List()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range cs {
		for _, m := range c.Mounts {
			if m.Type == MountVolume && m.Name == name {
				ids = append(ids, c.ID)
				break
			}
		}
	}
	return ids, nil
}

// RemoveVolume deletes a volume no container uses (force does not
// override that, as in Docker; it only ignores a missing volume).
// It returns the bytes freed.
func (s *Store) RemoveVolume(name string, force bool) (int64, error) {
	l, err := s.lockVolumes()
	if err != nil {
		return 0, err
	}
	defer l.Unlock()
	v, err := s.Volume(name)
	if err != nil {
		if force && errors.Is(err, store.ErrNotFound) {
			return 0, nil
		}
		return 0, err
	}
	users, err := s.VolumeUsers(name)
	if err != nil {
		return 0, err
	}
	if len(users) > 0 {
		return 0, store.Conflict("remove %s: volume is in use - %v", name, users)
	}
	size := DirSize(v.Mountpoint)
	if err := os.RemoveAll(filepath.Join(s.volumesDir(), name)); err != nil {
		return 0, fmt.Errorf("remove volume %s: %w", name, err)
	}
	s.st.Emit("volume", "destroy", name, map[string]string{"driver": "local"})
	return size, nil
}

// RemoveAnonymousVolumes deletes the anonymous volumes c mounts, as rm -v
// and --rm do; one that another container still mounts (--volumes-from)
// stays.
func (s *Store) RemoveAnonymousVolumes(c *Container) {
	for _, m := range c.Mounts {
		if m.Type == MountVolume && m.Anonymous {
			s.RemoveVolume(m.Name, true)
		}
	}
}

// DirSize is the total size of the regular files under dir.
func DirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
