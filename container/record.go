package container

import (
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Status is a container's lifecycle state, with Docker's names.
type Status string

const (
	StatusCreated    Status = "created"
	StatusRunning    Status = "running"
	StatusPaused     Status = "paused"
	StatusRestarting Status = "restarting"
	StatusRemoving   Status = "removing"
	StatusExited     Status = "exited"
	StatusDead       Status = "dead"
)

// Container is the record kept in the store for one container
// (<root>/containers/<id>/container.json). Field names follow Docker's
// inspect output where one exists, so inspect is mostly a projection.
type Container struct {
	ID      string    `json:"Id"`
	Name    string    `json:"Name"` // without Docker's leading "/"
	Created time.Time `json:"Created"`

	Image   string `json:"Image"`   // the reference as resolved, e.g. docker.io/library/busybox:latest
	ImageID string `json:"ImageID"` // sha256:<hex> of the image config

	Config     Config     `json:"Config"`
	HostConfig HostConfig `json:"HostConfig"`
	Mounts     []Mount    `json:"Mounts,omitempty"`
	Rootfs     Rootfs     `json:"Rootfs"`

	State        State `json:"State"`
	RestartCount int   `json:"RestartCount"`

	// Files the container sees as /etc/resolv.conf, /etc/hostname and
	// /etc/hosts, and its log; Docker's inspect shows the same fields.
	ResolvConfPath string `json:"ResolvConfPath,omitempty"`
	HostnamePath   string `json:"HostnamePath,omitempty"`
	HostsPath      string `json:"HostsPath,omitempty"`
	LogPath        string `json:"LogPath,omitempty"`
	Platform       string `json:"Platform,omitempty"`
}

// Config is what the container runs: the image config merged with run options.
type Config struct {
	Hostname     string              `json:"Hostname"`
	Image        string              `json:"Image,omitempty"` // the image as the user named it (ps shows this)
	Domainname   string              `json:"Domainname,omitempty"`
	User         string              `json:"User,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	StopTimeout  *int                `json:"StopTimeout,omitempty"`
	Tty          bool                `json:"Tty"`
	OpenStdin    bool                `json:"OpenStdin"`
	StdinOnce    bool                `json:"StdinOnce"`
	AttachStdin  bool                `json:"AttachStdin"`
	AttachStdout bool                `json:"AttachStdout"`
	AttachStderr bool                `json:"AttachStderr"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Volumes      map[string]struct{} `json:"Volumes,omitempty"`
	Healthcheck  *v1.HealthConfig    `json:"Healthcheck,omitempty"` // --health-*, or the image's HEALTHCHECK (health.go)
}

// HostConfig is how the host runs it.
type HostConfig struct {
	Binds          []string                 `json:"Binds,omitempty"`
	VolumesFrom    []string                 `json:"VolumesFrom,omitempty"` // CONTAINER[:ro|:rw]
	Tmpfs          map[string]string        `json:"Tmpfs,omitempty"`
	ReadonlyRootfs bool                     `json:"ReadonlyRootfs"`
	NetworkMode    string                   `json:"NetworkMode"`
	AutoRemove     bool                     `json:"AutoRemove"`
	Privileged     bool                     `json:"Privileged"`
	CapAdd         []string                 `json:"CapAdd,omitempty"`
	CapDrop        []string                 `json:"CapDrop,omitempty"`
	SecurityOpt    []string                 `json:"SecurityOpt,omitempty"`
	PortBindings   map[string][]PortBinding `json:"PortBindings,omitempty"` // -p as asked; State.Ports has what is bound
	PublishAll     bool                     `json:"PublishAllPorts,omitempty"`
	Init           *bool                    `json:"Init,omitempty"` // --init (init_process.go)
	RestartPolicy  RestartPolicy            `json:"RestartPolicy"`  // --restart (restart.go)
	LogConfig      LogConfig                `json:"LogConfig"`      // --log-driver, --log-opt (log_config.go)
	// Name resolution and namespaces (hostopts.go).
	ExtraHosts []string `json:"ExtraHosts"` // --add-host, as "host:ip"
	DNS        []string `json:"Dns"`
	DNSSearch  []string `json:"DnsSearch"`
	DNSOptions []string `json:"DnsOptions"`
	GroupAdd   []string `json:"GroupAdd"`
	PidMode    string   `json:"PidMode"` // "" (private) or host
	IpcMode    string   `json:"IpcMode"` // private (default), shareable, host
	UTSMode    string   `json:"UTSMode"` // "" (private) or host
	// Resources (issue 7) are kept in OCI form; inspect projects them.
	Resources *specs.LinuxResources `json:"Resources,omitempty"`
	Limits                          // cgroup parent, devices, ulimits, sysctls, shm, OOM score (limits.go)
}

// PortBinding is one -p host side, as Docker's inspect shows it.
type PortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// Mount is one bind, volume or tmpfs mount, shaped as Docker's inspect shows it.
type Mount struct {
	Type        string   `json:"Type"` // bind, volume, tmpfs
	Name        string   `json:"Name,omitempty"`
	Source      string   `json:"Source"`
	Destination string   `json:"Destination"`
	Driver      string   `json:"Driver,omitempty"`
	Mode        string   `json:"Mode"`
	RW          bool     `json:"RW"`
	Propagation string   `json:"Propagation,omitempty"`
	Anonymous   bool     `json:"Anonymous,omitempty"` // a volume named by skiff, removed by rm -v
	Options     []string `json:"-"`
}

// Rootfs is where the container's filesystem comes from: the image's
// unpacked layers (base first) under a private overlay upper/work dir.
type Rootfs struct {
	LowerDirs []string `json:"LowerDirs"`
	UpperDir  string   `json:"UpperDir"`
	WorkDir   string   `json:"WorkDir"`
	MergedDir string   `json:"MergedDir"` // mount point, under the run root
	// Driver is the storage driver forced at create (overlay,
	// fuse-overlayfs, vfs); empty: the first that works (isolate).
	Driver string `json:"Driver,omitempty"`
}

// State is the runtime state. Pid and SupervisorPid come with their start
// times (clock ticks since boot, /proc/<pid>/stat field 22) because pids are
// reused: a record is trusted only while pid and start time both match.
type State struct {
	Status          Status    `json:"Status"`
	Pid             int       `json:"Pid"`
	PidStart        uint64    `json:"PidStart,omitempty"`
	SupervisorPid   int       `json:"SupervisorPid,omitempty"`
	SupervisorStart uint64    `json:"SupervisorStart,omitempty"`
	ExitCode        int       `json:"ExitCode"`
	Error           string    `json:"Error,omitempty"`
	OOMKilled       bool      `json:"OOMKilled"`
	StartedAt       time.Time `json:"StartedAt"`
	FinishedAt      time.Time `json:"FinishedAt"`
	// Ports is where the supervisor publishes the container's ports on
	// the host (random ones resolved); meaningful only while it runs.
	Ports map[string][]PortBinding `json:"Ports,omitempty"`
	// StoppedByUser: stop, kill or rm -f ended it, so its restart policy
	// does not bring it back (Docker's HasBeenManuallyStopped); a start
	// clears it.
	StoppedByUser bool `json:"StoppedByUser,omitempty"`
	// Health is the healthcheck's state while it runs (health.go).
	Health *Health `json:"Health,omitempty"`
}
