package isolate

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// How Exec enters a running container, given that a Go process is
// multithreaded: setns(CLONE_NEWUSER) is refused to a multithreaded
// process, and setns(CLONE_NEWNS) to a thread sharing its fs_struct.
//
//   - The caller must already be in the container's user namespace: as
//     root that is the host's; rootless, the supervisor must live in it
//     (StartInUserNS) and the container share it.
//   - Exec locks a throwaway OS thread and setns's it into the container's
//     cgroup, ipc, uts, net and pid namespaces, then forks the exec stage
//     from it: a child inherits the forking thread's namespaces, and, since
//     setns(pid) only affects children, is in the container's pid
//     namespace. The thread is never unlocked, so Go destroys it when the
//     goroutine ends.
//   - The stage (this binary again, in modeExec) gets the container's mount
//     namespace as an fd: on its own locked thread it unshares CLONE_FS and
//     setns's into it, and execve's from that thread, after cwd,
//     credentials, capabilities and seccomp as Init does. Joining the mount
//     namespace last, in the stage, means the binary itself is found in the
//     host's mount namespace, whatever the container did to its /proc.
//   - Its cgroup is joined before it proceeds: on v1 by the stage's thread
//     itself, first thing; on v2 by us, writing its pid.
//
// No cgo, one static binary, and it works the same rootless.

// execNamespaces are joined by the forking thread.
var execNamespaces = []specs.LinuxNamespaceType{
	specs.CgroupNamespace, specs.IPCNamespace, specs.UTSNamespace,
	specs.NetworkNamespace, specs.PIDNamespace,
}

// Exec starts proc in every namespace and the cgroup of the running
// container whose init is initPid, under the container's seccomp profile;
// capabilities, rlimits and the umask default to the container's. The
// caller must be in the container's user namespace (see above).
func Exec(c *Container, initPid int, proc *specs.Process, stdio Stdio) (*Process, error) {
	if proc == nil || len(proc.Args) == 0 {
		return nil, errors.New("isolate: exec needs process args")
	}
	nsDir := "/proc/" + strconv.Itoa(initPid) + "/ns/"
	mntns, err := os.Open(nsDir + "mnt")
	if err != nil {
		return nil, fmt.Errorf("container is not running: %w", err)
	}
	defer mntns.Close()
	if !sameNS(nsDir+"user", "/proc/self/ns/user") {
		return nil, errors.New("isolate: exec must be called from inside the container's user namespace")
	}
	spec := *c.Spec
	spec.Process = execProcess(proc, c.Spec.Process)
	cfg := &stageConfig{Mode: modeExec, Spec: &spec, Rootless: Rootless()}
	attr := &syscall.SysProcAttr{Setsid: true}
	// On v1 the stage's thread enters the cgroup itself, which costs no
	// RCU grace period (cgroup.go); on v2 we write its pid.
	var procs []*os.File
	cg := cgroupFor(c)
	if cg != nil && !cg.v2 {
		cfg.CgroupDirs = cg.v1Dirs()
	} else if procs, err = cg.openProcs(); err != nil {
		return nil, err
	}
	defer func() {
		for _, f := range procs {
			f.Close()
		}
	}()
	setup := func(pid int) error {
		for _, f := range procs {
			if _, err := f.WriteString(strconv.Itoa(pid)); err != nil {
				return fmt.Errorf("join cgroup %s: %w", f.Name(), err)
			}
		}
		return nil
	}
	type result struct {
		p   *Process
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := enterNamespaces(nsDir); err != nil {
			ch <- result{err: err}
			return
		}
		cmd, console, err := launch(cfg, attr, stdio, []*os.File{mntns}, hooks{setup: setup})
		if err != nil {
			ch <- result{err: err}
			return
		}
		ch <- result{p: &Process{Pid: cmd.Process.Pid, Console: console, proc: cmd.Process}}
	}()
	r := <-ch
	return r.p, r.err
}

// execProcess fills in what an exec'd process inherits from the
// container's when proc leaves it unset (as docker exec does):
// capabilities, rlimits, no_new_privs, and the umask.
func execProcess(proc, ctr *specs.Process) *specs.Process {
	p := *proc
	if ctr == nil {
		return &p
	}
	if p.Capabilities == nil {
		p.Capabilities = ctr.Capabilities
	}
	if p.Rlimits == nil {
		p.Rlimits = ctr.Rlimits
	}
	p.NoNewPrivileges = p.NoNewPrivileges || ctr.NoNewPrivileges
	if p.User.Umask == nil {
		p.User.Umask = ctr.User.Umask
	}
	return &p
}

// enterNamespaces moves the calling (locked) thread into the namespaces
// under nsDir, skipping those it already shares.
func enterNamespaces(nsDir string) error {
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, t := range execNamespaces {
		p := nsDir + nsFile(t)
		if sameNS(p, "/proc/thread-self/ns/"+nsFile(t)) {
			continue
		}
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s namespace: %w", t, err)
		}
		fds = append(fds, fd)
		if err := unix.Setns(fd, 0); err != nil {
			return fmt.Errorf("enter %s namespace: %w", t, err)
		}
	}
	return nil
}

// joinMountNS is the exec stage's first step: this (locked) thread leaves
// the fs_struct it shares with the Go runtime's other threads, which
// setns(CLONE_NEWNS) requires, and enters the container's mount namespace.
func joinMountNS() error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare fs: %w", err)
	}
	defer unix.Close(mntnsFd)
	if err := unix.Setns(mntnsFd, unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("enter mount namespace: %w", err)
	}
	return nil
}
