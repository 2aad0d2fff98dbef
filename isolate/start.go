package isolate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cloneFlags are the namespaces created by clone when the spec lists them
// without a path. The cgroup namespace is unshared later by the child, once
// it is in its cgroup (so the namespace is rooted there); namespaces with a
// path are joined by the child (setns).
var cloneFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
}

// Start creates the container's namespaces and cgroup and runs its process,
// returning once that process has execve'd. Failures inside (a missing
// executable, a bad mount) come back as errors; ErrCommandNotFound and
// ErrCannotInvoke are wrapped for the 127 and 126 exit codes.
func Start(c *Container, stdio Stdio) (*Process, error) {
	spec := c.Spec
	if spec == nil || spec.Process == nil || spec.Root == nil || len(spec.Process.Args) == 0 {
		return nil, errors.New("isolate: spec needs process args and a root")
	}
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	attr, cfg, err := startAttr(spec)
	if err != nil {
		return nil, err
	}
	cfg.Rootfs = c.Rootfs
	cg := cgroupFor(c)
	if cg == nil && hasLimits(spec.Linux.Resources) {
		_, why := CgroupsAvailable()
		return nil, fmt.Errorf("resource limits need a cgroup: %s", why)
	}
	// A v2 cgroup must exist before the clone; v1 cgroups are made while
	// the child starts up, and its thread enters them (cgroup.go).
	var h hooks
	if cg != nil && cg.v2 {
		if err := cg.create(); err != nil {
			cg.destroy()
			return nil, err
		}
		h.start = cg.startV2
	}
	h.setup = func(pid int) error {
		if cfg.ReexecForCaps {
			if err := newIDMap(pid, spec.Linux.UIDMappings, spec.Linux.GIDMappings); err != nil {
				return err
			}
		}
		if cg != nil {
			if !cg.v2 {
				if err := cg.create(); err != nil {
					return err
				}
				cfg.CgroupDirs = cg.v1Dirs()
			}
			// The limits come before the child has its config, so before
			// it enters the v1 cgroup, and after Start opened what it needs.
			if err := cg.apply(spec.Linux.Resources); err != nil {
				return err
			}
		}
		if c.Prepare != nil {
			return c.Prepare(pid)
		}
		return nil
	}
	h.sent = c.Started
	extra := openFuse(cfg)
	cmd, console, err := launch(cfg, attr, stdio, extra, h)
	closeFiles(extra)
	if err != nil {
		if cg != nil {
			cg.destroy()
		}
		return nil, err
	}
	return &Process{Pid: cmd.Process.Pid, Console: console, proc: cmd.Process, cg: cg}, nil
}

// startAttr turns the spec's namespaces and id maps into clone attributes
// and the child's instructions.
func startAttr(spec *specs.Spec) (*syscall.SysProcAttr, *stageConfig, error) {
	attr := &syscall.SysProcAttr{Setsid: true}
	cfg := &stageConfig{Mode: modeInit, Spec: spec, Rootless: Rootless(), CgroupV2: isCgroup2()}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.CgroupNamespace && ns.Path == "" {
			cfg.NewCgroupNS = true
			continue
		}
		flag, ok := cloneFlags[ns.Type]
		if !ok || ns.Path != "" {
			if ns.Type == specs.UserNamespace || ns.Type == specs.MountNamespace || ns.Type == specs.PIDNamespace {
				if !sameNS(ns.Path, "/proc/self/ns/"+nsFile(ns.Type)) {
					return nil, nil, fmt.Errorf("isolate: cannot join a %s namespace by path (%s) for a new container; run from inside it", ns.Type, ns.Path)
				}
			}
			continue
		}
		if ns.Type == specs.UserNamespace && sameIDMaps(spec.Linux) {
			// The caller already lives in a user namespace with these very
			// maps (a rootless supervisor started by StartInUserNS): the
			// container shares it, so Exec can later join the container.
			continue
		}
		attr.Cloneflags |= flag
		if ns.Type == specs.UserNamespace {
			if err := idMapAttr(spec, attr, cfg); err != nil {
				return nil, nil, err
			}
		}
	}
	return attr, cfg, nil
}

// idMapAttr sets up the user namespace's maps: written by Go's fork code
// when it can (we are root, or it is a single mapping of ourselves), else by
// newuidmap/newgidmap after the clone (and the child must re-exec to regain
// its capabilities).
func idMapAttr(spec *specs.Spec, attr *syscall.SysProcAttr, cfg *stageConfig) error {
	uids, gids := spec.Linux.UIDMappings, spec.Linux.GIDMappings
	if len(uids) == 0 || len(gids) == 0 {
		return errors.New("isolate: a user namespace needs uid and gid mappings")
	}
	root := os.Geteuid() == 0 && !inUserNS()
	if (!root && (len(uids) > 1 || len(gids) > 1)) || testExternalIDMaps {
		cfg.ReexecForCaps = true
		return nil
	}
	for _, m := range uids {
		attr.UidMappings = append(attr.UidMappings, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
	}
	for _, m := range gids {
		attr.GidMappings = append(attr.GidMappings, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
	}
	// An unprivileged single mapping is only allowed with setgroups denied.
	attr.GidMappingsEnableSetgroups = root
	return nil
}

// testExternalIDMaps makes root take the newuidmap route (written directly,
// as root needs no helper) so tests cover the re-exec it implies.
var testExternalIDMaps bool

// sameIDMaps says whether this process is in a user namespace mapped
// exactly as l asks.
func sameIDMaps(l *specs.Linux) bool {
	if !inUserNS() {
		return false
	}
	return idMapEqual("/proc/self/uid_map", l.UIDMappings) && idMapEqual("/proc/self/gid_map", l.GIDMappings)
}

func idMapEqual(file string, want []specs.LinuxIDMapping) bool {
	data, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	var got []specs.LinuxIDMapping
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		var m specs.LinuxIDMapping
		if _, err := fmt.Sscan(line, &m.ContainerID, &m.HostID, &m.Size); err != nil {
			return false
		}
		got = append(got, m)
	}
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// newIDMap writes a multi-range map through the setuid helpers.
func newIDMap(pid int, uids, gids []specs.LinuxIDMapping) error {
	if testExternalIDMaps {
		return writeIDMaps(pid, uids, gids)
	}
	run := func(tool string, maps []specs.LinuxIDMapping) error {
		args := []string{strconv.Itoa(pid)}
		for _, m := range maps {
			args = append(args, fmt.Sprint(m.ContainerID), fmt.Sprint(m.HostID), fmt.Sprint(m.Size))
		}
		out, err := exec.Command(tool, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %s: %w", tool, strings.TrimSpace(string(out)), err)
		}
		return nil
	}
	if err := run("newuidmap", uids); err != nil {
		return err
	}
	return run("newgidmap", gids)
}

func writeIDMaps(pid int, uids, gids []specs.LinuxIDMapping) error {
	for file, maps := range map[string][]specs.LinuxIDMapping{"uid_map": uids, "gid_map": gids} {
		var b strings.Builder
		for _, m := range maps {
			fmt.Fprintf(&b, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
		}
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/%s", pid, file), []byte(b.String()), 0); err != nil {
			return err
		}
	}
	return nil
}

// hooks are what a caller of launch does to the child: start starts it
// (nil: cmd.Start), setup acts on it (id maps, cgroup) before it gets its
// config, sent runs once it has it (nil: nothing).
type hooks struct {
	start func(*exec.Cmd) error
	setup func(pid int) error
	sent  func(pid int) error
}

// launch re-executes this binary as a stage with attr (and extra files
// from fd 5 on), lets h.setup act on the child before sending it cfg and
// h.sent after, and waits until the child has execve'd or reported why it could not. For a
// process with a terminal it also returns the pty master the child
// allocated (console.go).
func launch(cfg *stageConfig, attr *syscall.SysProcAttr, stdio Stdio, extra []*os.File, h hooks) (*exec.Cmd, *os.File, error) {
	var console *consoleSocket
	if cfg.Spec.Process.Terminal {
		if stdio != (Stdio{}) {
			return nil, nil, errors.New("isolate: a process with a terminal gets its stdio from isolate: leave Stdio empty")
		}
		var err error
		if console, err = newConsoleSocket(); err != nil {
			return nil, nil, err
		}
		defer console.close()
		cfg.ConsoleFd = configFd + 2 + len(extra)
		extra = append(extra[:len(extra):len(extra)], console.child)
	}
	cmd, err := launchStage(cfg, attr, stdio, extra, h)
	if err != nil || console == nil {
		return cmd, nil, err
	}
	master, err := console.receive()
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, nil, err
	}
	return cmd, master, nil
}

// launchStage is launch without the terminal.
func launchStage(cfg *stageConfig, attr *syscall.SysProcAttr, stdio Stdio, extra []*os.File, h hooks) (*exec.Cmd, error) {
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer cfgW.Close()
	syncR, syncW, err := os.Pipe()
	if err != nil {
		cfgR.Close()
		return nil, err
	}
	defer syncR.Close()
	cmd := exec.Command("/proc/self/exe", InitArg)
	// The stage runs on one thread until it execs: one P saves the Go
	// runtime's idle spinning on others. The container gets the spec's
	// environment, not this one.
	cmd.Env = []string{"GOMAXPROCS=1"}
	if stdio.Stdin != nil {
		cmd.Stdin = stdio.Stdin
	}
	if stdio.Stdout != nil {
		cmd.Stdout = stdio.Stdout
	}
	if stdio.Stderr != nil {
		cmd.Stderr = stdio.Stderr
	}
	cmd.ExtraFiles = append([]*os.File{cfgR, syncW}, extra...)
	cmd.SysProcAttr = attr
	cfg.TimerSlack, err = forkWithSlack(func() error {
		if h.start != nil {
			return h.start(cmd)
		}
		return cmd.Start()
	})
	cfgR.Close()
	syncW.Close()
	if err != nil {
		return nil, fmt.Errorf("start container init: %w", err)
	}
	abort := func(err error) (*exec.Cmd, error) {
		cmd.Process.Kill() // a no-op on a child that already died
		cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && errors.Is(err, errDiedBeforeExec) {
			return nil, &KilledError{Signal: ws.Signal()}
		}
		return nil, err
	}
	if h.setup != nil {
		if err := h.setup(cmd.Process.Pid); err != nil {
			return abort(err)
		}
	}
	if err := cfg.compileSeccomp(); err != nil {
		return abort(err)
	}
	if err := json.NewEncoder(cfgW).Encode(cfg); err != nil {
		return abort(fmt.Errorf("send config to container init: %w", readStageErrorOr(syncR, err)))
	}
	cfgW.Close()
	if h.sent != nil {
		if err := h.sent(cmd.Process.Pid); err != nil {
			return abort(err)
		}
	}
	if err := readStageError(syncR); err != nil {
		return abort(err)
	}
	return cmd, nil
}

// readStageErrorOr prefers the child's own account of a failure to err.
func readStageErrorOr(r *os.File, err error) error {
	if serr := readStageError(r); serr != nil {
		return serr
	}
	return err
}
