package main

import (
	"bufio"
	"flag"
	"os"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/engine"
	"github.com/skiff-dev/skiff/store"
)

// ctrList is a repeatable flag that keeps each value whole: urfave's
// StringSliceFlag splits on commas, which breaks -e A=1,2 and -v opts.
// One ctrList backs every alias of its flag; urfave copies a set value to
// the other aliases through Serialize/Set, which must then not append twice.
type ctrList struct{ v []string }

const ctrListCopy = "\x00ctrList-alias-copy"

func (l *ctrList) Set(s string) error {
	if s != ctrListCopy {
		l.v = append(l.v, s)
	}
	return nil
}

func (l *ctrList) String() string    { return strings.Join(l.v, ",") }
func (l *ctrList) Serialize() string { return ctrListCopy }

func ctrListFlag(name string, aliases []string, usage string) cli.Flag {
	f := &cli.GenericFlag{Name: name, Usage: usage, Value: &ctrList{}}
	if len(aliases) == 0 {
		return f
	}
	return &aliasedFlag{GenericFlag: f, aliases: aliases}
}

// aliasedFlag registers its aliases as names of the same value without
// telling urfave they are aliases: urfave rejects "-e A --env B" ("Cannot
// use two forms of the same flag"), which Docker accepts. Values land in
// the shared ctrList in command-line order.
type aliasedFlag struct {
	*cli.GenericFlag
	aliases []string
}

func (f *aliasedFlag) Apply(set *flag.FlagSet) error {
	if err := f.GenericFlag.Apply(set); err != nil {
		return err
	}
	for _, a := range f.aliases {
		set.Var(f.Value, a, f.Usage)
	}
	return nil
}

// allNames is the name and the aliases (Names() is the name alone).
func (f *aliasedFlag) allNames() []string { return append([]string{f.Name}, f.aliases...) }

// String is the help line with the aliases, as a plain aliased flag shows it.
func (f *aliasedFlag) String() string {
	g := *f.GenericFlag
	g.Aliases = f.aliases
	return cli.FlagStringer(&g)
}

func ctrValues(c *cli.Context, name string) []string {
	if l, ok := c.Generic(name).(*ctrList); ok && l != nil {
		return l.v
	}
	return nil
}

// runFlags are the flags create and run share (run adds -d, --sig-proxy,
// --detach-keys).
func runFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "name", Usage: "assign a `NAME` to the container"},
		ctrListFlag("env", []string{"e"}, "set environment variables (`KEY=VALUE`, or KEY to copy it)"),
		ctrListFlag("env-file", nil, "read in a `FILE` of environment variables"),
		&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working `DIR` inside the container"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "`USER[:GROUP]` name or id"},
		&cli.StringFlag{Name: "entrypoint", Usage: "overwrite the image's default `ENTRYPOINT`"},
		&cli.StringFlag{Name: "hostname", Aliases: []string{"h"}, Usage: "container host `NAME`"},
		ctrListFlag("label", []string{"l"}, "set metadata (`KEY=VALUE`)"),
		ctrListFlag("label-file", nil, "read in a line delimited `FILE` of labels"),
		ctrListFlag("volume", []string{"v"}, "bind mount a volume (`SRC:DST[:OPTS]`)"),
		ctrListFlag("tmpfs", nil, "mount a tmpfs `DIR[:OPTS]`"),
		ctrListFlag("volumes-from", nil, "mount volumes from the specified `CONTAINER`(s)[:ro|:rw]"),
		ctrListFlag("mount", nil, "attach a filesystem mount to the container (`type=bind|volume|tmpfs,source=...,target=...[,readonly]`)"),
		&cli.BoolFlag{Name: "read-only", Usage: "mount the container's root filesystem as read only"},
		&cli.StringFlag{Name: "network", Aliases: []string{"net"}, Value: "default", Usage: "connect to a `NETWORK`: default (private, loopback only), none, host, container:NAME"},
		&cli.StringFlag{Name: "log-driver", Value: container.DefaultLogDriver, Usage: "logging `DRIVER` for the container: json-file, local, none"},
		ctrListFlag("log-opt", nil, "log driver `OPTIONS` (max-size, max-file)"),
		&cli.StringFlag{Name: "health-cmd", Usage: "`COMMAND` to run to check health"},
		&cli.DurationFlag{Name: "health-interval", Usage: "time between running the check (`ms|s|m|h`) (default 30s)"},
		&cli.DurationFlag{Name: "health-timeout", Usage: "maximum time to allow one check to run (`ms|s|m|h`) (default 30s)"},
		&cli.DurationFlag{Name: "health-start-period", Usage: "start period for the container to initialize before counting retries towards unstable (`ms|s|m|h`) (default 0s)"},
		&cli.IntFlag{Name: "health-retries", Usage: "consecutive failures needed to report unhealthy"},
		&cli.BoolFlag{Name: "no-healthcheck", Usage: "disable any container-specified HEALTHCHECK"},
		ctrListFlag("add-host", nil, "add a custom host-to-IP mapping (`HOST:IP`)"),
		ctrListFlag("dns", nil, "set custom DNS `SERVERS`"),
		ctrListFlag("dns-search", nil, "set custom DNS search `DOMAINS`"),
		ctrListFlag("dns-option", []string{"dns-opt"}, "set DNS `OPTIONS`"),
		ctrListFlag("group-add", nil, "add additional `GROUPS` to join"),
		&cli.StringFlag{Name: "pid", Usage: "PID namespace to use (`MODE`: host)"},
		&cli.StringFlag{Name: "ipc", Usage: "IPC `MODE` to use: private, shareable, host"},
		&cli.StringFlag{Name: "uts", Usage: "UTS namespace to use (`MODE`: host)"},
		&cli.BoolFlag{Name: "init", Usage: "run an init inside the container that forwards signals and reaps processes"},
		&cli.BoolFlag{Name: "rm", Usage: "automatically remove the container when it exits"},
		&cli.StringFlag{Name: "restart", Value: "no", Usage: "restart `POLICY` to apply when a container exits: no, always, unless-stopped, on-failure[:max-retries]"},
		&cli.StringFlag{Name: "cidfile", Usage: "write the container ID to the `FILE`"},
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep STDIN open even if not attached"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
		&cli.StringSliceFlag{Name: "attach", Aliases: []string{"a"}, Usage: "attach to `STREAM` STDIN, STDOUT or STDERR"},
		&cli.StringFlag{Name: "pull", Value: "missing", Usage: "pull image before running (`POLICY`: always, missing, never)"},
		&cli.StringFlag{Name: "platform", Usage: "set `PLATFORM` if the image is multi-platform"},
		&cli.StringFlag{Name: "stop-signal", Usage: "`SIGNAL` to stop the container"},
		&cli.IntFlag{Name: "stop-timeout", Usage: "`SECONDS` to wait before killing the container on stop"},
		&cli.BoolFlag{Name: "privileged", Usage: "give extended privileges to this container"},
		ctrListFlag("cap-add", nil, "add Linux `CAPABILITIES`"),
		ctrListFlag("cap-drop", nil, "drop Linux `CAPABILITIES`"),
		ctrListFlag("security-opt", nil, "security `OPTIONS`"),
		ctrListFlag("publish", []string{"p"}, "publish a container's `PORT`(s) to the host"),
		&cli.BoolFlag{Name: "publish-all", Aliases: []string{"P"}, Usage: "publish all exposed ports to random ports"},
		ctrListFlag("expose", nil, "expose a `PORT` or a range of ports"),
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress the pull output"},
		// Resources (applied by isolate's cgroup setup).
		&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "memory `LIMIT`"},
		&cli.StringFlag{Name: "memory-swap", Usage: "swap `LIMIT` equal to memory plus swap: -1 for unlimited"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft `LIMIT`"},
		&cli.StringFlag{Name: "cpus", Usage: "`NUMBER` of CPUs"},
		&cli.Int64Flag{Name: "cpu-shares", Aliases: []string{"c"}, Usage: "CPU `SHARES` (relative weight)"},
		&cli.Int64Flag{Name: "cpu-period", Usage: "limit CPU CFS `PERIOD` (µs)"},
		&cli.Int64Flag{Name: "cpu-quota", Usage: "limit CPU CFS `QUOTA` (µs)"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "`CPUS` in which to allow execution (0-3, 0,1)"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "`MEMS` in which to allow execution (0-3, 0,1)"},
		&cli.Int64Flag{Name: "pids-limit", Usage: "tune container pids `LIMIT` (-1 for unlimited)"},
		&cli.IntFlag{Name: "blkio-weight", Usage: "block IO (relative `WEIGHT`), between 10 and 1000, or 0 to disable"},
	}, limitFlags()...)
}

// parseRunOptions turns create/run flags and arguments (IMAGE [COMMAND]
// [ARG...]) into engine options, rejecting bad values before anything
// touches the store.
func parseRunOptions(c *cli.Context) (engine.CreateOptions, error) {
	o := engine.CreateOptions{
		Image:    c.Args().First(),
		Name:     c.String("name"),
		Pull:     c.String("pull"),
		Platform: c.String("platform"),
		CIDFile:  c.String("cidfile"),
		Quiet:    c.Bool("quiet"),
	}
	if o.Image == "" {
		return o, store.Invalid("an image is required")
	}
	cfg := &o.Config
	cfg.Cmd = c.Args().Tail()
	if len(cfg.Cmd) == 0 {
		cfg.Cmd = nil
	}
	if c.IsSet("entrypoint") {
		o.EntrypointSet = true
		cfg.Entrypoint = []string{c.String("entrypoint")}
	}
	var err error
	if cfg.Env, err = ctrEnv(ctrValues(c, "env-file"), ctrValues(c, "env")); err != nil {
		return o, err
	}
	if cfg.Labels, err = ctrLabels(ctrValues(c, "label-file"), ctrValues(c, "label")); err != nil {
		return o, err
	}
	cfg.WorkingDir = c.String("workdir")
	if cfg.WorkingDir != "" && !strings.HasPrefix(cfg.WorkingDir, "/") {
		return o, store.Invalid("the working directory '%s' is invalid, it needs to be an absolute path", cfg.WorkingDir)
	}
	cfg.User = c.String("user")
	cfg.Hostname = c.String("hostname")
	cfg.StopSignal = c.String("stop-signal")
	if c.IsSet("stop-timeout") {
		t := c.Int("stop-timeout")
		cfg.StopTimeout = &t
	}
	if cfg.Healthcheck, err = ctrHealthcheck(c); err != nil {
		return o, err
	}
	cfg.Tty = c.Bool("tty")
	cfg.OpenStdin = c.Bool("interactive")
	cfg.StdinOnce = cfg.OpenStdin
	cfg.AttachStdin = cfg.OpenStdin
	cfg.AttachStdout, cfg.AttachStderr = true, true
	h := &o.HostConfig
	h.Binds = ctrValues(c, "volume")
	h.VolumesFrom = ctrValues(c, "volumes-from")
	for _, b := range h.Binds {
		if _, err := container.ParseVolume(b); err != nil {
			return o, err
		}
	}
	for _, t := range ctrValues(c, "tmpfs") {
		dst, opts, err := container.ParseTmpfs(t)
		if err != nil {
			return o, err
		}
		if h.Tmpfs == nil {
			h.Tmpfs = map[string]string{}
		}
		h.Tmpfs[dst] = opts
	}
	for _, v := range ctrValues(c, "mount") {
		m, err := container.ParseMountFlag(v)
		if err != nil {
			return o, err
		}
		if m.Bind != "" {
			h.Binds = append(h.Binds, m.Bind)
			continue
		}
		if h.Tmpfs == nil {
			h.Tmpfs = map[string]string{}
		}
		h.Tmpfs[m.TmpfsDst] = m.TmpfsOpts
	}
	h.ReadonlyRootfs = c.Bool("read-only")
	h.NetworkMode = c.String("network")
	if err := ctrHostOptions(c, h, cfg.Hostname); err != nil {
		return o, err
	}
	logOpts := map[string]string{}
	for _, kv := range ctrValues(c, "log-opt") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return o, store.Invalid("invalid key value pair format in logging opts: %s", kv)
		}
		logOpts[k] = v
	}
	if h.LogConfig, err = container.ParseLogConfig(c.String("log-driver"), logOpts); err != nil {
		return o, err
	}
	h.AutoRemove = c.Bool("rm")
	if h.RestartPolicy, err = container.ParseRestartPolicy(c.String("restart")); err != nil {
		return o, err
	}
	if h.AutoRemove && h.RestartPolicy.Name != "no" {
		return o, store.Invalid("conflicting options: cannot specify both --restart and --rm")
	}
	if c.IsSet("init") {
		init := c.Bool("init")
		h.Init = &init
	}
	h.Privileged = c.Bool("privileged")
	h.CapAdd = ctrValues(c, "cap-add")
	h.CapDrop = ctrValues(c, "cap-drop")
	h.SecurityOpt = ctrValues(c, "security-opt")
	h.PublishAll = c.Bool("publish-all")
	if err := ctrPorts(&o, ctrValues(c, "publish"), ctrValues(c, "expose")); err != nil {
		return o, err
	}
	ctrPortsWarning(c, h)
	if h.Resources, err = ctrResources(c); err != nil {
		return o, err
	}
	if err := parseLimitFlags(c, &o); err != nil {
		return o, err
	}
	return o, nil
}

// ctrHealthcheck reads the --health-* flags (nil: the image's, if any).
func ctrHealthcheck(c *cli.Context) (*v1.HealthConfig, error) {
	set := false
	for _, f := range []string{"health-cmd", "health-interval", "health-timeout", "health-start-period", "health-retries"} {
		set = set || c.IsSet(f)
	}
	if c.Bool("no-healthcheck") {
		if set {
			return nil, store.Invalid("--no-healthcheck conflicts with --health-* options")
		}
		return &v1.HealthConfig{Test: []string{"NONE"}}, nil
	}
	if !set {
		return nil, nil
	}
	h := &v1.HealthConfig{Interval: c.Duration("health-interval"), Timeout: c.Duration("health-timeout"),
		StartPeriod: c.Duration("health-start-period"), Retries: c.Int("health-retries")}
	for name, d := range map[string]time.Duration{"interval": h.Interval, "timeout": h.Timeout, "start-period": h.StartPeriod} {
		if d < 0 || (d > 0 && d < time.Millisecond) {
			return nil, store.Invalid("--health-%s cannot be less than 1ms", name)
		}
	}
	if h.Retries < 0 {
		return nil, store.Invalid("--health-retries cannot be negative")
	}
	if cmd := c.String("health-cmd"); cmd != "" {
		h.Test = []string{"CMD-SHELL", cmd}
	}
	return h, nil
}

// ctrHostOptions reads --add-host, --dns*, --group-add, --pid, --ipc and
// --uts into the host config.
func ctrHostOptions(c *cli.Context, h *container.HostConfig, hostname string) error {
	for _, v := range ctrValues(c, "add-host") {
		eh, err := container.ParseExtraHost(v)
		if err != nil {
			return err
		}
		h.ExtraHosts = append(h.ExtraHosts, eh)
	}
	h.DNS, h.DNSSearch, h.DNSOptions = ctrValues(c, "dns"), ctrValues(c, "dns-search"), ctrValues(c, "dns-option")
	if err := container.ValidateDNS(h.DNS); err != nil {
		return err
	}
	h.GroupAdd = ctrValues(c, "group-add")
	h.PidMode, h.UTSMode = c.String("pid"), c.String("uts")
	h.IpcMode = c.String("ipc")
	if h.IpcMode == "" {
		h.IpcMode = "private" // what Docker's inspect shows by default
	}
	return container.ValidateModes(h, hostname)
}

// ctrEnv reads --env-file files then -e values; "KEY" alone takes the
// value from skiff's environment, and is dropped when unset, as Docker does.
func ctrEnv(files, flags []string) ([]string, error) {
	var env []string
	for _, f := range files {
		lines, err := ctrReadLines(f)
		if err != nil {
			return nil, err
		}
		env = append(env, lines...)
	}
	env = append(env, flags...)
	out := env[:0]
	for _, kv := range env {
		k, _, hasVal := strings.Cut(kv, "=")
		if k == "" {
			return nil, store.Invalid("invalid environment variable: %s", kv)
		}
		if !hasVal {
			v, ok := os.LookupEnv(k)
			if !ok {
				continue
			}
			kv = k + "=" + v
		}
		out = append(out, kv)
	}
	return out, nil
}

func ctrLabels(files, flags []string) (map[string]string, error) {
	var all []string
	for _, f := range files {
		lines, err := ctrReadLines(f)
		if err != nil {
			return nil, err
		}
		all = append(all, lines...)
	}
	all = append(all, flags...)
	if len(all) == 0 {
		return nil, nil
	}
	labels := map[string]string{}
	for _, l := range all {
		k, v, _ := strings.Cut(l, "=")
		if k == "" {
			return nil, store.Invalid("invalid label '%s': empty name", l)
		}
		labels[k] = v
	}
	return labels, nil
}

// ctrReadLines reads a Docker env/label file: one entry per line, blank
// lines and # comments skipped.
func ctrReadLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, store.Invalid("%v", err) // "open x: no such file or directory", as Docker
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out, sc.Err()
}

// ctrResources records the resource flags in OCI form (nil when none).
func ctrResources(c *cli.Context) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{}
	set := false
	bytesFlag := func(name string) (*int64, error) {
		if !c.IsSet(name) {
			return nil, nil
		}
		v := c.String(name)
		if v == "-1" {
			n := int64(-1)
			return &n, nil
		}
		n, err := units.RAMInBytes(v)
		if err != nil {
			return nil, store.Invalid("invalid argument %q for \"--%s\" flag: %v", v, name, err)
		}
		return &n, nil
	}
	mem := &specs.LinuxMemory{}
	var err error
	if mem.Limit, err = bytesFlag("memory"); err != nil {
		return nil, err
	}
	if mem.Swap, err = bytesFlag("memory-swap"); err != nil {
		return nil, err
	}
	if mem.Reservation, err = bytesFlag("memory-reservation"); err != nil {
		return nil, err
	}
	if mem.Limit != nil && *mem.Limit > 0 && *mem.Limit < 6*1024*1024 {
		return nil, store.Invalid("Minimum memory limit allowed is 6MB")
	}
	if mem.Swap != nil && mem.Limit == nil {
		return nil, store.Invalid("You should always set the Memory limit when using Memoryswap limit, see usage.")
	}
	if mem.Limit != nil || mem.Swap != nil || mem.Reservation != nil {
		r.Memory, set = mem, true
	}
	cpu := &specs.LinuxCPU{}
	cpuSet := false
	if c.IsSet("cpus") {
		f, err := strconv.ParseFloat(c.String("cpus"), 64)
		if err != nil || f < 0 {
			return nil, store.Invalid("invalid argument %q for \"--cpus\" flag", c.String("cpus"))
		}
		period := uint64(100000)
		quota := int64(f * float64(period))
		cpu.Period, cpu.Quota, cpuSet = &period, &quota, true
	}
	if c.IsSet("cpu-shares") {
		v := uint64(c.Int64("cpu-shares"))
		cpu.Shares, cpuSet = &v, true
	}
	if c.IsSet("cpu-period") {
		v := uint64(c.Int64("cpu-period"))
		cpu.Period, cpuSet = &v, true
	}
	if c.IsSet("cpu-quota") {
		v := c.Int64("cpu-quota")
		cpu.Quota, cpuSet = &v, true
	}
	if c.IsSet("cpus") && (c.IsSet("cpu-period") || c.IsSet("cpu-quota")) {
		return nil, store.Invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set")
	}
	cpu.Cpus, cpu.Mems = c.String("cpuset-cpus"), c.String("cpuset-mems")
	if cpuSet || cpu.Cpus != "" || cpu.Mems != "" {
		r.CPU, set = cpu, true
	}
	if c.IsSet("pids-limit") {
		v := c.Int64("pids-limit")
		r.Pids, set = &specs.LinuxPids{Limit: &v}, true
	}
	if c.IsSet("blkio-weight") {
		w := c.Int("blkio-weight")
		if w != 0 && (w < 10 || w > 1000) {
			return nil, store.Invalid("invalid argument %d for \"--blkio-weight\" flag: range is 10 to 1000", w)
		}
		v := uint16(w)
		r.BlockIO, set = &specs.LinuxBlockIO{Weight: &v}, true
	}
	if !set {
		return nil, nil
	}
	return r, nil
}

// ctrArgs checks the argument count with Docker's message.
func ctrArgs(c *cli.Context, min int, exact bool) error {
	n := c.NArg()
	if (exact && n != min) || n < min {
		kind := "at least"
		if exact {
			kind = "exactly"
		}
		plural := ""
		if min != 1 {
			plural = "s"
		}
		return store.Invalid("\"skiff %s\" requires %s %d argument%s.\nSee 'skiff %s --help'.", c.Command.FullName(), kind, min, plural, c.Command.FullName())
	}
	return nil
}
