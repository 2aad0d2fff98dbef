package isolate

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// CgroupStats is what `stats` shows, read from the container's cgroup.
// A limit of 0 means none.
type CgroupStats struct {
	CPUNanos    uint64 // CPU time used, all CPUs
	MemoryUsage uint64 // bytes, without inactive page cache (as docker stats)
	MemoryLimit uint64
	Pids        uint64
	PidsLimit   uint64
	BlkRead     uint64 // bytes read from and written to block devices
	BlkWrite    uint64
}

var errNoCgroup = errors.New("container has no cgroup")

// ReadStats reads c's cgroup counters.
func ReadStats(c *Container) (*CgroupStats, error) {
	g := cgroupFor(c)
	if g == nil {
		_, why := CgroupsAvailable()
		return nil, errors.New(why)
	}
	if g.v2 {
		return g.statsV2()
	}
	return g.statsV1()
}

// Update changes the limits of c's running cgroup (`skiff update`).
func Update(c *Container, res *specs.LinuxResources) error {
	g := cgroupFor(c)
	if g == nil {
		_, why := CgroupsAvailable()
		return errors.New(why)
	}
	if g.v2 {
		return g.applyV2(res)
	}
	return g.applyV1(res)
}

func (g *cgroup) statsV1() (*CgroupStats, error) {
	var st CgroupStats
	mem, ok := g.dirs["memory"]
	if !ok {
		return nil, errNoCgroup
	}
	if _, err := os.Stat(mem); err != nil {
		return nil, err
	}
	cpu := g.dirs["cpuacct"]
	if cpu == "" {
		cpu = g.dirs["cpu,cpuacct"]
	}
	st.CPUNanos = readUint(filepath.Join(cpu, "cpuacct.usage"))
	st.MemoryUsage = sub(readUint(filepath.Join(mem, "memory.usage_in_bytes")), statKey(filepath.Join(mem, "memory.stat"), "total_inactive_file"))
	if l := readUint(filepath.Join(mem, "memory.limit_in_bytes")); l < 1<<62 {
		st.MemoryLimit = l
	}
	st.Pids = readUint(filepath.Join(g.dirs["pids"], "pids.current"))
	st.PidsLimit = readUint(filepath.Join(g.dirs["pids"], "pids.max"))
	st.BlkRead, st.BlkWrite = blkioV1(filepath.Join(g.dirs["blkio"], "blkio.throttle.io_service_bytes_recursive"))
	return &st, nil
}

func (g *cgroup) statsV2() (*CgroupStats, error) {
	dir := g.dirs[""]
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	st := &CgroupStats{
		CPUNanos:    statKey(filepath.Join(dir, "cpu.stat"), "usage_usec") * 1000,
		MemoryUsage: sub(readUint(filepath.Join(dir, "memory.current")), statKey(filepath.Join(dir, "memory.stat"), "inactive_file")),
		MemoryLimit: readUint(filepath.Join(dir, "memory.max")),
		Pids:        readUint(filepath.Join(dir, "pids.current")),
		PidsLimit:   readUint(filepath.Join(dir, "pids.max")),
	}
	st.BlkRead, st.BlkWrite = ioStatV2(filepath.Join(dir, "io.stat"))
	return st, nil
}

// blkioV1 sums the Read and Write lines of a v1 io_service_bytes file
// ("8:0 Read 4096").
func blkioV1(path string) (read, write uint64) {
	data, _ := os.ReadFile(path)
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		n, _ := strconv.ParseUint(f[2], 10, 64)
		switch f[1] {
		case "Read":
			read += n
		case "Write":
			write += n
		}
	}
	return read, write
}

// ioStatV2 sums rbytes and wbytes over the devices of a v2 io.stat
// ("8:0 rbytes=4096 wbytes=0 ...").
func ioStatV2(path string) (read, write uint64) {
	data, _ := os.ReadFile(path)
	for line := range strings.SplitSeq(string(data), "\n") {
		for _, kv := range strings.Fields(line) {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.ParseUint(v, 10, 64)
			switch k {
			case "rbytes":
				read += n
			case "wbytes":
				write += n
			}
		}
	}
	return read, write
}

// readUint reads a one-number cgroup file; "max" and errors read as 0.
func readUint(path string) uint64 {
	data, _ := os.ReadFile(path)
	n, _ := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	return n
}

// statKey reads "key value" from a flat-keyed cgroup file.
func statKey(path, key string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok && k == key {
			n, _ := strconv.ParseUint(v, 10, 64)
			return n
		}
	}
	return 0
}

func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}
