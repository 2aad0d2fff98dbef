package container

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// procStat reads a process's state letter (field 3) and start time (field
// 22, clock ticks since boot) from /proc/<pid>/stat. Pids are reused; pid
// plus start time is not.
func procStat(pid int) (state byte, start uint64, err error) {
	if pid <= 0 {
		return 0, 0, fmt.Errorf("invalid pid %d", pid)
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) may hold spaces and parentheses; the
	// fields after its last ")" are plain.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := bytes.Fields(data[i+1:])
	// fields[0] is field 3 (state), so field 22 is fields[19].
	if len(fields) < 20 || len(fields[0]) != 1 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	start, err = strconv.ParseUint(string(fields[19]), 10, 64)
	return fields[0][0], start, err
}

// ProcStartTime is a process's start time, for recording next to its pid.
func ProcStartTime(pid int) (uint64, error) {
	_, start, err := procStat(pid)
	return start, err
}

// Alive reports whether pid is still the process that started at start
// and has not exited (a zombie only waits to be reaped). A zero start
// means "unknown" and trusts the pid alone.
func Alive(pid int, start uint64) bool {
	state, got, err := procStat(pid)
	if err != nil || state == 'Z' || state == 'X' {
		return false
	}
	return start == 0 || got == start
}
