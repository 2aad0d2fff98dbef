package isolate

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cgroupRoot is where the hierarchies are mounted (a variable for tests).
var cgroupRoot = "/sys/fs/cgroup"

// cgroup is one container's cgroup: a directory per v1 hierarchy, or one
// directory in the v2 unified hierarchy.
type cgroup struct {
	v2   bool
	dirs map[string]string // v1: hierarchy mount name -> dir; v2: "" -> dir
}

// CgroupsAvailable says whether containers get a cgroup of their own here
// and, either way, why (for `info` and for refusing --memory and the like).
func CgroupsAvailable() (bool, string) {
	v2 := isCgroup2()
	if os.Geteuid() == 0 && !inUserNS() {
		if v2 {
			return true, "cgroup v2"
		}
		return true, "cgroup v1"
	}
	if !v2 {
		return false, "rootless on cgroup v1: containers run without a cgroup (no limits)"
	}
	if base := delegatedBase(); base != "" {
		return true, "cgroup v2 (delegated " + strings.TrimPrefix(base, cgroupRoot) + ")"
	}
	return false, "rootless without a delegated cgroup v2 subtree: containers run without a cgroup (no limits)"
}

func isCgroup2() bool {
	var st unix.Statfs_t
	return unix.Statfs(cgroupRoot, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// delegatedBase is the v2 directory an unprivileged user may create
// container cgroups in: the parent of its own cgroup (systemd delegates
// user@UID.service and everything below it), if the user can write there.
func delegatedBase() string {
	own, err := ownCgroup2()
	if err != nil || own == "/" {
		return ""
	}
	base := filepath.Join(cgroupRoot, filepath.Dir(own))
	if unix.Access(base, unix.W_OK) != nil || unix.Access(filepath.Join(base, "cgroup.subtree_control"), unix.W_OK) != nil {
		return ""
	}
	return base
}

func ownCgroup2() (string, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p, nil
		}
	}
	return "", errors.New("no cgroup v2 entry in /proc/self/cgroup")
}

// cgroupPath is the container's cgroup below a hierarchy's root, from
// Spec.Linux.CgroupsPath ("/skiff/<id>" when unset; systemd-style
// "slice:prefix:name" becomes "/skiff/<name>").
func cgroupPath(c *Container) string {
	p := ""
	if c.Spec != nil && c.Spec.Linux != nil {
		p = c.Spec.Linux.CgroupsPath
	}
	if parts := strings.Split(p, ":"); len(parts) == 3 {
		p = "/skiff/" + parts[2]
	}
	if p == "" {
		p = "/skiff/" + c.ID
	}
	return filepath.Clean("/" + p)
}

// cgroupFor works out c's cgroup directories without creating anything;
// nil when containers get no cgroup here.
func cgroupFor(c *Container) *cgroup {
	if ok, _ := CgroupsAvailable(); !ok {
		return nil
	}
	rel := cgroupPath(c)
	if isCgroup2() {
		base := cgroupRoot
		if os.Geteuid() != 0 || inUserNS() {
			base = delegatedBase()
			rel = "/" + filepath.Base(rel)
		}
		return &cgroup{v2: true, dirs: map[string]string{"": filepath.Join(base, rel)}}
	}
	g := &cgroup{dirs: map[string]string{}}
	for _, name := range v1Hierarchies() {
		g.dirs[name] = filepath.Join(cgroupRoot, name, rel)
	}
	return g
}

// v1Hierarchies names the v1 hierarchies mounted under cgroupRoot. They
// do not change while we run, and a supervisor asks at start and twice at
// the end: found once per process (per cgroupRoot, which tests change).
func v1Hierarchies() []string {
	v1Cache.Lock()
	defer v1Cache.Unlock()
	if v1Cache.root == cgroupRoot {
		return v1Cache.names
	}
	var names []string
	entries, _ := os.ReadDir(cgroupRoot)
	for _, e := range entries {
		if !e.IsDir() { // cpu -> cpu,cpuacct style symlinks name the same mount
			continue
		}
		var st unix.Statfs_t
		if unix.Statfs(filepath.Join(cgroupRoot, e.Name()), &st) != nil || st.Type != unix.CGROUP_SUPER_MAGIC {
			continue
		}
		names = append(names, e.Name())
	}
	v1Cache.root, v1Cache.names = cgroupRoot, names
	return names
}

var v1Cache struct {
	sync.Mutex
	root  string
	names []string
}

// hasLimits says whether res asks for anything only a cgroup can enforce
// (device rules alone do not count: every default spec carries them; nor do
// zero values, which mean "unset").
func hasLimits(res *specs.LinuxResources) bool {
	if res == nil {
		return false
	}
	pos := func(p *int64) bool { return p != nil && *p > 0 }
	m, cpu := res.Memory, res.CPU
	return (m != nil && (pos(m.Limit) || pos(m.Swap) || pos(m.Reservation))) ||
		(cpu != nil && ((cpu.Shares != nil && *cpu.Shares > 0) || pos(cpu.Quota) || cpu.Cpus != "" || cpu.Mems != "")) ||
		(res.Pids != nil && pos(res.Pids.Limit))
}

// create makes the directories, ready to take tasks; apply sets the
// limits once the container's first process is inside (see start).
func (g *cgroup) create() error {
	for name, dir := range g.dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create cgroup: %w", err)
		}
		if name == "cpuset" {
			if err := inheritCpuset(filepath.Join(cgroupRoot, name), dir); err != nil {
				return err
			}
		}
	}
	if g.v2 {
		enableControllers(g.dirs[""])
	}
	return nil
}

// apply sets res on the cgroup's directories.
func (g *cgroup) apply(res *specs.LinuxResources) error {
	if g.v2 {
		if err := g.applyV2(res); err != nil {
			return err
		}
		// Unprivileged users cannot load cgroup BPF; their user namespace
		// keeps them from creating device nodes anyway.
		if res != nil && len(res.Devices) > 0 && !Rootless() {
			return attachDeviceFilter(g.dirs[""], res.Devices)
		}
		return nil
	}
	return g.applyV1(res)
}

// inheritCpuset fills empty cpuset.cpus/mems from the parent down to dir:
// a v1 cpuset cgroup with none accepts no tasks.
func inheritCpuset(root, dir string) error {
	rel, _ := filepath.Rel(root, dir)
	cur := root
	for part := range strings.SplitSeq(rel, string(filepath.Separator)) {
		parent := cur
		cur = filepath.Join(cur, part)
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			v, _ := os.ReadFile(filepath.Join(cur, f))
			if strings.TrimSpace(string(v)) != "" {
				continue
			}
			pv, err := os.ReadFile(filepath.Join(parent, f))
			if err != nil {
				return fmt.Errorf("cgroup cpuset: %w", err)
			}
			if err := writeCg(cur, f, strings.TrimSpace(string(pv))); err != nil {
				return err
			}
		}
	}
	return nil
}

// enableControllers turns on every available controller in the
// subtree_control of each ancestor of dir (v2 limits need them there).
func enableControllers(dir string) {
	avail, _ := os.ReadFile(filepath.Join(cgroupRoot, "cgroup.controllers"))
	base := cgroupRoot
	if os.Geteuid() != 0 || inUserNS() {
		base = delegatedBase()
		avail, _ = os.ReadFile(filepath.Join(base, "cgroup.controllers"))
	}
	rel, _ := filepath.Rel(base, filepath.Dir(dir))
	cur := base
	for _, part := range append([]string{"."}, strings.Split(rel, string(filepath.Separator))...) {
		cur = filepath.Join(cur, part)
		for c := range strings.FieldsSeq(string(avail)) {
			os.WriteFile(filepath.Join(cur, "cgroup.subtree_control"), []byte("+"+c), 0)
		}
	}
}

func writeCg(dir, file, val string) error {
	if err := os.WriteFile(filepath.Join(dir, file), []byte(val), 0); err != nil {
		return fmt.Errorf("cgroup %s=%s: %w", file, val, err)
	}
	return nil
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func (g *cgroup) applyV1(res *specs.LinuxResources) error {
	if res == nil {
		return nil
	}
	var w []struct{ dir, file, val string }
	add := func(ctrl, file, val string) {
		if dir, ok := g.dirs[ctrl]; ok {
			w = append(w, struct{ dir, file, val string }{dir, file, val})
		}
	}
	if m := res.Memory; m != nil {
		if m.Limit != nil {
			add("memory", "memory.limit_in_bytes", itoa(*m.Limit))
		}
		if m.Swap != nil {
			if _, err := os.Stat(filepath.Join(g.dirs["memory"], "memory.memsw.limit_in_bytes")); err == nil {
				add("memory", "memory.memsw.limit_in_bytes", itoa(*m.Swap))
			}
		}
		if m.Reservation != nil {
			add("memory", "memory.soft_limit_in_bytes", itoa(*m.Reservation))
		}
		if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
			add("memory", "memory.oom_control", "1")
		}
	}
	if c := res.CPU; c != nil {
		cpu := "cpu"
		if _, ok := g.dirs[cpu]; !ok {
			cpu = "cpu,cpuacct"
		}
		if c.Shares != nil && *c.Shares != 0 {
			add(cpu, "cpu.shares", strconv.FormatUint(*c.Shares, 10))
		}
		if c.Period != nil && *c.Period != 0 {
			add(cpu, "cpu.cfs_period_us", strconv.FormatUint(*c.Period, 10))
		}
		if c.Quota != nil && *c.Quota != 0 {
			add(cpu, "cpu.cfs_quota_us", itoa(*c.Quota))
		}
		if c.Cpus != "" {
			add("cpuset", "cpuset.cpus", c.Cpus)
		}
		if c.Mems != "" {
			add("cpuset", "cpuset.mems", c.Mems)
		}
	}
	if p := res.Pids; p != nil && p.Limit != nil {
		add("pids", "pids.max", pidsMax(*p.Limit))
	}
	for _, d := range res.Devices {
		file := "devices.deny"
		if d.Allow {
			file = "devices.allow"
		}
		add("devices", file, deviceRule(d))
	}
	for i, x := range w {
		err := writeCg(x.dir, x.file, x.val)
		if err != nil && x.file == "memory.limit_in_bytes" {
			// Raising the limit above memory+swap needs memsw raised first.
			for _, y := range w[i+1:] {
				if y.file == "memory.memsw.limit_in_bytes" {
					if writeCg(y.dir, y.file, y.val) == nil {
						err = writeCg(x.dir, x.file, x.val)
					}
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func deviceRule(d specs.LinuxDeviceCgroup) string {
	typ, major, minor := d.Type, "*", "*"
	if typ == "" {
		typ = "a"
	}
	if d.Major != nil && *d.Major >= 0 {
		major = itoa(*d.Major)
	}
	if d.Minor != nil && *d.Minor >= 0 {
		minor = itoa(*d.Minor)
	}
	access := d.Access
	if access == "" {
		access = "rwm"
	}
	if typ == "a" {
		return "a"
	}
	return typ + " " + major + ":" + minor + " " + access
}

func (g *cgroup) applyV2(res *specs.LinuxResources) error {
	if res == nil {
		return nil
	}
	dir := g.dirs[""]
	var w [][2]string
	max := func(v int64) string {
		if v < 0 {
			return "max"
		}
		return itoa(v)
	}
	if m := res.Memory; m != nil {
		if m.Limit != nil {
			w = append(w, [2]string{"memory.max", max(*m.Limit)})
		}
		if m.Swap != nil && m.Limit != nil && *m.Limit > 0 && exists(filepath.Join(dir, "memory.swap.max")) {
			swap := *m.Swap
			if swap > 0 {
				swap -= *m.Limit
			}
			w = append(w, [2]string{"memory.swap.max", max(swap)})
		}
		if m.Reservation != nil {
			w = append(w, [2]string{"memory.low", max(*m.Reservation)})
		}
	}
	if c := res.CPU; c != nil {
		if c.Shares != nil && *c.Shares != 0 {
			// Same conversion as runc/crun: [2, 262144] -> [1, 10000].
			w = append(w, [2]string{"cpu.weight", strconv.FormatUint(1+((*c.Shares-2)*9999)/262142, 10)})
		}
		if c.Quota != nil && *c.Quota != 0 {
			period := uint64(100000)
			if c.Period != nil && *c.Period != 0 {
				period = *c.Period
			}
			w = append(w, [2]string{"cpu.max", max(*c.Quota) + " " + strconv.FormatUint(period, 10)})
		}
		if c.Cpus != "" {
			w = append(w, [2]string{"cpuset.cpus", c.Cpus})
		}
		if c.Mems != "" {
			w = append(w, [2]string{"cpuset.mems", c.Mems})
		}
	}
	if p := res.Pids; p != nil && p.Limit != nil {
		w = append(w, [2]string{"pids.max", pidsMax(*p.Limit)})
	}
	for _, x := range w {
		if err := writeCg(dir, x[0], x[1]); err != nil {
			return err
		}
	}
	return nil
}

// exists says whether a cgroup file is there (swap files are not without
// swap accounting in the kernel).
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// pidsMax is pids.max for a --pids-limit: 0 and -1 mean unlimited (Docker).
func pidsMax(v int64) string {
	if v <= 0 {
		return "max"
	}
	return itoa(v)
}

// join moves pid into every directory of the cgroup.
func (g *cgroup) join(pid int) error {
	for _, dir := range g.dirs {
		if err := writeCg(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

// Moving a process into a cgroup (cgroup.procs) takes the kernel's
// threadgroup lock for writing, which waits for an RCU grace period: 10-30
// ms on a busy host, on the critical path of every start. So the
// container's process is never moved. On v2 it is cloned into the cgroup
// (startV2, CLONE_INTO_CGROUP); on v1 the init stage's thread moves itself
// (enterV1), which needs no such lock, and execve's from there.

// v1Dirs lists g's directories for enterV1 (none on v2).
func (g *cgroup) v1Dirs() []string {
	if g.v2 {
		return nil
	}
	dirs := make([]string, 0, len(g.dirs))
	for _, d := range g.dirs {
		dirs = append(dirs, d)
	}
	return dirs
}

// enterV1 moves the calling thread (only: 0 in "tasks") into each of the
// v1 cgroup dirs; what it execve's or forks from there stays in them.
func enterV1(dirs []string) error {
	for _, dir := range dirs {
		if err := writeCg(dir, "tasks", "0"); err != nil {
			return err
		}
	}
	return nil
}

// startV2 clones cmd straight into the v2 cgroup, or failing that starts
// it and moves it there.
func (g *cgroup) startV2(cmd *exec.Cmd) error {
	dir, err := os.Open(g.dirs[""])
	if err != nil {
		return fmt.Errorf("container cgroup: %w", err)
	}
	defer dir.Close()
	attr := cmd.SysProcAttr
	attr.UseCgroupFD, attr.CgroupFD = true, int(dir.Fd())
	if cmd.Start() == nil {
		return nil
	}
	// A kernel before 5.7 (no clone3), or a seccomp profile around us
	// that refuses clone3 (Docker's does): start it, then move it. A
	// failed Start may be tried again; it closed none of our files.
	attr.UseCgroupFD, attr.CgroupFD = false, 0
	if err := cmd.Start(); err != nil {
		return err
	}
	return g.join(cmd.Process.Pid)
}

// openProcs opens the cgroup.procs files of g (none for a nil g).
func (g *cgroup) openProcs() ([]*os.File, error) {
	if g == nil {
		return nil, nil
	}
	var files []*os.File
	for _, dir := range g.dirs {
		f, err := os.OpenFile(filepath.Join(dir, "cgroup.procs"), os.O_WRONLY, 0)
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			return nil, fmt.Errorf("container cgroup: %w", err)
		}
		files = append(files, f)
	}
	return files, nil
}

// oomKilled says whether the kernel's OOM killer struck in the cgroup.
func (g *cgroup) oomKilled() bool {
	file := filepath.Join(g.dirs["memory"], "memory.oom_control")
	if g.v2 {
		file = filepath.Join(g.dirs[""], "memory.events")
	}
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, _ := strings.Cut(sc.Text(), " "); k == "oom_kill" {
			n, _ := strconv.Atoi(v)
			return n > 0
		}
	}
	return false
}

// destroy kills what is left in the cgroup and removes its directories.
func (g *cgroup) destroy() error {
	g.thaw() // a paused container's tasks die only once thawed (freezer.go)
	var errs []error
	for _, dir := range g.dirs {
		if err := rmCgroup(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// rmCgroup removes dir, killing what is still in it. Usually nothing is:
// the container's init has exited and its PID namespace with it, so the
// first rmdir succeeds (a plain rmdir: os.Remove would try unlink first).
func rmCgroup(dir string) error {
	var err error
	for range 50 {
		if err = unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		if data, rerr := os.ReadFile(filepath.Join(dir, "cgroup.procs")); rerr == nil {
			for f := range strings.FieldsSeq(string(data)) {
				if pid, _ := strconv.Atoi(f); pid > 0 {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", dir, err)
}

// Cleanup removes what Start left behind for c once it has exited: its
// cgroup, killing anything left in it. It needs only c.ID (and the spec's
// CgroupsPath if one was set), so reconciling a container whose
// supervisor died can call it too.
func Cleanup(c *Container) error {
	if g := cgroupFor(c); g != nil {
		return g.destroy()
	}
	return nil
}
