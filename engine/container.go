package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/store"
)

// CreateOptions are create's (and run's) options, already parsed from flags.
type CreateOptions struct {
	Image string
	Name  string
	// Config holds the user's side of the config: Cmd (the arguments after
	// the image), Entrypoint, Env, WorkingDir, User, Hostname, Labels,
	// StopSignal, StopTimeout, Tty, OpenStdin, ExposedPorts.
	Config        container.Config
	EntrypointSet bool // --entrypoint was given ("" clears the image's)
	// HostConfig holds the host side: Binds (raw -v), Tmpfs, ReadonlyRootfs,
	// NetworkMode, AutoRemove, Privileged, CapAdd/Drop, SecurityOpt,
	// PortBindings, Resources.
	HostConfig container.HostConfig
	Pull       string // always, missing (default), never
	Platform   string
	CIDFile    string
	Quiet      bool // no pull progress
}

// containers opens the container store.
func (e *Engine) containers() (*container.Store, error) { return container.Open(e.Store) }

// Containers is the container store, for the verbs in other engine files.
func (e *Engine) Containers() (*container.Store, error) { return e.containers() }

// listContainers opens the container store and lists every container in
// it (ps, prune, df, info all start so).
func (e *Engine) listContainers() (*container.Store, []*container.Container, error) {
	cs, err := e.containers()
	if err != nil {
		return nil, nil, err
	}
	list, err := cs.List()
	return cs, list, err
}

// LookupContainer resolves a name, id or unique id prefix.
func (e *Engine) LookupContainer(ref string) (*container.Container, error) {
	_, c, err := e.lookupContainer(ref)
	return c, err
}

// lookupContainer is LookupContainer with the store it was found in, for
// verbs that read the record again later.
func (e *Engine) lookupContainer(ref string) (*container.Store, *container.Container, error) {
	cs, err := e.containers()
	if err != nil {
		return nil, nil, err
	}
	c, err := cs.Lookup(ref)
	return cs, c, err
}

// lockRecord takes id's lock and reads its record again under it, for a
// verb that must not race start or another writer.
func lockRecord(cs *container.Store, id string) (*store.Lock, *container.Container, error) {
	l, err := cs.Lock(id)
	if err != nil {
		return nil, nil, err
	}
	c, err := cs.Get(id)
	if err != nil {
		l.Unlock()
		return nil, nil, err
	}
	return l, c, nil
}

// Create makes a container record ready to start and returns it.
func (e *Engine) Create(ctx context.Context, o CreateOptions) (*container.Container, error) {
	binds, err := e.volumesFrom(o.HostConfig.VolumesFrom, o.HostConfig.Binds)
	if err != nil {
		return nil, err
	}
	mounts, err := parseMounts(binds)
	if err != nil {
		return nil, err
	}
	if o.Name != "" {
		o.Name = strings.TrimPrefix(o.Name, "/")
		if err := container.ValidateName(o.Name); err != nil {
			return nil, err
		}
	}
	if sig := o.Config.StopSignal; sig != "" {
		if _, err := container.ParseSignal(sig); err != nil {
			return nil, err
		}
	}
	network, err := e.networkMode(o.HostConfig)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(network, "container:") && o.Config.Hostname != "" {
		return nil, store.Invalid("conflicting options: hostname and the network mode")
	}
	if h := o.HostConfig; len(h.CapAdd)+len(h.CapDrop) > 0 { // only names can be wrong
		if _, err := container.Capabilities(h); err != nil {
			return nil, err
		}
	}
	if _, err := container.ParseSecurityOpts(o.HostConfig.SecurityOpt); err != nil {
		return nil, err
	}
	cid, err := openCIDFile(o.CIDFile)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok && cid != nil {
			cid.Close()
			os.Remove(o.CIDFile)
		}
	}()
	is, err := image.Open(e.Store)
	if err != nil {
		return nil, err
	}
	img, err := e.resolveImage(ctx, is, o.Image, o.Pull, o.Platform, o.Quiet)
	if err != nil {
		return nil, err
	}
	cfg, err := is.ConfigFile(img)
	if err != nil {
		return nil, err
	}
	layers, err := is.LayerPaths(img)
	if err != nil {
		return nil, err
	}
	cs, err := e.containers()
	if err != nil {
		return nil, err
	}
	c := &container.Container{
		ID:         container.NewID(),
		Name:       o.Name,
		Created:    time.Now().UTC(),
		Image:      firstOr(img.RepoTags, img.ID),
		ImageID:    img.ID,
		Config:     o.Config,
		HostConfig: o.HostConfig,
		Platform:   cfg.OS,
		State:      container.State{Status: container.StatusCreated},
	}
	c.Config.Image = o.Image
	c.HostConfig.NetworkMode = network
	container.MergeImageConfig(&c.Config, &cfg.Config, o.EntrypointSet)
	if len(c.Config.Args()) == 0 {
		return nil, store.Invalid("No command specified")
	}
	if c.Config.Hostname == "" {
		c.Config.Hostname = c.ID[:12]
		if network == "host" || c.HostConfig.UTSMode == "host" {
			c.Config.Hostname, _ = os.Hostname()
		}
	}
	if c.Name == "" {
		c.Name = container.GenerateName(cs.NameTaken)
	}
	if outsideUserNS() && (len(c.Config.Volumes) > 0 || slices.ContainsFunc(mounts, isVolume)) {
		return nil, errUserNS // an empty volume gets the image's files (copy-up)
	}
	if c.Mounts, err = e.prepareMounts(cs, mounts, c.Config.Volumes, layers); err != nil {
		return nil, err
	}
	// The record is all create writes: the rootfs dirs are made at first
	// use (container.PrepareRootfs) and hosts, hostname and resolv.conf at
	// every start (container.Spec), as Docker does. Each new inode cost
	// create 0.1-1 ms on an ext4 store with recent deletions nearby.
	container.PlanRootfs(c, layers, cs.Dir(c.ID), cs.RunDir(c.ID))
	c.Rootfs.Driver = e.opts.StorageDriver
	container.SetUserdataPaths(c, cs.Dir(c.ID))
	c.LogPath = filepath.Join(cs.Dir(c.ID), container.LogFile)
	if err := createNamed(cs, c, o.Name == ""); err != nil {
		cs.RemoveAnonymousVolumes(c) // made for this container only
		return nil, err
	}
	if cid != nil {
		if _, err := cid.WriteString(c.ID); err != nil {
			cs.Remove(c.ID)
			return nil, fmt.Errorf("write container ID file: %w", err)
		}
		cid.Close()
	}
	ok = true
	return c, nil
}

// A rootless create starts in the host's user namespace (engine/rootless.go
// re-executes the other storage commands in a namespace of the user's own
// before they start): when it only writes the record, as it does for an
// image that is here, it needs none, and the extra process (a second
// start-up of skiff, newuidmap and newgidmap) was most of its time. The
// files it writes are the user's in either namespace. A pull, whose layers
// hold the image's owners, or a volume to fill from the image, needs the
// namespace: Create then stops with errUserNS before it has changed
// anything, and main runs the whole call again there (RunInUserNS).
var errUserNS = errors.New("create needs the user namespace")

// NeedsUserNS reports whether err asks for the call to run again in a
// user namespace.
func NeedsUserNS(err error) bool { return errors.Is(err, errUserNS) }

// RunInUserNS runs args (os.Args) again in a new user namespace, as the
// storage commands are from the start, and returns its exit status.
func RunInUserNS(args []string) int {
	verb, flags := parseInvocation(args)
	return runInUserNS(args, verb, flags)
}

// outsideUserNS: a rootless process in the host's namespace, which may
// enter one (not turned off with SKIFF_NO_USERNS).
func outsideUserNS() bool {
	return os.Geteuid() != 0 && os.Getenv(noUserNSEnv) == ""
}

func isVolume(m container.Mount) bool { return m.Type == container.MountVolume }

// createNamed stores c; a generated name that a concurrent create took
// between the check and the claim is simply generated again.
func createNamed(cs *container.Store, c *container.Container, generated bool) error {
	for attempt := 0; ; attempt++ {
		err := cs.Create(c)
		if err == nil || !generated || attempt >= 5 || !errors.Is(err, store.ErrConflict) || !cs.NameTaken(c.Name) {
			return err
		}
		c.Name = container.GenerateName(cs.NameTaken)
	}
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}

// openCIDFile creates --cidfile exclusively, as Docker refuses to
// overwrite one that exists.
func openCIDFile(path string) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, store.Invalid("container ID file found, make sure the other container isn't running or delete %s", path)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to create the container ID file: %w", err)
	}
	return f, nil
}

func (e *Engine) networkMode(h container.HostConfig) (string, error) {
	switch m := h.NetworkMode; m {
	case "", "default", "bridge", "private":
		return "default", nil
	case "host", "none":
		return m, nil
	}
	ref, ok := strings.CutPrefix(h.NetworkMode, "container:")
	if !ok || ref == "" {
		return "", store.NotFound("network %s not found", h.NetworkMode)
	}
	// Docker's conflicts: the joined container's network settings rule.
	switch {
	case len(h.PortBindings) > 0 || h.PublishAll:
		return "", store.Invalid("conflicting options: port publishing and the container type network mode")
	case len(h.DNS)+len(h.DNSSearch)+len(h.DNSOptions) > 0:
		return "", store.Invalid("conflicting options: dns and the network mode")
	case len(h.ExtraHosts) > 0:
		return "", store.Invalid("conflicting options: custom host-to-IP mapping and the network mode")
	case os.Geteuid() != 0 || container.InUserNS():
		// Each rootless container has a user namespace of its own, which
		// may not enter a network namespace another one owns.
		return "", store.Invalid("--network container:%s is not supported rootless", ref)
	}
	cs, err := e.containers()
	if err != nil {
		return "", err
	}
	target, err := cs.Lookup(ref)
	if err != nil {
		return "", err
	}
	return "container:" + target.ID, nil
}

// resolveImage finds ref locally or pulls it, per --pull.
func (e *Engine) resolveImage(ctx context.Context, is *image.Store, ref, policy, platform string, quiet bool) (*image.Image, error) {
	switch policy {
	case "", "missing", "always", "never":
	default:
		return nil, store.Invalid("invalid pull option: '%s': must be one of \"always\", \"missing\" or \"never\"", policy)
	}
	if policy != "always" {
		img, err := is.Lookup(ref)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return img, err
		}
		if policy == "never" {
			return nil, store.NotFound("No such image: %s", ref)
		}
		if _, err := image.Normalize(ref); err != nil {
			return nil, err
		}
		if outsideUserNS() {
			return nil, errUserNS // layers are unpacked with the container's ids
		}
		fmt.Fprintf(e.Stderr, "Unable to find image '%s' locally\n", familiarRef(ref))
	} else if outsideUserNS() {
		return nil, errUserNS
	}
	opts := image.PullOptions{Platform: platform}
	if !quiet {
		opts.Out = e.Stderr
	}
	img, err := is.Pull(ctx, ref, opts)
	if err == nil {
		e.emitPull(ref) // run and create pull too, as docker's events show
	}
	return img, err
}

// parseMounts parses the -v list; the engine fills volume sources later.
// volumesFrom is binds plus, for each --volumes-from CONTAINER[:ro|:rw],
// that container's volumes and bind mounts at the same paths (tmpfs
// mounts are its own), in the mode given or the one it has; a path the
// user mounts with -v keeps the user's mount.
func (e *Engine) volumesFrom(refs, binds []string) ([]string, error) {
	if len(refs) == 0 {
		return binds, nil
	}
	cs, err := e.containers()
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, b := range binds {
		if m, err := container.ParseVolume(b); err == nil {
			taken[m.Destination] = true
		}
	}
	out := slices.Clone(binds)
	for _, ref := range refs {
		name, mode, _ := strings.Cut(ref, ":")
		if mode != "" && mode != "ro" && mode != "rw" {
			return nil, store.Invalid("invalid mode for volumes-from: %s", mode)
		}
		src, err := cs.Lookup(name)
		if err != nil {
			return nil, err
		}
		for _, m := range src.Mounts {
			if taken[m.Destination] || (m.Type != "volume" && m.Type != "bind") {
				continue
			}
			taken[m.Destination] = true
			from := m.Source
			if m.Type == "volume" {
				from = m.Name
			}
			rw := mode
			if rw == "" {
				rw = map[bool]string{true: "rw", false: "ro"}[m.RW]
			}
			out = append(out, from+":"+m.Destination+":"+rw)
		}
	}
	return out, nil
}

func parseMounts(binds []string) ([]container.Mount, error) {
	var out []container.Mount
	seen := map[string]bool{}
	for _, b := range binds {
		m, err := container.ParseVolume(b)
		if err != nil {
			return nil, err
		}
		if seen[m.Destination] {
			return nil, store.Invalid("Duplicate mount point: %s", m.Destination)
		}
		seen[m.Destination] = true
		out = append(out, m)
	}
	return out, nil
}

// prepareMounts creates missing bind sources (as docker -v does) and
// volumes, including an anonymous volume for each image VOLUME the user
// did not mount over. An empty volume gets the image's content at its
// mount point (Docker's copy-up; -v name:/path:nocopy skips it).
func (e *Engine) prepareMounts(cs *container.Store, mounts []container.Mount, imageVolumes map[string]struct{}, layers []string) ([]container.Mount, error) {
	covered := map[string]bool{}
	for _, m := range mounts {
		covered[m.Destination] = true
	}
	var extra []string
	for v := range imageVolumes {
		if !covered[filepath.Clean(v)] {
			extra = append(extra, filepath.Clean(v))
		}
	}
	sort.Strings(extra)
	for _, d := range extra {
		mounts = append(mounts, container.Mount{Type: container.MountVolume, Destination: d, RW: true})
	}
	for i := range mounts {
		m := &mounts[i]
		m.Propagation = "rprivate"
		switch m.Type {
		case container.MountBind:
			if err := os.MkdirAll(m.Source, 0o755); err != nil && !errors.Is(err, syscall.ENOTDIR) {
				return nil, fmt.Errorf("create mountpoint for %s: %w", m.Destination, err)
			}
		case container.MountVolume:
			v, err := cs.CreateVolume(m.Name, nil, m.Name == "")
			if err != nil {
				return nil, err
			}
			m.Anonymous = m.Name == "" || v.Anonymous
			m.Name = v.Name
			m.Source = v.Mountpoint
			m.Driver = "local"
			if !strings.Contains(m.Mode, "nocopy") && dirEmpty(v.Mountpoint) {
				if err := container.CopyUp(layers, m.Destination, v.Mountpoint); err != nil {
					return nil, fmt.Errorf("copy image content to volume %s: %w", v.Name, err)
				}
			}
		}
	}
	return mounts, nil
}

func dirEmpty(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) == 0
}

// RmOptions are rm's flags.
type RmOptions struct {
	Force   bool // kill a running container first
	Volumes bool // remove its anonymous volumes too
}

// Rm removes one container: under its lock, checks the state and deletes
// it. With -f a running container is killed first, and the lock released
// while its supervisor records the exit and winds down.
func (e *Engine) Rm(ref string, o RmOptions) error {
	cs, err := e.containers()
	if err != nil {
		return err
	}
	id, err := cs.Resolve(ref)
	if err != nil {
		return err // rm -f of a missing one: the CLI says so and exits 0
	}
	for attempt := 0; ; attempt++ {
		c, done, err := rmLocked(cs, id, o, attempt > 0)
		if attempt > 0 && errors.Is(err, store.ErrNotFound) {
			return nil // killed, it removed itself (--rm): what rm -f asked for
		}
		if err != nil || done {
			if err == nil && o.Volumes {
				cs.RemoveAnonymousVolumes(c)
			}
			return err
		}
		killContainer(c)
		waitGone(c, 10*time.Second)
	}
}

// rmLocked removes id if it is not running; otherwise (with force) it
// returns the running record for the caller to kill. A container still
// running after a kill is removed anyway: its processes were SIGKILLed.
func rmLocked(cs *container.Store, id string, o RmOptions, killed bool) (*container.Container, bool, error) {
	l, err := cs.Lock(id)
	if err != nil {
		return nil, false, err
	}
	defer l.Unlock()
	c, err := cs.UpdateLocked(id, func(c *container.Container) error {
		if err := container.CanRemove(c, o.Force); err != nil {
			return err
		}
		c.State.StoppedByUser = c.IsRunning() // rm -f: no restart under its policy
		return nil
	})
	if err != nil && o.Force && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
		// An unreadable record (not a refusal): -f clears what is left.
		return &container.Container{ID: id}, true, cs.RemoveLocked(id)
	}
	if err != nil {
		return nil, false, err
	}
	if c.IsRunning() && !killed {
		return c, false, nil
	}
	if c.IsRunning() {
		killContainer(c)
	}
	return c, true, cs.RemoveLocked(id)
}

// killContainer SIGKILLs a container's init (checked by start time, as
// pids are reused); its supervisor then records the exit.
func killContainer(c *container.Container) {
	if container.Alive(c.State.Pid, c.State.PidStart) {
		container.KillProcess(c.State.Pid, c.State.PidStart, syscall.SIGKILL)
		container.ThawForSignal(c, syscall.SIGKILL) // a paused one dies once thawed
	}
}

// waitGone waits until neither the init nor the supervisor is alive, so
// rm -f does not pull the rootfs from under a dying supervisor.
func waitGone(c *container.Container, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if !container.Alive(c.State.Pid, c.State.PidStart) && !container.Alive(c.State.SupervisorPid, c.State.SupervisorStart) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Rename gives a container a new name.
func (e *Engine) Rename(ref, name string) error {
	cs, err := e.containers()
	if err != nil {
		return err
	}
	id, err := cs.Resolve(ref)
	if err != nil {
		return err
	}
	return cs.Rename(id, name)
}
