package engine

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/isolate"
)

// StatsEntry is one container's line of `stats`, from two readings of its
// cgroup Interval apart (CPU % needs a delta, as Docker's does).
type StatsEntry struct {
	ID, Name    string
	Running     bool
	CPUPercent  float64
	MemUsage    uint64
	MemLimit    uint64 // the host's memory when the container has no limit
	MemPercent  float64
	NetRx       uint64
	NetTx       uint64
	BlockRead   uint64
	BlockWrite  uint64
	Pids        uint64
	Err         error // could not be read (reported once per line by the CLI)
	cpu0, wall0 uint64
}

// StatsTargets are the containers `stats` shows: the named ones (each must
// exist), else the running ones, or all with all.
func (e *Engine) StatsTargets(refs []string, all bool) ([]*container.Container, error) {
	cs, err := e.containers()
	if err != nil {
		return nil, err
	}
	if len(refs) > 0 {
		out := make([]*container.Container, 0, len(refs))
		for _, r := range refs {
			c, err := cs.Lookup(r)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	}
	list, err := cs.List()
	if err != nil {
		return nil, err
	}
	var out []*container.Container
	for _, c := range list {
		if all || c.IsRunning() {
			out = append(out, c)
		}
	}
	return out, nil
}

// Stats samples every container twice, interval apart, and returns one
// entry each (zeros for a container that is not running).
func (e *Engine) Stats(list []*container.Container, interval time.Duration) []StatsEntry {
	out := make([]StatsEntry, len(list))
	for i, c := range list {
		out[i] = StatsEntry{ID: c.ID, Name: c.Name, Running: c.IsRunning()}
		if out[i].Running {
			sampleStats(&out[i], c)
		}
	}
	time.Sleep(interval)
	hostMem := hostMemory()
	var wg sync.WaitGroup
	for i, c := range list {
		if !out[i].Running || out[i].Err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cpu, wall := out[i].cpu0, out[i].wall0
			sampleStats(&out[i], c)
			if dw := out[i].wall0 - wall; dw > 0 && out[i].cpu0 >= cpu {
				out[i].CPUPercent = float64(out[i].cpu0-cpu) / float64(dw) * 100
			}
			if out[i].MemLimit == 0 || out[i].MemLimit > hostMem {
				out[i].MemLimit = hostMem
			}
			if out[i].MemLimit > 0 {
				out[i].MemPercent = float64(out[i].MemUsage) / float64(out[i].MemLimit) * 100
			}
		}()
	}
	wg.Wait()
	return out
}

// sampleStats reads the cgroup and network counters into s.
func sampleStats(s *StatsEntry, c *container.Container) {
	st, err := isolate.ReadStats(container.CgroupHandle(c))
	if err != nil {
		s.Err = fmt.Errorf("container %s: %w", s.Name, err)
		return
	}
	s.cpu0, s.wall0 = st.CPUNanos, uint64(time.Now().UnixNano())
	s.MemUsage, s.MemLimit, s.Pids = st.MemoryUsage, st.MemoryLimit, st.Pids
	s.BlockRead, s.BlockWrite = st.BlkRead, st.BlkWrite
	s.NetRx, s.NetTx = netIO(c.State.Pid)
}

// netIO sums the container's interfaces but loopback (Docker counts its
// network endpoints; skiff's default network has none, so this is 0 there).
func netIO(pid int) (rx, tx uint64) {
	if pid <= 0 {
		return 0, 0
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/net/dev")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) < 9 {
			continue
		}
		r, _ := strconv.ParseUint(fields[0], 10, 64)
		t, _ := strconv.ParseUint(fields[8], 10, 64)
		rx, tx = rx+r, tx+t
	}
	return rx, tx
}

// hostMemory is MemTotal in bytes (the limit docker stats shows for a
// container without one).
func hostMemory() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
