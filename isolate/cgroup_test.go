package isolate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func ptrTo[T any](v T) *T { return &v }

// noUrandomRead is Docker's device rules, then one denying reads of
// /dev/urandom (the last matching rule wins).
func noUrandomRead() []specs.LinuxDeviceCgroup {
	dev := func(typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: true, Type: typ, Major: &major, Minor: &minor, Access: access}
	}
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"}, dev("c", -1, -1, "m"), dev("b", -1, -1, "m"),
		dev("c", 1, 3, "rwm"), dev("c", 1, 5, "rwm"), dev("c", 1, 7, "rwm"), dev("c", 1, 8, "rwm"),
		dev("c", 1, 9, "rwm"), dev("c", 5, 0, "rwm"), dev("c", 5, 1, "rwm"), dev("c", 5, 2, "rwm"),
		dev("c", 136, -1, "rwm"),
		{Allow: false, Type: "c", Major: ptrTo(int64(1)), Minor: ptrTo(int64(9)), Access: "r"},
	}
}

// TestCgroupApply checks the files limits are written to, on a fake tree
// (this machine's v2 hierarchy has no controllers to take real limits).
func TestCgroupApply(t *testing.T) {
	res := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptrTo(int64(64 << 20)), Swap: ptrTo(int64(128 << 20)), Reservation: ptrTo(int64(32 << 20))},
		CPU:    &specs.LinuxCPU{Shares: ptrTo(uint64(512)), Quota: ptrTo(int64(50000)), Period: ptrTo(uint64(100000)), Cpus: "0"},
		Pids:   &specs.LinuxPids{Limit: ptrTo(int64(100))},
	}
	tests := []struct {
		name string
		v2   bool
		want map[string]string // "controller/file" (v1) or "file" (v2) -> content
	}{
		{"v1", false, map[string]string{
			"memory/memory.limit_in_bytes": "67108864", "memory/memory.memsw.limit_in_bytes": "134217728",
			"memory/memory.soft_limit_in_bytes": "33554432", "cpu/cpu.shares": "512",
			"cpu/cpu.cfs_quota_us": "50000", "cpu/cpu.cfs_period_us": "100000",
			"cpuset/cpuset.cpus": "0", "pids/pids.max": "100",
		}},
		{"v2", true, map[string]string{
			"memory.max": "67108864", "memory.swap.max": "67108864", "memory.low": "33554432",
			"cpu.weight": "20", "cpu.max": "50000 100000", "cpuset.cpus": "0", "pids.max": "100",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			g := &cgroup{v2: tt.v2, dirs: map[string]string{}}
			if tt.v2 {
				g.dirs[""] = base
				// memory.swap.max only exists with swap accounting.
				os.WriteFile(filepath.Join(base, "memory.swap.max"), nil, 0o644)
			} else {
				for _, c := range []string{"memory", "cpu", "cpuset", "pids"} {
					g.dirs[c] = filepath.Join(base, c)
					os.MkdirAll(g.dirs[c], 0o755)
				}
				// memsw is only written where swap accounting exists.
				os.WriteFile(filepath.Join(base, "memory/memory.memsw.limit_in_bytes"), nil, 0o644)
			}
			var err error
			if tt.v2 {
				err = g.applyV2(res)
			} else {
				err = g.applyV1(res)
			}
			if err != nil {
				t.Fatal(err)
			}
			for file, want := range tt.want {
				got, err := os.ReadFile(filepath.Join(base, file))
				if err != nil || string(got) != want {
					t.Errorf("%s = %q (%v), want %q", file, got, err, want)
				}
			}
		})
	}
}

func TestCgroupOOMKilled(t *testing.T) {
	tests := []struct {
		name, file, content string
		v2, want            bool
	}{
		{"v1 none", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n", false, false},
		{"v1 killed", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n", false, true},
		{"v2 none", "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n", true, false},
		{"v2 killed", "memory.events", "low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o644)
			g := &cgroup{v2: tt.v2, dirs: map[string]string{"memory": dir, "": dir}}
			if got := g.oomKilled(); got != tt.want {
				t.Errorf("oomKilled = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCgroupV2Hierarchy runs a container in a real cgroup v2 hierarchy
// (this hybrid machine's /sys/fs/cgroup/unified), namespaced there.
func TestCgroupV2Hierarchy(t *testing.T) {
	requireRoot(t)
	old := cgroupRoot
	cgroupRoot = "/sys/fs/cgroup/unified"
	defer func() { cgroupRoot = old }()
	if !isCgroup2() {
		t.Fatalf("%s is not a cgroup v2 mount", cgroupRoot)
	}
	root := busyboxRootfs(t)
	spec := dockerSpec(root, "sh", "-c", "grep '^0::' /proc/self/cgroup; grep -c ' /sys/fs/cgroup cgroup2 ro,' /proc/mounts; wc -l < /sys/fs/cgroup/cgroup.procs; "+ // sh and wc
		"head -c 1 /dev/zero | wc -c; head -c 1 /dev/urandom 2>&1 >/dev/null | grep -c 'not permitted'")
	spec.Linux.Resources = &specs.LinuxResources{Devices: noUrandomRead()}
	c := newContainer(t, spec)
	g := cgroupFor(c)
	if !g.v2 || !strings.HasPrefix(g.dirs[""], cgroupRoot+"/skiff/") {
		t.Fatalf("cgroup = %+v", g)
	}
	r := run(t, c)
	if r.err != nil || r.stdout != "0::/\n1\n2\n1\n1\n" {
		t.Fatalf("run: %v %q (stderr %q)", r.err, r.stdout, r.stderr)
	}
	if err := Cleanup(c); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(g.dirs[""]); !os.IsNotExist(err) {
		t.Errorf("%s left behind", g.dirs[""])
	}
}

func TestStatsAndUpdate(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	pids := int64(50)
	spec := dockerSpec(root, "sh", "-c", "while :; do :; done")
	spec.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &pids},
		Memory: &specs.LinuxMemory{Limit: ptrTo(int64(64 << 20))}}
	c, _ := startLong(t, spec)
	time.Sleep(100 * time.Millisecond)
	st, err := ReadStats(c)
	if err != nil {
		t.Fatal(err)
	}
	if st.CPUNanos == 0 || st.MemoryUsage == 0 || st.MemoryLimit != 64<<20 || st.Pids != 1 || st.PidsLimit != 50 {
		t.Errorf("stats = %+v", st)
	}
	more := int64(128 << 20)
	if err := Update(c, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &more, Swap: &more}, Pids: &specs.LinuxPids{Limit: ptrTo(int64(9))}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := ReadStats(c); st.MemoryLimit != 128<<20 || st.PidsLimit != 9 {
		t.Errorf("after update: %+v", st)
	}
}

func TestHasLimits(t *testing.T) {
	tests := []struct {
		name string
		res  *specs.LinuxResources
		want bool
	}{
		{"nil", nil, false},
		{"devices only", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}, false},
		{"zero values", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrTo(int64(0))}, CPU: &specs.LinuxCPU{Shares: ptrTo(uint64(0))}}, false},
		{"memory", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptrTo(int64(1 << 20))}}, true},
		{"cpuset", &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}}, true},
		{"pids", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptrTo(int64(10))}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hasLimits(tt.res); got != tt.want {
				t.Errorf("hasLimits = %v, want %v", got, tt.want)
			}
		})
	}
}
