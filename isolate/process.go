package isolate

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Process is a container's init or an exec'd process, a child of the
// caller (so Wait is a real wait4).
type Process struct {
	Pid int
	// Console is the master of the pty the process has as its terminal
	// (Spec.Process.Terminal), allocated in the container's own devpts;
	// the caller owns it. Nil without a terminal.
	Console *os.File
	proc    *os.Process
	cg      *cgroup // the container's cgroup for OOM reporting; nil for exec
}

// Wait waits for the process to exit and reports how, Docker-style.
func (p *Process) Wait() (ExitStatus, error) {
	state, err := p.proc.Wait()
	if err != nil {
		return ExitStatus{}, err
	}
	ws := state.Sys().(syscall.WaitStatus)
	var st ExitStatus
	switch {
	case ws.Signaled():
		st.Signal = ws.Signal()
		st.Code = 128 + int(st.Signal)
	default:
		st.Code = ws.ExitStatus()
	}
	if p.cg != nil {
		st.OOMKilled = p.cg.oomKilled()
	}
	return st, nil
}

// Signal sends sig to the process.
func (p *Process) Signal(sig syscall.Signal) error {
	return p.proc.Signal(sig)
}

// StartTime is field 22 of /proc/<pid>/stat (clock ticks after boot): with
// the pid it identifies a process, since pids are reused.
func StartTime(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// comm (field 2) may hold spaces and parentheses: fields restart after the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return strconv.ParseUint(fields[19], 10, 64) // field 22 = index 19 after pid and comm
}
