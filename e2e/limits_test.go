package e2e

// Resource limits (issue 7): run/create flags land in inspect and in the
// container's own cgroup files (read here from the host), OOM kills are
// reported, a fork bomb stops at --pids-limit, --cpus holds a busy loop,
// `stats` and `update` read and change the cgroup. Rootless users without a
// delegated cgroup get a clear refusal instead of silent no-limits.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// limEnv is a root env with busybox pulled.
func limEnv(t *testing.T) *Env {
	t.Helper()
	env := newEnv(t)
	env.mustRun("pull", "-q", "busybox")
	return env
}

// limRunD starts a detached container, returns its id, and removes it
// when the test ends.
func limRunD(t *testing.T, env *Env, args ...string) string {
	t.Helper()
	id := strings.TrimSpace(env.mustRun(append([]string{"run", "-d"}, args...)...))
	if len(id) != 64 {
		t.Fatalf("run -d printed %q, want a 64-hex id", id)
	}
	t.Cleanup(func() { env.run("rm", "-f", id) })
	return id
}

// cgroupV2 says whether the host runs the unified hierarchy only.
func cgroupV2() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// cgDir is a container's cgroup directory for a v1 controller (ctrl), or
// its one v2 directory; rel is the cgroup path below the root.
func cgDir(ctrl, rel string) string {
	if cgroupV2() {
		return filepath.Join("/sys/fs/cgroup", rel)
	}
	return filepath.Join("/sys/fs/cgroup", ctrl, rel)
}

// cgRead reads one cgroup file of container id: v1 name or v2 name, as
// the host has it.
func cgRead(t *testing.T, id, ctrl, v1, v2 string) string {
	t.Helper()
	file := filepath.Join(cgDir(ctrl, "skiff/"+id), v1)
	if cgroupV2() {
		file = filepath.Join(cgDir(ctrl, "skiff/"+id), v2)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read cgroup file: %v", err)
	}
	return strings.TrimSpace(string(data))
}

// cpuUsageNanos is the cgroup's own CPU accounting.
func cpuUsageNanos(t *testing.T, id string) uint64 {
	t.Helper()
	if cgroupV2() {
		for _, line := range strings.Split(cgRead(t, id, "", "", "cpu.stat"), "\n") {
			if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
				n, _ := strconv.ParseUint(v, 10, 64)
				return n * 1000
			}
		}
		t.Fatal("no usage_usec in cpu.stat")
	}
	n, err := strconv.ParseUint(cgRead(t, id, "cpuacct", "cpuacct.usage", ""), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRunLimitsInspectAndCgroup(t *testing.T) {
	env := limEnv(t)
	id := limRunD(t, env, "--name", "lim", "--memory", "64m", "--memory-reservation", "32m",
		"--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0", "--pids-limit", "50",
		"busybox", "sleep", "300")
	var hc map[string]any
	if err := json.Unmarshal([]byte(inspectF(env, "{{json .HostConfig}}", "lim")), &hc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Memory": 67108864.0, "MemorySwap": 134217728.0, "MemoryReservation": 33554432.0,
		"NanoCpus": 5e8, "CpuPeriod": 0.0, "CpuQuota": 0.0, "CpuShares": 512.0,
		"CpusetCpus": "0", "PidsLimit": 50.0, "ShmSize": 67108864.0, "OomScoreAdj": 0.0,
	}
	for k, v := range want {
		if hc[k] != v {
			t.Errorf("inspect HostConfig.%s = %v, want %v", k, hc[k], v)
		}
	}
	if cgroupV2() {
		checkCg(t, id, "", "memory.max", "67108864")
		checkCg(t, id, "", "memory.low", "33554432")
		checkCg(t, id, "", "cpu.max", "50000 100000")
		checkCg(t, id, "", "pids.max", "50")
	} else {
		checkCg(t, id, "memory", "memory.limit_in_bytes", "67108864")
		checkCg(t, id, "memory", "memory.soft_limit_in_bytes", "33554432")
		checkCg(t, id, "cpu", "cpu.cfs_quota_us", "50000")
		checkCg(t, id, "cpu", "cpu.cfs_period_us", "100000")
		checkCg(t, id, "cpu", "cpu.shares", "512")
		checkCg(t, id, "pids", "pids.max", "50")
	}
	checkCg(t, id, "cpuset", "cpuset.cpus", "0")
	// The container's process is in its cgroup, and the cgroup goes with it.
	pid := inspectF(env, "{{.State.Pid}}", "lim")
	procs := cgRead(t, id, "memory", "cgroup.procs", "cgroup.procs")
	if !strings.Contains("\n"+procs+"\n", "\n"+pid+"\n") {
		t.Errorf("container pid %s not in its cgroup's procs %q", pid, procs)
	}
	env.mustRun("rm", "-f", "lim")
	if _, err := os.Stat(cgDir("memory", "skiff/"+id)); !os.IsNotExist(err) {
		t.Errorf("cgroup %s still there after rm -f (stat: %v)", cgDir("memory", "skiff/"+id), err)
	}
}

func checkCg(t *testing.T, id, ctrl, file, want string) {
	t.Helper()
	if got := cgRead(t, id, ctrl, file, file); got != want {
		t.Errorf("cgroup %s = %q, want %q", file, got, want)
	}
}

func TestRunLimitsCgroupParent(t *testing.T) {
	env := limEnv(t)
	parent := fmt.Sprintf("skiff-e2e-parent-%d", os.Getpid())
	t.Cleanup(func() {
		for _, c := range []string{"memory", "cpu", "pids", "cpuset", "cpuacct", "blkio", "devices", "freezer"} {
			os.Remove(cgDir(c, parent))
		}
		os.Remove(cgDir("", parent))
	})
	id := limRunD(t, env, "--cgroup-parent", parent, "--memory", "48m", "busybox", "sleep", "300")
	if got := inspectF(env, "{{.HostConfig.CgroupParent}}", id); got != parent {
		t.Errorf("inspect CgroupParent = %q, want %q", got, parent)
	}
	file := "memory.limit_in_bytes"
	if cgroupV2() {
		file = "memory.max"
	}
	data, err := os.ReadFile(filepath.Join(cgDir("memory", parent+"/"+id), file))
	if err != nil || strings.TrimSpace(string(data)) != "50331648" {
		t.Errorf("cgroup under --cgroup-parent: %q, %v; want 50331648", data, err)
	}
	env.mustRun("rm", "-f", id)
	if _, err := os.Stat(cgDir("memory", parent+"/"+id)); !os.IsNotExist(err) {
		t.Errorf("cgroup under the parent still there after rm -f")
	}
}

func TestRunLimitsOOMKilled(t *testing.T) {
	env := limEnv(t)
	// tail keeps the current line in memory: /dev/zero is one endless line.
	res := env.run("run", "--name", "oom", "--memory", "32m", "busybox", "tail", "/dev/zero")
	if res.Code != 137 {
		t.Fatalf("run past --memory: exit %d, want 137 (stderr %q)", res.Code, res.Stderr)
	}
	if got := inspectF(env, "{{.State.OOMKilled}} {{.State.ExitCode}} {{.State.Status}}", "oom"); got != "true 137 exited" {
		t.Errorf("inspect State = %q, want \"true 137 exited\"", got)
	}
	// A container that exits normally is not reported as OOM killed.
	env.mustRun("run", "--name", "fine", "--memory", "32m", "busybox", "true")
	if got := inspectF(env, "{{.State.OOMKilled}}", "fine"); got != "false" {
		t.Errorf("OOMKilled = %s for a clean exit", got)
	}
}

func TestRunLimitsPidsForkBomb(t *testing.T) {
	env := limEnv(t)
	id := limRunD(t, env, "--pids-limit", "30", "busybox", "sh", "-c", "f(){ f | f & }; f; sleep 300")
	max := 0
	eventually(t, 20*time.Second, "the fork bomb to reach the limit", func() bool {
		n, _ := strconv.Atoi(cgRead(t, id, "pids", "pids.current", "pids.current"))
		max = n
		return strings.Contains(cgRead(t, id, "pids", "pids.events", "pids.events"), "max") &&
			!strings.HasSuffix(cgRead(t, id, "pids", "pids.events", "pids.events"), "max 0")
	})
	for range 10 {
		n, _ := strconv.Atoi(cgRead(t, id, "pids", "pids.current", "pids.current"))
		if n > 30 {
			t.Fatalf("pids.current = %d, above --pids-limit 30", n)
		}
		max = n
		time.Sleep(100 * time.Millisecond)
	}
	if max < 20 {
		t.Errorf("pids.current = %d: the bomb did not get near the limit", max)
	}
	if out := env.mustRun("stats", "--no-stream", "--format", "{{.PIDs}}", id); strings.TrimSpace(out) == "0" {
		t.Errorf("stats PIDs = %q for a bombed container", out)
	}
}

func TestRunLimitsCPUQuota(t *testing.T) {
	env := limEnv(t)
	id := limRunD(t, env, "--cpus", "0.5", "busybox", "sh", "-c", "while :; do :; done")
	// share is the busy loop's CPU over 2 s from the cgroup's accounting,
	// and how many periods the quota throttled it in that time.
	share := func() (float64, int) {
		a, th0, t0 := cpuUsageNanos(t, id), throttled(t, id), time.Now()
		time.Sleep(2 * time.Second)
		b, th1, t1 := cpuUsageNanos(t, id), throttled(t, id), time.Now()
		return float64(b-a) / float64(t1.Sub(t0).Nanoseconds()), th1 - th0
	}
	time.Sleep(300 * time.Millisecond)
	s, th := share()
	if s < 0.3 { // a busy host (2 cores, other tests) can starve it once
		s, th = share()
	}
	if s < 0.3 || s > 0.7 || th < 5 {
		t.Errorf("busy loop under --cpus 0.5 used %.2f of a core (throttled %d times in 2 s), want 0.3-0.7 and throttled", s, th)
	}
	// update raises the quota of the running container: one busy thread
	// no longer hits it.
	env.mustRun("update", "--cpus", "1.5", id)
	if !cgroupV2() {
		checkCg(t, id, "cpu", "cpu.cfs_quota_us", "150000")
	} else {
		checkCg(t, id, "", "cpu.max", "150000 100000")
	}
	if s, th := share(); th > 2 {
		t.Errorf("busy loop after update --cpus 1.5: throttled %d times in 2 s (used %.2f of a core), want no throttling", th, s)
	}
	if got := inspectF(env, "{{.HostConfig.NanoCpus}}", id); got != "1500000000" {
		t.Errorf("NanoCpus after update = %s", got)
	}
}

// throttled is nr_throttled from the cgroup's cpu.stat.
func throttled(t *testing.T, id string) int {
	t.Helper()
	for _, line := range strings.Split(cgRead(t, id, "cpu", "cpu.stat", "cpu.stat"), "\n") {
		if v, ok := strings.CutPrefix(line, "nr_throttled "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	t.Fatal("no nr_throttled in cpu.stat")
	return 0
}

var statsHeader = regexp.MustCompile(`^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$`)

func TestRunLimitsStats(t *testing.T) {
	env := limEnv(t)
	id := limRunD(t, env, "--name", "st", "--memory", "64m", "busybox", "sleep", "300")
	env.mustRun("create", "--name", "idle", "busybox", "true")
	out := env.mustRun("stats", "--no-stream")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2 || !statsHeader.MatchString(strings.TrimRight(lines[0], " ")) {
		t.Fatalf("stats --no-stream:\n%s\nwant Docker's header and one running container", out)
	}
	row := regexp.MustCompile(`^` + id[:12] + ` +st +[0-9]+\.[0-9]{2}% +[0-9.]+[KMG]?i?B / 64MiB +[0-9]+\.[0-9]{2}% +0B / 0B +[0-9.]+[kMG]?B / [0-9.]+[kMG]?B +1$`)
	if !row.MatchString(strings.TrimRight(lines[1], " ")) {
		t.Errorf("stats row %q does not match %s", lines[1], row)
	}
	// -a adds the created container; names select; --format and json.
	all := env.mustRun("stats", "--no-stream", "-a")
	idle := regexp.MustCompile(`(?m)^[0-9a-f]{12} +idle +0\.00% +0B / 0B +0\.00% +0B / 0B +0B / 0B +0 *$`)
	if n := len(strings.Split(strings.TrimSpace(all), "\n")); n != 3 || !idle.MatchString(all) {
		t.Errorf("stats -a, want the header, st and a zero line for idle:\n%s", all)
	}
	if got := strings.TrimSpace(env.mustRun("stats", "--no-stream", "--format", "{{.Name}} {{.Container}} {{.MemUsage}}", "st")); !regexp.MustCompile(`^st st [0-9.]+[KMG]?i?B / 64MiB$`).MatchString(got) {
		t.Errorf("stats --format = %q", got)
	}
	var js map[string]string
	if err := json.Unmarshal([]byte(env.mustRun("stats", "--no-stream", "--format", "json", "st")), &js); err != nil || js["Name"] != "st" || js["PIDs"] != "1" {
		t.Errorf("stats --format json = %v (%v)", js, err)
	}
	res := env.mustFail(125, "stats", "--no-stream", "nosuch")
	if !strings.Contains(res.Stderr, "No such container: nosuch") {
		t.Errorf("stats nosuch: %q", res.Stderr)
	}
	// Memory in use shows up: a 20 MB file in /dev/shm is charged to the cgroup.
	env.mustRun("exec", "st", "sh", "-c", "head -c 20000000 /dev/zero > /dev/shm/x")
	usage := strings.TrimSpace(env.mustRun("stats", "--no-stream", "--format", "{{.MemUsage}}", "st"))
	if !regexp.MustCompile(`^(1[89]|[2-9][0-9])\.?[0-9]*MiB / 64MiB$`).MatchString(usage) {
		t.Errorf("stats MEM USAGE after writing 20MB to /dev/shm = %q", usage)
	}
}

func TestRunLimitsUpdate(t *testing.T) {
	env := limEnv(t)
	id := limRunD(t, env, "--name", "up", "--memory", "64m", "--pids-limit", "40", "busybox", "sleep", "300")
	if got := strings.TrimSpace(env.mustRun("update", "--memory", "96m", "--memory-swap", "192m", "--pids-limit", "60", "--cpu-shares", "256", "up")); got != "up" {
		t.Errorf("update printed %q, want the name given", got)
	}
	if cgroupV2() {
		checkCg(t, id, "", "memory.max", "100663296")
		checkCg(t, id, "", "pids.max", "60")
	} else {
		checkCg(t, id, "memory", "memory.limit_in_bytes", "100663296")
		checkCg(t, id, "memory", "memory.memsw.limit_in_bytes", "201326592")
		checkCg(t, id, "pids", "pids.max", "60")
		checkCg(t, id, "cpu", "cpu.shares", "256")
	}
	if got := inspectF(env, "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}} {{.HostConfig.CpuShares}}", "up"); got != "100663296 201326592 60 256" {
		t.Errorf("inspect after update = %q", got)
	}
	if out := env.mustRun("stats", "--no-stream", "--format", "{{.MemUsage}}", "up"); !strings.HasSuffix(strings.TrimSpace(out), "/ 96MiB") {
		t.Errorf("stats after update: %q, want limit 96MiB", out)
	}
	// Docker's rules and messages.
	res := env.mustFail(125, "update", "--memory", "300m", "up")
	if !strings.Contains(res.Stderr, "Memory limit should be smaller than already set memoryswap limit") {
		t.Errorf("update above swap: %q", res.Stderr)
	}
	res = env.mustFail(125, "update", "up")
	if !strings.Contains(res.Stderr, "you must provide one or more flags") {
		t.Errorf("update without flags: %q", res.Stderr)
	}
	env.mustFail(125, "update", "--memory", "64m", "nosuch")
	env.mustRun("update", "--pids-limit", "-1", "up")
	checkCg(t, id, "pids", "pids.max", "max")
	if got := inspectF(env, "{{json .HostConfig.PidsLimit}}", "up"); got != "null" {
		t.Errorf("PidsLimit after update --pids-limit -1 = %s, want null", got)
	}
	// A stopped container's record changes; its next start uses it.
	env.mustRun("create", "--name", "later", "busybox", "sleep", "300")
	env.mustRun("update", "--pids-limit", "77", "later")
	if got := inspectF(env, "{{.HostConfig.PidsLimit}}", "later"); got != "77" {
		t.Errorf("PidsLimit of updated created container = %s", got)
	}
	env.mustRun("start", "later")
	t.Cleanup(func() { env.run("rm", "-f", "later") })
	lid := inspectF(env, "{{.Id}}", "later")
	checkCg(t, lid, "pids", "pids.max", "77")
}

func TestRunLimitsFlags(t *testing.T) {
	env := limEnv(t)
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	// Within the hard limit: applied. Above it (no CAP_SYS_RESOURCE here):
	// refused with a message saying why.
	out := env.mustRun("run", "--rm", "--ulimit", "nofile=512:1024", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn")
	if strings.Fields(out)[0] != "512" || strings.Fields(out)[1] != "1024" {
		t.Errorf("--ulimit nofile=512:1024 inside: %q", out)
	}
	above := fmt.Sprintf("nofile=%d:%d", rl.Max+1000, rl.Max+1000)
	if !capEff(unix.CAP_SYS_RESOURCE) {
		res := env.mustFail(125, "run", "--rm", "--ulimit", above, "busybox", "true")
		if !strings.Contains(res.Stderr, "hard limit") || !strings.Contains(res.Stderr, strconv.FormatUint(rl.Max, 10)) {
			t.Errorf("--ulimit above the hard limit: %q", res.Stderr)
		}
	}
	env.mustFail(125, "run", "--rm", "--ulimit", "nofile=2048:1024", "busybox", "true")
	// Namespaced sysctls only.
	if out := env.mustRun("run", "--rm", "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=1234567", "busybox", "cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shmmax"); strings.Join(strings.Fields(out), " ") != "1 1234567" {
		t.Errorf("--sysctl inside: %q", out)
	}
	res := env.mustFail(125, "run", "--rm", "--sysctl", "kernel.panic=1", "busybox", "true")
	if !strings.Contains(res.Stderr, "sysctl 'kernel.panic=1' is not allowed") {
		t.Errorf("--sysctl kernel.panic: %q", res.Stderr)
	}
	env.mustFail(125, "run", "--rm", "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", "busybox", "true")
	// --shm-size, --oom-score-adj, --device.
	if out := env.mustRun("run", "--rm", "--shm-size", "128m", "busybox", "df", "-k", "/dev/shm"); !strings.Contains(out, "131072") {
		t.Errorf("--shm-size 128m: df says\n%s", out)
	}
	if out := env.mustRun("run", "--rm", "--oom-score-adj", "300", "busybox", "cat", "/proc/self/oom_score_adj"); strings.TrimSpace(out) != "300" {
		t.Errorf("--oom-score-adj 300 inside: %q", out)
	}
	res = env.mustFail(125, "run", "--rm", "--oom-score-adj", "2000", "busybox", "true")
	if !strings.Contains(res.Stderr, "Invalid value 2000, range for oom score adj is [-1000, 1000]") {
		t.Errorf("--oom-score-adj 2000: %q", res.Stderr)
	}
	if out := env.mustRun("run", "--rm", "--device", "/dev/null:/dev/xnull:rw", "busybox", "sh", "-c", "ls -l /dev/xnull && echo hi > /dev/xnull && echo written"); !strings.Contains(out, "1,   3") || !strings.Contains(out, "written") {
		t.Errorf("--device /dev/null:/dev/xnull: %q", out)
	}
	res = env.mustFail(125, "run", "--rm", "--device", "/dev/nosuch", "busybox", "true")
	if !strings.Contains(res.Stderr, "error gathering device information") {
		t.Errorf("--device /dev/nosuch: %q", res.Stderr)
	}
	// Docker's memory messages.
	for _, c := range []struct{ what, flag, value, want string }{
		{"--memory 1m", "--memory", "1m", "Minimum memory limit allowed is 6MB"},
		{"--memory-swap alone", "--memory-swap", "100m", "You should always set the Memory limit when using Memoryswap limit"},
		{"--cpus 99", "--cpus", "99", "Range of CPUs is from 0.01 to"},
	} {
		res = env.mustFail(125, "run", "--rm", c.flag, c.value, "busybox", "true")
		if !strings.Contains(res.Stderr, c.want) {
			t.Errorf("%s: %q", c.what, res.Stderr)
		}
	}
}

// capEff says whether this (test) process holds capability bit.
func capEff(bit int) bool {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return n&(1<<bit) != 0
		}
	}
	return false
}

// TestRunLimitsRootless: without a delegated cgroup v2 subtree a rootless
// user cannot have limits; skiff says so instead of ignoring them, and runs
// containers without limits as before.
func TestRunLimitsRootless(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		if env.User == nil {
			return // root has cgroups: the tests above
		}
		env.mustRun("pull", "-q", "busybox")
		delegated := rootlessDelegated(env)
		for _, flag := range [][]string{{"--memory", "64m"}, {"--pids-limit", "10"}, {"--cpus", "0.5"}} {
			args := append(append([]string{"run", "--rm"}, flag...), "busybox", "true")
			if delegated {
				env.mustRun(args...)
				continue
			}
			res := env.mustFail(125, args...)
			if !strings.Contains(res.Stderr, "cgroup") || strings.Count(strings.TrimSpace(res.Stderr), "\n") != 0 {
				t.Errorf("rootless %v: %q, want one line saying a cgroup is needed", flag, res.Stderr)
			}
		}
		// What needs no cgroup works rootless too (--device by binding the
		// host's node: no mknod in a user namespace).
		out := env.mustRun("run", "--rm", "--device", "/dev/null:/dev/xnull", "--ulimit", "nofile=100:200",
			"--sysctl", "net.ipv4.ip_forward=1", "--shm-size", "10m", "--oom-score-adj", "200", "busybox", "sh", "-c",
			"echo hi > /dev/xnull && echo dev-ok; ulimit -n; cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj; df -k /dev/shm | tail -n1")
		if f := strings.Fields(out); len(f) < 6 || f[0] != "dev-ok" || f[1] != "100" || f[2] != "1" || f[3] != "200" || f[5] != "10240" {
			t.Errorf("rootless --device/--ulimit/--sysctl/--oom-score-adj/--shm-size:\n%s", out)
		}
		id := limRunD(t, env, "busybox", "sleep", "300")
		res := env.run("stats", "--no-stream", id)
		if !delegated && (res.Code != 125 || !strings.Contains(res.Stderr, "cgroup")) {
			t.Errorf("rootless stats without a cgroup: exit %d %q", res.Code, res.Stderr)
		}
		res = env.run("update", "--memory", "64m", id)
		if !delegated && (res.Code != 125 || !strings.Contains(res.Stderr, "cgroup")) {
			t.Errorf("rootless update without a cgroup: exit %d %q", res.Code, res.Stderr)
		}
	})
}

// rootlessDelegated says whether env's user could get a cgroup: only on a
// v2 host with a subtree delegated to it (not this CI machine's hybrid).
func rootlessDelegated(env *Env) bool {
	return cgroupV2() && strings.Contains(env.mustRun("info", "--format", "{{json .}}"), "delegated")
}
