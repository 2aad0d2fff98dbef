package engine

import (
	"time"

	"github.com/skiff-dev/skiff/container"
)

// ContainerJSON is docker inspect's shape of a container.
type ContainerJSON struct {
	Id              string              `json:"Id"`      //nolint:revive // Docker's template name: {{.Id}}
	Created         string              `json:"Created"` // RFC 3339 text, as in Docker's API, so --format prints that
	Path            string              `json:"Path"`
	Args            []string            `json:"Args"`
	State           StateJSON           `json:"State"`
	Image           string              `json:"Image"`
	ResolvConfPath  string              `json:"ResolvConfPath"`
	HostnamePath    string              `json:"HostnamePath"`
	HostsPath       string              `json:"HostsPath"`
	LogPath         string              `json:"LogPath"`
	Name            string              `json:"Name"`
	RestartCount    int                 `json:"RestartCount"`
	Driver          string              `json:"Driver"`
	Platform        string              `json:"Platform"`
	MountLabel      string              `json:"MountLabel"`
	ProcessLabel    string              `json:"ProcessLabel"`
	AppArmorProfile string              `json:"AppArmorProfile"`
	ExecIDs         []string            `json:"ExecIDs"`
	HostConfig      HostConfigJSON      `json:"HostConfig"`
	GraphDriver     GraphDriverJSON     `json:"GraphDriver"`
	SizeRw          *int64              `json:"SizeRw,omitempty"`
	SizeRootFs      *int64              `json:"SizeRootFs,omitempty"`
	Mounts          []container.Mount   `json:"Mounts"`
	Config          container.Config    `json:"Config"`
	NetworkSettings NetworkSettingsJSON `json:"NetworkSettings"`
}

// StateJSON is inspect's State.
type StateJSON struct {
	Status     string            `json:"Status"`
	Running    bool              `json:"Running"`
	Paused     bool              `json:"Paused"`
	Restarting bool              `json:"Restarting"`
	OOMKilled  bool              `json:"OOMKilled"`
	Dead       bool              `json:"Dead"`
	Pid        int               `json:"Pid"`
	ExitCode   int               `json:"ExitCode"`
	Error      string            `json:"Error"`
	StartedAt  string            `json:"StartedAt"` // RFC 3339 text (Docker's API strings)
	FinishedAt string            `json:"FinishedAt"`
	Health     *container.Health `json:"Health,omitempty"`
}

// HostConfigJSON is inspect's HostConfig, resources flattened as Docker does.
// Field names are the JSON keys (Dns, not DNS): --format templates use them.
type HostConfigJSON struct {
	Binds             []string                           `json:"Binds"`
	NetworkMode       string                             `json:"NetworkMode"`
	PortBindings      map[string][]container.PortBinding `json:"PortBindings"`
	RestartPolicy     RestartPolicyJSON                  `json:"RestartPolicy"`
	AutoRemove        bool                               `json:"AutoRemove"`
	CapAdd            []string                           `json:"CapAdd"`
	CapDrop           []string                           `json:"CapDrop"`
	Privileged        bool                               `json:"Privileged"`
	PublishAllPorts   bool                               `json:"PublishAllPorts"`
	ReadonlyRootfs    bool                               `json:"ReadonlyRootfs"`
	SecurityOpt       []string                           `json:"SecurityOpt"`
	Tmpfs             map[string]string                  `json:"Tmpfs,omitempty"`
	Dns               []string                           `json:"Dns"`
	DnsOptions        []string                           `json:"DnsOptions"`
	DnsSearch         []string                           `json:"DnsSearch"`
	ExtraHosts        []string                           `json:"ExtraHosts"`
	GroupAdd          []string                           `json:"GroupAdd"`
	IpcMode           string                             `json:"IpcMode"`
	PidMode           string                             `json:"PidMode"`
	UTSMode           string                             `json:"UTSMode"`
	Init              *bool                              `json:"Init"`
	VolumesFrom       []string                           `json:"VolumesFrom"`
	LogConfig         container.LogConfig                `json:"LogConfig"`
	CpuShares         int64                              `json:"CpuShares"`
	Memory            int64                              `json:"Memory"`
	NanoCpus          int64                              `json:"NanoCpus"`
	CpuPeriod         int64                              `json:"CpuPeriod"`
	CpuQuota          int64                              `json:"CpuQuota"`
	CpusetCpus        string                             `json:"CpusetCpus"`
	CpusetMems        string                             `json:"CpusetMems"`
	BlkioWeight       uint16                             `json:"BlkioWeight"`
	MemoryReservation int64                              `json:"MemoryReservation"`
	MemorySwap        int64                              `json:"MemorySwap"`
	PidsLimit         *int64                             `json:"PidsLimit"`
	LimitsJSON                                           // CgroupParent, Devices, Ulimits, Sysctls, ShmSize, OomScoreAdj (update.go)
}

// orEmpty is Docker's [] (not null) for the lists inspect always shows.
func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// RestartPolicyJSON is inspect's HostConfig.RestartPolicy.
type RestartPolicyJSON struct {
	Name              string `json:"Name"`
	MaximumRetryCount int    `json:"MaximumRetryCount"`
}

// GraphDriverJSON is where the rootfs lives.
type GraphDriverJSON struct {
	Data map[string]string `json:"Data"`
	Name string            `json:"Name"`
}

// NetworkSettingsJSON is inspect's NetworkSettings: skiff has no bridge
// network, so only the ports are meaningful.
type NetworkSettingsJSON struct {
	Ports      map[string][]container.PortBinding `json:"Ports"`
	SandboxKey string                             `json:"SandboxKey"`
	IPAddress  string                             `json:"IPAddress"`
	Gateway    string                             `json:"Gateway"`
	MacAddress string                             `json:"MacAddress"`
	Networks   map[string]any                     `json:"Networks"`
}

// InspectContainer projects a record into Docker's inspect shape; size
// adds SizeRw and SizeRootFs (-s).
func InspectContainer(c *container.Container, size bool) ContainerJSON {
	args := c.Config.Args()
	j := ContainerJSON{
		Id: c.ID, Created: apiTime(c.Created), Image: c.ImageID, Name: "/" + c.Name,
		ResolvConfPath: c.ResolvConfPath, HostnamePath: c.HostnamePath, HostsPath: c.HostsPath,
		LogPath: c.LogPath, RestartCount: c.RestartCount, Driver: "overlay", Platform: "linux",
		Config: c.Config, Mounts: c.Mounts,
		State: StateJSON{
			Status: string(c.State.Status), Running: c.IsRunning(),
			Paused:     c.State.Status == container.StatusPaused,
			Restarting: c.State.Status == container.StatusRestarting,
			Dead:       c.State.Status == container.StatusDead,
			OOMKilled:  c.State.OOMKilled, ExitCode: c.State.ExitCode, Error: c.State.Error,
			StartedAt: apiTime(c.State.StartedAt), FinishedAt: apiTime(c.State.FinishedAt),
			Health: c.State.Health,
		},
		GraphDriver: GraphDriverJSON{Name: "overlay", Data: map[string]string{
			"LowerDir": joinColon(c.Rootfs.LowerDirs), "UpperDir": c.Rootfs.UpperDir,
			"WorkDir": c.Rootfs.WorkDir, "MergedDir": c.Rootfs.MergedDir,
		}},
		HostConfig: hostConfigJSON(c.HostConfig),
		NetworkSettings: NetworkSettingsJSON{
			Ports: map[string][]container.PortBinding{}, Networks: map[string]any{},
		},
	}
	if dir := container.CopiedRootfs(c); dir != "" {
		// The vfs driver: a copy of the layers, no overlay dirs.
		j.Driver, j.GraphDriver = "vfs", GraphDriverJSON{Name: "vfs", Data: map[string]string{"Dir": dir}}
	}
	if c.IsRunning() {
		j.State.Pid = c.State.Pid
		for p, b := range c.PublishedPorts() {
			j.NetworkSettings.Ports[p] = b
		}
	}
	if j.Mounts == nil {
		j.Mounts = []container.Mount{}
	}
	if len(args) > 0 {
		j.Path, j.Args = args[0], args[1:]
	}
	if j.Args == nil {
		j.Args = []string{}
	}
	if c.Platform != "" {
		j.Platform = c.Platform
	}
	if size {
		rw, root := containerSizes(c)
		j.SizeRw, j.SizeRootFs = &rw, &root
	}
	return j
}

func joinColon(list []string) string {
	s := ""
	for i := len(list) - 1; i >= 0; i-- { // top-most first, as overlay and Docker list them
		if s != "" {
			s += ":"
		}
		s += list[i]
	}
	return s
}

func hostConfigJSON(h container.HostConfig) HostConfigJSON {
	j := HostConfigJSON{
		Binds: h.Binds, NetworkMode: h.NetworkMode, PortBindings: h.PortBindings,
		RestartPolicy: RestartPolicyJSON{Name: h.RestartPolicy.Name, MaximumRetryCount: h.RestartPolicy.MaximumRetryCount}, AutoRemove: h.AutoRemove,
		CapAdd: h.CapAdd, CapDrop: h.CapDrop, Privileged: h.Privileged,
		PublishAllPorts: h.PublishAll, ReadonlyRootfs: h.ReadonlyRootfs,
		SecurityOpt: h.SecurityOpt, Tmpfs: h.Tmpfs, LimitsJSON: limitsJSON(h),
		Dns: orEmpty(h.DNS), DnsOptions: orEmpty(h.DNSOptions), DnsSearch: orEmpty(h.DNSSearch),
		ExtraHosts: h.ExtraHosts, GroupAdd: h.GroupAdd, IpcMode: h.IpcMode, PidMode: h.PidMode, UTSMode: h.UTSMode,
		Init: h.Init, VolumesFrom: h.VolumesFrom, LogConfig: h.LogConfig,
	}
	if j.LogConfig.Type == "" { // a container created before --log-driver existed
		j.LogConfig = container.LogConfig{Type: container.DefaultLogDriver, Config: map[string]string{}}
	}
	if j.RestartPolicy.Name == "" {
		j.RestartPolicy.Name = "no"
	}
	if j.IpcMode == "" {
		j.IpcMode = "private" // a container created before --ipc existed
	}
	if j.PortBindings == nil {
		j.PortBindings = map[string][]container.PortBinding{}
	}
	r := h.Resources
	if r == nil {
		return j
	}
	if m := r.Memory; m != nil {
		j.Memory = deref(m.Limit)
		j.MemorySwap = deref(m.Swap)
		j.MemoryReservation = deref(m.Reservation)
	}
	if c := r.CPU; c != nil {
		j.CpuShares = int64(deref(c.Shares))
		j.CpuQuota = deref(c.Quota)
		j.CpuPeriod = int64(deref(c.Period))
		j.CpusetCpus, j.CpusetMems = c.Cpus, c.Mems
		if h.NanoCpus > 0 { // --cpus: Docker shows it alone, without quota and period
			j.NanoCpus, j.CpuQuota, j.CpuPeriod = h.NanoCpus, 0, 0
		}
	}
	if r.Pids != nil {
		j.PidsLimit = r.Pids.Limit
	}
	if r.BlockIO != nil {
		j.BlkioWeight = deref(r.BlockIO.Weight)
	}
	return j
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// apiTime is a time as Docker's API spells it: RFC 3339 with nanoseconds
// in UTC ("0001-01-01T00:00:00Z" when never set).
func apiTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
