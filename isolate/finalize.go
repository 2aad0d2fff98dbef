package isolate

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// execTarget is the resolved executable and what execve gets.
type execTarget struct {
	path string
	argv []string
	env  []string
}

// finalize sets credentials, capabilities, no_new_privs and seccomp on
// this (locked) thread and execve's: all four are per-thread and carried
// over by execve only from the thread that calls it. Raw per-thread
// set*id syscalls are used on purpose (Go's syscall.Setuid changes every
// thread, which is not needed here and not possible in every setting).
func finalize(p *specs.Process, exe *execTarget, filter []syscall.SockFilter) error {
	caps, err := capSet(p.Capabilities)
	if err != nil {
		return err
	}
	// Bounding set first: dropping needs CAP_SETPCAP, which setuid may take.
	if err := caps.Apply(capability.BOUNDS); err != nil {
		return fmt.Errorf("capability bounding set: %w", err)
	}
	// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which is
	// about to go: load it now (the profile must then allow what follows,
	// as Docker's does); with it, load it last, as runc does.
	if !p.NoNewPrivileges {
		if err := loadSeccomp(filter); err != nil {
			return err
		}
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("keepcaps: %w", err)
	}
	if err := setCredentials(p.User); err != nil {
		return err
	}
	if err := caps.Apply(capability.CAPS | capability.AMBS); err != nil {
		return fmt.Errorf("capabilities: %w", err)
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("no_new_privs: %w", err)
		}
		if err := loadSeccomp(filter); err != nil {
			return err
		}
	}
	if p.User.Umask != nil {
		unix.Umask(int(*p.User.Umask))
	}
	closeInherited()
	sendMarker()
	err = unix.Exec(exe.path, exe.argv, exe.env)
	switch {
	case errors.Is(err, unix.ENOENT):
		return &execError{fmt.Sprintf("exec: %q: no such file or directory", exe.argv[0]), ErrCommandNotFound}
	case errors.Is(err, unix.EACCES):
		return &execError{fmt.Sprintf("exec: %q: permission denied", exe.argv[0]), ErrCannotInvoke}
	case errors.Is(err, unix.ENOEXEC):
		return &execError{fmt.Sprintf("exec: %q: exec format error", exe.argv[0]), ErrCannotInvoke}
	}
	return &execError{fmt.Sprintf("exec: %q: %v", exe.argv[0], err), ErrCannotInvoke}
}

// closeInherited marks every descriptor above stderr close-on-exec: the
// container gets only its stdio, not whatever its caller inherited.
func closeInherited() {
	if unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC) == nil {
		return
	}
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}

// capSet is the spec's capabilities for this thread (nil: none at all).
func capSet(pc *specs.LinuxCapabilities) (capability.Capabilities, error) {
	caps, err := capability.NewPid2(0)
	if err != nil {
		return nil, err
	}
	caps.Clear(capability.CAPS | capability.BOUNDS | capability.AMBS)
	if pc == nil {
		return caps, nil
	}
	sets := []struct {
		which capability.CapType
		names []string
	}{
		{capability.BOUNDING, pc.Bounding}, {capability.EFFECTIVE, pc.Effective},
		{capability.PERMITTED, pc.Permitted}, {capability.INHERITABLE, pc.Inheritable},
		{capability.AMBIENT, pc.Ambient},
	}
	known := capByName()
	for _, s := range sets {
		for _, n := range s.names {
			c, ok := known[strings.ToUpper(n)]
			if !ok {
				continue // unknown to this kernel or library: as runc, ignore
			}
			caps.Set(s.which, c)
		}
	}
	return caps, nil
}

func capByName() map[string]capability.Cap {
	m := map[string]capability.Cap{}
	last, _ := capability.LastCap()
	for _, c := range capability.ListKnown() {
		if c <= last {
			m["CAP_"+strings.ToUpper(c.String())] = c
		}
	}
	return m
}

// setCredentials switches this thread to the process's user and groups.
func setCredentials(u specs.User) error {
	if setgroupsAllowed() {
		groups := mappedGids(u.AdditionalGids)
		var ptr unsafe.Pointer
		if len(groups) > 0 {
			ptr = unsafe.Pointer(&groups[0])
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(ptr), 0); e != 0 {
			return fmt.Errorf("setgroups: %w", e)
		}
	}
	// else: a single-id user namespace denies setgroups; like crun, run
	// without the image's supplementary groups (none of them is mapped).
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.GID), uintptr(u.GID), uintptr(u.GID)); e != 0 {
		return fmt.Errorf("setgid %d: %w", u.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.UID), uintptr(u.UID), uintptr(u.UID)); e != 0 {
		return fmt.Errorf("setuid %d: %w", u.UID, e)
	}
	return nil
}

// mappedGids keeps the groups that exist in this user namespace (an image's
// /etc/group may name gids a rootless map does not cover).
func mappedGids(gids []uint32) []uint32 {
	data, err := os.ReadFile("/proc/self/gid_map")
	if err != nil {
		return gids
	}
	out := []uint32{}
	for _, g := range gids {
		for line := range strings.SplitSeq(string(data), "\n") {
			var inside, outside, n uint64
			if _, err := fmt.Sscan(line, &inside, &outside, &n); err == nil && uint64(g) >= inside && uint64(g) < inside+n {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

func setgroupsAllowed() bool {
	data, err := os.ReadFile("/proc/self/setgroups")
	return err != nil || strings.TrimSpace(string(data)) != "deny"
}
