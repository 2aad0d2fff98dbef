package main

import (
	"runtime"
	"strconv"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/engine"
	"github.com/skiff-dev/skiff/store"
)

// limitFlags are the run/create flags of issue 7 that ctrResources does not
// already read: they land in HostConfig.Limits.
func limitFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "cgroup-parent", Usage: "optional parent `CGROUP` for the container"},
		ctrListFlag("device", nil, "add a host `DEVICE` to the container (HOST[:CONTAINER][:PERMS])"),
		ctrListFlag("ulimit", nil, "ulimit `OPTIONS` (NAME=SOFT[:HARD])"),
		ctrListFlag("sysctl", nil, "namespaced kernel parameter `KEY=VALUE`"),
		&cli.StringFlag{Name: "shm-size", Usage: "`SIZE` of /dev/shm"},
		&cli.IntFlag{Name: "oom-score-adj", Usage: "tune host's OOM preferences (`-1000 to 1000`)"},
	}
}

// parseLimitFlags fills HostConfig.Limits and completes Resources the way
// Docker's daemon does (--cpus kept as NanoCpus, memory-swap defaulting to
// twice the memory), with Docker's messages for bad values.
func parseLimitFlags(c *cli.Context, o *engine.CreateOptions) error {
	h := &o.HostConfig
	if r := h.Resources; r != nil && r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit <= 0 {
		r.Pids = nil // 0 and -1 mean unlimited: inspect shows null, as Docker's
	}
	if err := cpusFlag(c, &h.Limits); err != nil {
		return err
	}
	if err := checkMemory(h); err != nil {
		return err
	}
	h.CgroupParent = c.String("cgroup-parent")
	for _, d := range ctrValues(c, "device") {
		m, err := container.ParseDevice(d)
		if err != nil {
			return err
		}
		h.Devices = append(h.Devices, m)
	}
	for _, u := range ctrValues(c, "ulimit") {
		ul, err := container.ParseUlimit(u)
		if err != nil {
			return err
		}
		h.Ulimits = append(h.Ulimits, ul)
	}
	for _, kv := range ctrValues(c, "sysctl") {
		k, v, err := container.ValidateSysctl(kv, h.NetworkMode)
		if err != nil {
			return err
		}
		if h.Sysctls == nil {
			h.Sysctls = map[string]string{}
		}
		h.Sysctls[k] = v
	}
	if c.IsSet("shm-size") {
		n, err := units.RAMInBytes(c.String("shm-size"))
		if err != nil {
			return store.Invalid("invalid argument %q for \"--shm-size\" flag: %v", c.String("shm-size"), err)
		}
		if n <= 0 {
			return store.Invalid("SHM size can not be less than 0")
		}
		h.ShmSize = n
	}
	h.OomScoreAdj = c.Int("oom-score-adj")
	return container.ValidateOomScoreAdj(h.OomScoreAdj)
}

// cpusFlag records --cpus as Docker does (NanoCpus) and checks it against
// the CPUs this host has.
func cpusFlag(c *cli.Context, l *container.Limits) error {
	if !c.IsSet("cpus") {
		return nil
	}
	f, err := strconv.ParseFloat(c.String("cpus"), 64)
	if err != nil || f < 0 {
		return store.Invalid("invalid argument %q for \"--cpus\" flag: failed to parse %s as a rational number", c.String("cpus"), c.String("cpus"))
	}
	n := runtime.NumCPU()
	if nano := int64(f * 1e9); nano != 0 && (nano < 1e7 || nano > int64(n)*1e9) {
		return store.Invalid("Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", n, n)
	}
	l.NanoCpus = int64(f * 1e9)
	return nil
}

// checkMemory applies Docker's memory rules: swap at least memory, and
// twice the memory when only --memory is given.
func checkMemory(h *container.HostConfig) error {
	if h.Resources == nil || h.Resources.Memory == nil {
		return nil
	}
	m := h.Resources.Memory
	if m.Limit == nil || *m.Limit <= 0 {
		return nil
	}
	if m.Swap == nil || *m.Swap == 0 {
		swap := 2 * *m.Limit
		m.Swap = &swap
	}
	if *m.Swap > 0 && *m.Swap < *m.Limit {
		return store.Invalid("Minimum memoryswap limit should be larger than memory limit, see usage")
	}
	if m.Reservation != nil && *m.Reservation > *m.Limit {
		return store.Invalid("Minimum memory limit can not be less than memory reservation limit, see usage")
	}
	return nil
}
