package isolate

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// userNSFdEnv names the fd on which a process started by StartInUserNS
// waits for its multi-range id maps.
const userNSFdEnv = "_ISOLATE_USERNS_FD"

// StartInUserNS starts cmd in a new user namespace with the given maps:
// the rootless way to get a process (the supervisor) that can later Exec
// into containers it starts, since a Go process cannot setns into a user
// namespace. Containers it starts share that namespace (give their spec no
// user namespace, or one whose Path is /proc/self/ns/user). A single
// mapping is written by Go's fork code; a multi-range one by
// newuidmap/newgidmap after the fork, and then the process must call
// UserNSReady first thing in main to pick up its capabilities.
func StartInUserNS(cmd *exec.Cmd, uids, gids []specs.LinuxIDMapping) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	attr := cmd.SysProcAttr
	attr.Cloneflags |= unix.CLONE_NEWUSER
	spec := &specs.Spec{Linux: &specs.Linux{UIDMappings: uids, GIDMappings: gids}}
	var cfg stageConfig
	if err := idMapAttr(spec, attr, &cfg); err != nil {
		return err
	}
	if !cfg.ReexecForCaps {
		return cmd.Start()
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer w.Close()
	cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, userNSFdEnv+"="+strconv.Itoa(2+len(cmd.ExtraFiles)))
	err = cmd.Start()
	r.Close()
	if err != nil {
		return err
	}
	if err := newIDMap(cmd.Process.Pid, uids, gids); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return err
	}
	return nil
}

// UserNSReady, called first thing in main, completes StartInUserNS for a
// multi-range map: it waits until the maps are written, then re-executes
// the binary, whose execve as root of the namespace grants the
// capabilities the first one lacked. A no-op for any other process.
func UserNSReady() {
	v := os.Getenv(userNSFdEnv)
	if v == "" {
		return
	}
	fd, err := strconv.Atoi(v)
	if err == nil {
		f := os.NewFile(uintptr(fd), "userns")
		io.Copy(io.Discard, f)
		f.Close()
		os.Unsetenv(userNSFdEnv)
		err = unix.Exec("/proc/self/exe", os.Args, os.Environ())
	}
	fmt.Fprintf(os.Stderr, "enter user namespace: %v\n", err)
	os.Exit(125)
}
