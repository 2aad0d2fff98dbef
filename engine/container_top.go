package engine

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/store"
)

// TopResult is docker top's table.
type TopResult struct {
	Titles    []string
	Processes [][]string
}

// Top lists a running container's processes: every process in its init's
// pid namespace, found by scanning /proc (no daemon, no cgroup needed).
// psArgs, when given, are passed to the host's ps and its rows filtered
// by pid, as Docker does.
func (e *Engine) Top(ref string, psArgs []string) (*TopResult, error) {
	c, err := e.LookupContainer(ref)
	if err != nil {
		return nil, err
	}
	if !c.IsRunning() || !container.Alive(c.State.Pid, c.State.PidStart) {
		return nil, store.Conflict("Container %s is not running", c.ID)
	}
	pids, err := pidsInNamespace(c.State.Pid)
	if err != nil {
		return nil, err
	}
	if len(psArgs) > 0 {
		return hostPs(psArgs, pids)
	}
	return procTable(pids), nil
}

// pidsInNamespace returns the host pids sharing pid's pid namespace.
func pidsInNamespace(pid int) (map[int]bool, error) {
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return nil, fmt.Errorf("top: %w", err)
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	pids := map[int]bool{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ns, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns/pid")); err == nil && ns == want {
			pids[p] = true
		}
	}
	return pids, nil
}

func hostPs(args []string, pids map[int]bool) (*TopResult, error) {
	out, err := exec.Command("ps", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("Error running ps: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	titles := strings.Fields(lines[0])
	col := -1
	for i, t := range titles {
		if t == "PID" {
			col = i
		}
	}
	if col < 0 {
		return nil, store.Invalid("Couldn't find PID field in ps output")
	}
	r := &TopResult{Titles: titles}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) <= col {
			continue
		}
		p, _ := strconv.Atoi(f[col])
		if !pids[p] {
			continue
		}
		// The last column (the command) may contain spaces.
		if len(f) > len(titles) {
			f = append(f[:len(titles)-1], strings.Join(f[len(titles)-1:], " "))
		}
		r.Processes = append(r.Processes, f)
	}
	return r, nil
}

// procTable is `ps -ef`'s columns, read from /proc.
func procTable(pids map[int]bool) *TopResult {
	r := &TopResult{Titles: []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}}
	boot := bootTime()
	tick := 100.0 // USER_HZ on every Linux architecture Go supports
	var sorted []int
	for p := range pids {
		sorted = append(sorted, p)
	}
	sort.Ints(sorted)
	for _, p := range sorted {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 20 {
			continue
		}
		ppid := f[1]
		utime, _ := strconv.ParseFloat(f[11], 64)
		stime, _ := strconv.ParseFloat(f[12], 64)
		start, _ := strconv.ParseFloat(f[19], 64)
		cpu := time.Duration((utime + stime) / tick * float64(time.Second))
		started := boot.Add(time.Duration(start / tick * float64(time.Second)))
		cmd := procCmdline(p, string(stat[bytes.IndexByte(stat, '(')+1:i]))
		r.Processes = append(r.Processes, []string{
			procUser(p), strconv.Itoa(p), ppid, "0", started.Format("15:04"), "?",
			fmt.Sprintf("%02d:%02d:%02d", int(cpu.Hours()), int(cpu.Minutes())%60, int(cpu.Seconds())%60), cmd,
		})
	}
	return r
}

func procCmdline(pid int, comm string) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(data) == 0 {
		return "[" + comm + "]"
	}
	return strings.TrimSpace(strings.ReplaceAll(string(data), "\x00", " "))
}

func procUser(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" {
			if u, err := user.LookupId(f[1]); err == nil {
				return u.Username
			}
			return f[1]
		}
	}
	return "?"
}

func bootTime() time.Time {
	data, err := os.ReadFile("/proc/stat")
	if err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[0] == "btime" {
				if s, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					return time.Unix(s, 0)
				}
			}
		}
	}
	return time.Now()
}
