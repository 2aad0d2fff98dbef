package isolate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestCgroupV2Writes checks the v2 file values against a plain directory
// standing in for a cgroup (the real hierarchy is tested in a VM:
// e2e/cgroupv2_vm_test.go).
func TestCgroupV2Writes(t *testing.T) {
	tests := []struct {
		name     string
		res      *specs.LinuxResources
		noSwap   bool // the kernel has no swap accounting: no memory.swap.max
		want     map[string]string
		notWrite []string
	}{
		{
			name: "memory with swap and reservation",
			res:  &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrTo(int64(64 << 20)), Swap: ptrTo(int64(128 << 20)), Reservation: ptrTo(int64(32 << 20))}},
			want: map[string]string{"memory.max": "67108864", "memory.swap.max": "67108864", "memory.low": "33554432"},
		},
		{
			name: "unlimited swap",
			res:  &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrTo(int64(64 << 20)), Swap: ptrTo(int64(-1))}},
			want: map[string]string{"memory.max": "67108864", "memory.swap.max": "max"},
		},
		{
			name:     "no swap accounting",
			res:      &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrTo(int64(64 << 20)), Swap: ptrTo(int64(128 << 20))}},
			noSwap:   true,
			want:     map[string]string{"memory.max": "67108864"},
			notWrite: []string{"memory.swap.max"},
		},
		{
			name: "cpus, shares, cpuset",
			res:  &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptrTo(int64(50000)), Period: ptrTo(uint64(100000)), Shares: ptrTo(uint64(1024)), Cpus: "0-1"}},
			want: map[string]string{"cpu.max": "50000 100000", "cpu.weight": "39", "cpuset.cpus": "0-1"},
		},
		{
			name: "pids limit, then unlimited",
			res:  &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptrTo(int64(50))}},
			want: map[string]string{"pids.max": "50"},
		},
		{
			name: "pids -1 is max",
			res:  &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptrTo(int64(-1))}},
			want: map[string]string{"pids.max": "max"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if !tt.noSwap {
				os.WriteFile(filepath.Join(dir, "memory.swap.max"), []byte("max\n"), 0o644)
			}
			g := &cgroup{v2: true, dirs: map[string]string{"": dir}}
			if err := g.applyV2(tt.res); err != nil {
				t.Fatal(err)
			}
			for f, v := range tt.want {
				if got, _ := os.ReadFile(filepath.Join(dir, f)); string(got) != v {
					t.Errorf("%s = %q, want %q", f, got, v)
				}
			}
			for _, f := range tt.notWrite {
				if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
					t.Errorf("%s written", f)
				}
			}
		})
	}
}

func TestBlockIOParsing(t *testing.T) {
	dir := t.TempDir()
	v1 := filepath.Join(dir, "v1")
	os.WriteFile(v1, []byte("8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\n8:16 Read 1000\nTotal 13288\n"), 0o644)
	if r, w := blkioV1(v1); r != 5096 || w != 8192 {
		t.Errorf("blkioV1 = %d, %d; want 5096, 8192", r, w)
	}
	v2 := filepath.Join(dir, "v2")
	os.WriteFile(v2, []byte("8:0 rbytes=4096 wbytes=100 rios=1 wios=1 dbytes=0 dios=0\n8:16 rbytes=4 wbytes=0 rios=1 wios=0\n"), 0o644)
	if r, w := ioStatV2(v2); r != 4100 || w != 100 {
		t.Errorf("ioStatV2 = %d, %d; want 4100, 100", r, w)
	}
	if r, w := ioStatV2(filepath.Join(dir, "missing")); r != 0 || w != 0 || !strings.HasPrefix(pidsMax(0), "max") {
		t.Errorf("missing io.stat: %d %d", r, w)
	}
}
