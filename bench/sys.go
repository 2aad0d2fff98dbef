package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// removeTree unmounts whatever an engine left mounted under dir (deepest
// first), then removes it: RemoveAll must never descend into a mount.
func removeTree(dir string) error {
	if infos, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir)); err == nil {
		// Deepest first: a parent cannot be detached from under its children.
		sort.Slice(infos, func(i, j int) bool { return infos[i].Mountpoint > infos[j].Mountpoint })
		for _, m := range infos {
			unix.Unmount(m.Mountpoint, unix.MNT_DETACH)
		}
	}
	return os.RemoveAll(dir)
}

// comm is a process's command name, to show which process was measured.
func comm(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(data))
}

func ppid(pid int) (int, error) {
	v, err := statusField(pid, "PPid")
	return int(v), err
}

func statusField(pid int, key string) (int64, error) {
	return procField(fmt.Sprintf("/proc/%d/status", pid), key)
}

// procField reads "Key:   123 kB" from a /proc file.
func procField(path, key string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, key)
}

// memSum sums VmRSS and PSS (kB) over pids.
func memSum(pids []int) (rss, pss int64, err error) {
	for _, p := range pids {
		r, err := statusField(p, "VmRSS")
		if err != nil {
			return 0, 0, err
		}
		s, err := procField(fmt.Sprintf("/proc/%d/smaps_rollup", p), "Pss")
		if err != nil {
			return 0, 0, err
		}
		rss, pss = rss+r, pss+s
	}
	return rss, pss, nil
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func machineInfo() map[string]string {
	m := map[string]string{"cores": strconv.Itoa(runtime.NumCPU()), "load_start": loadavg()}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m["kernel"] = unix.ByteSliceToString(u.Release[:])
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m["cpu"] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if kb, err := procField("/proc/meminfo", "MemTotal"); err == nil {
		m["memory"] = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				m["os"] = strings.Trim(v, `"`)
			}
		}
	}
	if data, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil && len(data) > 0 {
		m["cgroups"] = "v2"
	} else {
		m["cgroups"] = "v1/hybrid"
	}
	return m
}

func versions(skiff string) map[string]string {
	v := map[string]string{"go (bench)": runtime.Version()}
	first := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return "unavailable"
		}
		return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	v["skiff"] = first(skiff, "--version")
	v["podman"] = first("podman", "--version")
	v["runc"] = first("runc", "--version")
	v["conmon"] = first("conmon", "--version")
	v["tar"] = first("tar", "--version")
	if out, err := exec.Command("git", "describe", "--always", "--dirty").Output(); err == nil {
		v["skiff commit"] = strings.TrimSpace(string(out))
	}
	return v
}

// cleanups run once, last added first, at the end of the bench or when it
// is interrupted: a private dockerd must not outlive it.
var (
	cleanupMu   sync.Mutex
	cleanupFns  []func()
	cleanupDone bool
)

func atCleanup(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanupFns = append(cleanupFns, f)
}

func runCleanups() {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	if cleanupDone {
		return
	}
	cleanupDone = true
	for i := len(cleanupFns) - 1; i >= 0; i-- {
		cleanupFns[i]()
	}
}

// interrupted is set by the first Ctrl-C (or SIGTERM/SIGHUP): engine
// commands then fail at once, the case in progress removes its containers
// and stores as it always does, and run stops the daemon and removes the
// work dir without writing a report.
var interrupted atomic.Bool

// cleanUpOnSignal handles interrupts: the first one ends the bench through
// its usual clean-up; a second one (or a minute without the bench
// returning) cleans up at once and exits.
func cleanUpOnSignal() {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-ch
		logf("%v: stopping after the current command and cleaning up (again to force)", sig)
		interrupted.Store(true)
		select {
		case <-ch:
		case <-time.After(time.Minute):
		}
		logf("cleaning up now")
		runCleanups()
		os.Exit(130)
	}()
}

// dockerVersions are the versions of what the docker column runs.
func dockerVersions() map[string]string {
	v := map[string]string{}
	for k, args := range map[string][]string{
		"docker":     {dockerDaemon, "--version"},
		"containerd": {"containerd", "--version"},
	} {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			v[k] = "unavailable"
			continue
		}
		v[k] = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	return v
}

// cpuTimes reads the all-CPU line of /proc/stat: busy and total ticks
// (idle and iowait count as not busy).
func cpuTimes() (busy, total uint64, ok bool) {
	f, ok := cpuLine()
	if !ok {
		return 0, 0, false
	}
	for i, n := range f {
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, true
}

// stealTimes gives the machine's stolen and total CPU time (USER_HZ ticks)
// from /proc/stat: time a virtual CPU was ready but the hypervisor ran
// something else.
func stealTimes() (steal, total uint64, ok bool) {
	f, ok := cpuLine()
	if !ok || len(f) < 8 {
		return 0, 0, false
	}
	for _, n := range f {
		total += n
	}
	return f[7], total, true
}

// cpuLine parses /proc/stat's first line, the sum over all CPUs: user,
// nice, system, idle, iowait, irq, softirq, steal (proc(5)). The guest
// columns after those are left out: user and nice already count them.
func cpuLine() ([]uint64, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil, false
	}
	return parseCPULine(string(data))
}

func parseCPULine(stat string) ([]uint64, bool) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return nil, false
	}
	f = f[1:min(len(f), 9)]
	out := make([]uint64, 0, len(f))
	for _, v := range f {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}
