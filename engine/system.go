package engine

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/store"
)

// PruneReport is what a prune removed, for Docker's "Deleted ..." output.
type PruneReport struct {
	Containers []string
	Images     []string // Docker's lines: "untagged: ...", "deleted: sha256:..."
	Volumes    []string
	Space      int64
}

// ContainerPrune removes every container that is not running and that f
// lets go. One whose lock is held (being started or removed right now) is
// left alone.
func (e *Engine) ContainerPrune(f PruneFilter) (*PruneReport, error) {
	cs, list, err := e.listContainers()
	if err != nil {
		return nil, err
	}
	r := &PruneReport{}
	for _, c := range list {
		if c.IsRunning() || !f.Match(c.Created, c.Config.Labels) {
			continue
		}
		if size, ok := pruneOne(cs, c.ID); ok {
			r.Containers = append(r.Containers, c.ID)
			r.Space += size
		}
	}
	return r, nil
}

func pruneOne(cs *container.Store, id string) (int64, bool) {
	l, ok, err := cs.TryLock(id)
	if err != nil || !ok {
		return 0, false
	}
	defer l.Unlock()
	c, err := cs.Get(id)
	if err != nil || c.IsRunning() || container.CanRemove(c, false) != nil {
		return 0, false
	}
	size := containerSizeRw(c)
	if cs.RemoveLocked(id) != nil {
		return 0, false
	}
	return size, true
}

// SystemPruneOptions are system prune's flags.
type SystemPruneOptions struct {
	All     bool // every unused image, not only dangling ones
	Volumes bool // unused anonymous volumes too
	// Filter applies to containers and images, and its labels to volumes
	// (Docker refuses until= with --volumes).
	Filter PruneFilter
}

// SystemPrune removes stopped containers, dangling (or unused) images and,
// with Volumes, unused volumes.
func (e *Engine) SystemPrune(o SystemPruneOptions) (*PruneReport, error) {
	r, err := e.ContainerPrune(o.Filter)
	if err != nil {
		return nil, err
	}
	if o.Volumes {
		vf := o.Filter
		vf.All, vf.Until = false, time.Time{}
		v, err := e.VolumePrune(vf)
		if err != nil {
			return r, err
		}
		r.Volumes, r.Space = v.Volumes, r.Space+v.Space
	}
	// image prune's own rules: an untagged image that is a tagged one's
	// parent (a build's intermediate) is not dangling.
	imgs, space, err := e.ImagePrune(o.All, o.Filter)
	r.Images, r.Space = imgs, r.Space+space
	if err == nil {
		cached, cerr := e.BuilderPrune() // the build cache goes too, as in Docker
		r.Space, err = r.Space+cached, cerr
	}
	return r, err
}

// VolumeCreate creates (or returns) a named volume.
func (e *Engine) VolumeCreate(name string, labels map[string]string) (*container.Volume, error) {
	cs, err := e.containers()
	if err != nil {
		return nil, err
	}
	return cs.CreateVolume(name, labels, false)
}

// Volumes lists volumes.
func (e *Engine) Volumes() ([]*container.Volume, error) {
	cs, err := e.containers()
	if err != nil {
		return nil, err
	}
	return cs.ListVolumes()
}

// VolumeInspect loads one volume.
func (e *Engine) VolumeInspect(name string) (*container.Volume, error) {
	cs, err := e.containers()
	if err != nil {
		return nil, err
	}
	return cs.Volume(name)
}

// VolumeRm removes a volume no container uses.
func (e *Engine) VolumeRm(name string, force bool) error {
	cs, err := e.containers()
	if err != nil {
		return err
	}
	_, err = cs.RemoveVolume(name, force)
	return err
}

// VolumePrune removes unused anonymous volumes, or with all every unused
// volume (Docker 23's rule).
func (e *Engine) VolumePrune(f PruneFilter) (*PruneReport, error) {
	cs, err := e.containers()
	if err != nil {
		return nil, err
	}
	vols, err := cs.ListVolumes()
	if err != nil {
		return nil, err
	}
	r := &PruneReport{}
	for _, v := range vols {
		if (!f.All && !v.Anonymous) || !f.Match(v.CreatedAt, v.Labels) {
			continue
		}
		size, err := cs.RemoveVolume(v.Name, false)
		if err != nil {
			continue // in use
		}
		r.Volumes = append(r.Volumes, v.Name)
		r.Space += size
	}
	return r, nil
}

// DFRow is one row of system df.
type DFRow struct {
	Type              string
	Total, Active     int
	Size, Reclaimable int64
}

// SystemDF reports disk use by images, containers and volumes.
func (e *Engine) SystemDF() ([]DFRow, error) {
	is, err := image.Open(e.Store)
	if err != nil {
		return nil, err
	}
	cs, ctrs, err := e.listContainers()
	if err != nil {
		return nil, err
	}
	imgs, err := is.List()
	if err != nil {
		return nil, err
	}
	vols, err := cs.ListVolumes()
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, c := range ctrs {
		used[c.ImageID] = true
	}
	rows := []DFRow{{Type: "Images"}, {Type: "Containers"}, {Type: "Local Volumes"}, {Type: "Build Cache"}}
	layerSize := map[string]int64{}
	for _, img := range imgs {
		rows[0].Total++
		if used[img.ID] {
			rows[0].Active++
		}
		for i, size := range is.LayerSizes(img) {
			layerSize[img.Layers[i]] = size
		}
	}
	rows[0].Size, rows[0].Reclaimable = imageDiskUsage(imgs, layerSize, used)
	for _, c := range ctrs {
		size := containerSizeRw(c)
		rows[1].Total++
		rows[1].Size += size
		if c.IsRunning() {
			rows[1].Active++
		} else {
			rows[1].Reclaimable += size
		}
	}
	links := volumeLinks(ctrs)
	for _, v := range vols {
		size := container.DirSize(v.Mountpoint)
		rows[2].Total++
		rows[2].Size += size
		if links[v.Name] > 0 {
			rows[2].Active++
		} else {
			rows[2].Reclaimable += size
		}
	}
	return rows, nil
}

// SharedSizes maps every image id to the size of its layers that another
// image has too (system df -v's SHARED SIZE; UNIQUE SIZE is the rest).
func (e *Engine) SharedSizes() (map[string]int64, error) {
	is, err := image.Open(e.Store)
	if err != nil {
		return nil, err
	}
	imgs, err := is.List()
	if err != nil {
		return nil, err
	}
	users := layerUsers(imgs)
	out := map[string]int64{}
	for _, img := range imgs {
		for i, size := range is.LayerSizes(img) {
			if users[img.Layers[i]] > 1 {
				out[img.ID] += size
			}
		}
	}
	return out, nil
}

// VolumeUse is one volume of system df -v: the containers that mount it
// (any state) and its size.
type VolumeUse struct {
	Name  string
	Links int
	Size  int64
}

// VolumeUsage lists every volume with its links and size.
func (e *Engine) VolumeUsage() ([]VolumeUse, error) {
	cs, ctrs, err := e.listContainers()
	if err != nil {
		return nil, err
	}
	vols, err := cs.ListVolumes()
	if err != nil {
		return nil, err
	}
	links := volumeLinks(ctrs)
	out := make([]VolumeUse, 0, len(vols))
	for _, v := range vols {
		out = append(out, VolumeUse{Name: v.Name, Links: links[v.Name], Size: container.DirSize(v.Mountpoint)})
	}
	return out, nil
}

// imageDiskUsage is Docker's system df figures for images: the size of
// every layer once, however many images share it, and what removing the
// images no container uses would free: that size less the layers only a
// used image has (Docker counts a used image's layers that another image
// shares as reclaimable too, and so does this).
func imageDiskUsage(imgs []*image.Image, layerSize map[string]int64, used map[string]bool) (size, reclaimable int64) {
	users := layerUsers(imgs)
	for _, s := range layerSize {
		size += s
	}
	var usedUnique int64
	for _, img := range imgs {
		if !used[img.ID] {
			continue
		}
		for _, l := range img.Layers {
			if users[l] == 1 {
				usedUnique += layerSize[l]
			}
		}
	}
	return size, size - usedUnique
}

// layerUsers counts, per layer (chain id), the images that have it.
func layerUsers(imgs []*image.Image) map[string]int {
	users := map[string]int{}
	for _, img := range imgs {
		for _, l := range img.Layers {
			users[l]++
		}
	}
	return users
}

// volumeLinks counts, per volume name, the containers that mount it.
func volumeLinks(ctrs []*container.Container) map[string]int {
	links := map[string]int{}
	for _, c := range ctrs {
		for _, m := range c.Mounts {
			if m.Type == container.MountVolume {
				links[m.Name]++
			}
		}
	}
	return links
}

// Info is skiff info's content.
type Info struct {
	Version        string
	Containers     int
	Running        int
	Paused         int
	Stopped        int
	Images         int
	StorageDriver  string
	Root           string
	RunRoot        string
	Rootless       bool
	CgroupVersion  string
	Cgroups        bool
	CgroupsNote    string `json:",omitempty"`
	Kernel         string
	OS             string
	Arch           string
	CPUs           int
	UIDMap, GIDMap []string    `json:",omitempty"`
	IDMapNote      string      `json:",omitempty"`
	DriverStatus   [][2]string // Docker's storage driver detail (rootless_info.go)
}

// Info reports the store, the host and what skiff can use on it.
func (e *Engine) Info(version string) (*Info, error) {
	in := &Info{
		Version: version, StorageDriver: container.ExpectedStorageDriver(e.opts.StorageDriver, store.Rootless()), Root: e.Store.Root, RunRoot: e.Store.RunRoot,
		Rootless: store.Rootless(), CgroupVersion: cgroupVersion(), Kernel: kernelRelease(),
		OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(),
	}
	if _, list, err := e.listContainers(); err == nil {
		for _, c := range list {
			in.Containers++
			switch {
			case c.State.Status == container.StatusPaused:
				in.Paused++
			case c.IsRunning():
				in.Running++
			default:
				in.Stopped++
			}
		}
	}
	if is, err := image.Open(e.Store); err == nil {
		if imgs, err := is.List(); err == nil {
			in.Images = len(imgs)
		}
	}
	in.Cgroups, in.CgroupsNote = container.CgroupsAvailable()
	if in.Rootless && !container.InUserNS() { // inside one, rootlessInfo reads the maps
		uids, gids, multi := container.IDMappings()
		for _, m := range uids {
			in.UIDMap = append(in.UIDMap, idMapString(m.ContainerID, m.HostID, m.Size))
		}
		for _, m := range gids {
			in.GIDMap = append(in.GIDMap, idMapString(m.ContainerID, m.HostID, m.Size))
		}
		if !multi {
			in.IDMapNote = noSubIDsNote
		}
	}
	rootlessInfo(in)
	return in, nil
}

func idMapString(ctr, host, size uint32) string {
	return strings.Join([]string{itoa(ctr), itoa(host), itoa(size)}, ":")
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

// cgroupVersion: "2" on a unified hierarchy, "1" on a legacy or hybrid one.
func cgroupVersion() string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "2"
	}
	return "1"
}

func kernelRelease() string {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}
