package engine

import (
	units "github.com/docker/go-units"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/isolate"
	"github.com/skiff-dev/skiff/store"
)

// UpdateOptions are `update`'s new limits: nil fields stay as they are.
// NanoCpus (--cpus) replaces any quota and period.
type UpdateOptions struct {
	Resources     *specs.LinuxResources
	NanoCpus      *int64
	RestartPolicy *container.RestartPolicy // --restart: the supervisor reads it at the next exit
}

// Update changes a container's limits: the record always, and the cgroup
// too while it runs (Docker's `update`).
func (e *Engine) Update(ref string, o UpdateOptions) error {
	cs, c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	l, c, err := lockRecord(cs, c.ID)
	if err != nil {
		return err
	}
	defer l.Unlock()
	if p := o.RestartPolicy; p != nil && p.Name != "no" && c.HostConfig.AutoRemove {
		return store.Invalid("Restart policy cannot be updated because AutoRemove is enabled for the container")
	}
	delta := updateDelta(o)
	next := mergeResources(c.HostConfig.Resources, delta)
	if err := checkUpdate(c.HostConfig.Resources, next, delta); err != nil {
		return err
	}
	if c.IsRunning() && !emptyResources(delta) {
		if err := isolate.Update(container.CgroupHandle(c), delta); err != nil {
			return store.Invalid("Cannot update container %s: %v", c.ID, err)
		}
	}
	_, err = cs.UpdateLocked(c.ID, func(r *container.Container) error {
		if p := next.Pids; p != nil && p.Limit != nil && *p.Limit <= 0 {
			next.Pids = nil // unlimited (written as "max"): null in inspect, as Docker's
		}
		r.HostConfig.Resources = next
		if o.RestartPolicy != nil {
			r.HostConfig.RestartPolicy = *o.RestartPolicy
		}
		if o.NanoCpus != nil {
			r.HostConfig.NanoCpus = *o.NanoCpus
		} else if delta.CPU != nil && (delta.CPU.Quota != nil || delta.CPU.Period != nil) {
			r.HostConfig.NanoCpus = 0
		}
		return nil
	})
	return err
}

// updateDelta is what to write to the cgroup: --cpus as quota and period.
func updateDelta(o UpdateOptions) *specs.LinuxResources {
	d := &specs.LinuxResources{}
	if o.Resources != nil {
		cp := *o.Resources
		d = &cp
	}
	if o.NanoCpus != nil {
		cpu := &specs.LinuxCPU{}
		if d.CPU != nil {
			c := *d.CPU
			cpu = &c
		}
		period := uint64(100000)
		quota := *o.NanoCpus * int64(period) / 1e9
		if quota == 0 {
			quota = -1 // --cpus 0: no limit
		}
		cpu.Period, cpu.Quota = &period, &quota
		d.CPU = cpu
	}
	return d
}

func emptyResources(r *specs.LinuxResources) bool {
	return r.Memory == nil && r.CPU == nil && r.Pids == nil && r.BlockIO == nil
}

// mergeResources lays delta's set fields over cur (a copy).
func mergeResources(cur, delta *specs.LinuxResources) *specs.LinuxResources {
	out := &specs.LinuxResources{}
	if cur != nil {
		cp := *cur
		out = &cp
	}
	if d := delta.Memory; d != nil {
		m := &specs.LinuxMemory{}
		if out.Memory != nil {
			c := *out.Memory
			m = &c
		}
		m.Limit = pick(d.Limit, m.Limit)
		m.Swap = pick(d.Swap, m.Swap)
		m.Reservation = pick(d.Reservation, m.Reservation)
		out.Memory = m
	}
	if d := delta.CPU; d != nil {
		c := &specs.LinuxCPU{}
		if out.CPU != nil {
			cp := *out.CPU
			c = &cp
		}
		c.Shares, c.Quota, c.Period = pick(d.Shares, c.Shares), pick(d.Quota, c.Quota), pick(d.Period, c.Period)
		if d.Cpus != "" {
			c.Cpus = d.Cpus
		}
		if d.Mems != "" {
			c.Mems = d.Mems
		}
		out.CPU = c
	}
	if delta.Pids != nil {
		out.Pids = delta.Pids
	}
	if delta.BlockIO != nil {
		out.BlockIO = delta.BlockIO
	}
	return out
}

func pick[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

// checkUpdate applies Docker's rules for memory updates: a new memory
// limit must stay below the swap limit already set unless both change.
func checkUpdate(cur, next, delta *specs.LinuxResources) error {
	m := next.Memory
	if m == nil || m.Limit == nil || *m.Limit <= 0 {
		return nil
	}
	if *m.Limit < 6*1024*1024 {
		return store.Invalid("Minimum memory limit allowed is 6MB")
	}
	if delta.Memory != nil && delta.Memory.Limit != nil && delta.Memory.Swap == nil && m.Swap != nil && *m.Swap > 0 && *m.Limit > *m.Swap {
		return store.Invalid("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")
	}
	if m.Swap != nil && *m.Swap > 0 && *m.Swap < *m.Limit {
		return store.Invalid("Minimum memoryswap limit should be larger than memory limit, see usage")
	}
	if cur == nil || cur.Memory == nil || cur.Memory.Limit == nil || *cur.Memory.Limit <= 0 {
		// Docker sets swap to twice the memory when a first limit comes
		// without one.
		if m.Swap == nil || *m.Swap == 0 {
			swap := 2 * *m.Limit
			m.Swap = &swap
			if delta.Memory != nil {
				delta.Memory.Swap = &swap
			}
		}
	}
	return nil
}

// LimitsJSON is the part of inspect's HostConfig that Limits holds.
type LimitsJSON struct {
	CgroupParent string                    `json:"CgroupParent"`
	Devices      []container.DeviceMapping `json:"Devices"`
	Ulimits      []*units.Ulimit           `json:"Ulimits"`
	Sysctls      map[string]string         `json:"Sysctls,omitempty"`
	ShmSize      int64                     `json:"ShmSize"`
	OomScoreAdj  int                       `json:"OomScoreAdj"`
}

func limitsJSON(h container.HostConfig) LimitsJSON {
	j := LimitsJSON{
		CgroupParent: h.CgroupParent, Devices: h.Devices, Ulimits: h.Ulimits,
		Sysctls: h.Sysctls, ShmSize: h.ShmSize, OomScoreAdj: h.OomScoreAdj,
	}
	if j.Devices == nil {
		j.Devices = []container.DeviceMapping{}
	}
	if j.Ulimits == nil {
		j.Ulimits = []*units.Ulimit{}
	}
	if j.ShmSize == 0 {
		j.ShmSize = container.DefaultShmSize
	}
	return j
}
