package isolate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// reexecEnv marks the second execve of a stage that had to regain its
// capabilities (see stageConfig.ReexecForCaps).
const reexecEnv = "_ISOLATE_REEXEC=1"

// Init is the re-executed stage (argv[1] == InitArg): it reads its
// instructions, prepares the container (for a new one: mounts, pivot_root,
// hostname, loopback, ...) and execve's the container process. It never
// returns; failures go back to the parent on the sync pipe.
func Init() {
	// Everything below runs on this one thread: mounts and namespaces
	// affect the process, but credentials, capabilities, no_new_privs,
	// seccomp and a setns/unshare'd namespace are the thread's, and they
	// must be those of the thread that calls execve.
	runtime.LockOSThread()
	unix.CloseOnExec(syncFd)
	cfg, raw, err := readConfig()
	if err != nil {
		fail(err)
	}
	if cfg.ReexecForCaps && !hasEnv(reexecEnv) {
		reexecWithConfig(raw)
	}
	filter := cfg.seccompFilter()
	var exe *execTarget
	if cfg.Mode == modeExec {
		exe, err = prepareExec(cfg)
	} else {
		exe, err = prepareInit(cfg)
	}
	if err == nil {
		restoreTimerSlack(cfg.TimerSlack)
		err = finalize(cfg.Spec.Process, exe, filter) // returns only on failure
	}
	fail(err)
}

func hasEnv(kv string) bool {
	for _, e := range os.Environ() {
		if e == kv {
			return true
		}
	}
	return false
}

func readConfig() (*stageConfig, []byte, error) {
	f := os.NewFile(configFd, "config")
	raw, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	var cfg stageConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, nil, fmt.Errorf("decode config: %w", err)
	}
	if cfg.Spec == nil || cfg.Spec.Process == nil {
		return nil, nil, errors.New("config without a process")
	}
	return &cfg, raw, nil
}

// reexecWithConfig execve's this binary again with the config in a memfd at
// fd 3: the process is now root of its freshly mapped user namespace, and
// only an execve turns that into capabilities.
func reexecWithConfig(raw []byte) {
	fd, err := unix.MemfdCreate("isolate-config", unix.MFD_CLOEXEC)
	if err == nil {
		_, err = unix.Write(fd, raw)
	}
	if err == nil {
		_, err = unix.Seek(fd, 0, 0)
	}
	if err == nil && fd != configFd {
		err = unix.Dup3(fd, configFd, 0) // the copy at fd 3 survives execve
	} else if err == nil {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
	}
	if err == nil {
		_, err = unix.FcntlInt(syncFd, unix.F_SETFD, 0)
	}
	if err == nil {
		err = unix.Exec("/proc/self/exe", []string{os.Args[0], InitArg}, []string{reexecEnv, "GOMAXPROCS=1"})
	}
	fail(fmt.Errorf("re-exec in user namespace: %w", err))
}

// prepareInit builds the container around this process, which the parent
// cloned into its namespaces, and finds the executable inside it.
func prepareInit(cfg *stageConfig) (*execTarget, error) {
	spec := cfg.Spec
	if err := joinNamespaces(spec); err != nil {
		return nil, err
	}
	if err := enterV1(cfg.CgroupDirs); err != nil {
		return nil, fmt.Errorf("join cgroup: %w", err)
	}
	if cfg.NewCgroupNS {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return nil, fmt.Errorf("unshare cgroup namespace: %w", err)
		}
	}
	if err := setupRootfs(cfg); err != nil {
		return nil, err
	}
	if cfg.ConsoleFd > 0 {
		p := spec.Process
		if err := setupConsole(cfg.ConsoleFd, p.ConsoleSize, p.User.UID, true); err != nil {
			return nil, err
		}
	}
	if hasNewNS(spec, specs.UTSNamespace) {
		if spec.Hostname != "" {
			if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
				return nil, fmt.Errorf("sethostname: %w", err)
			}
		}
		if spec.Domainname != "" {
			if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
				return nil, fmt.Errorf("setdomainname: %w", err)
			}
		}
	}
	if hasNewNS(spec, specs.NetworkNamespace) {
		if err := LoopbackUp(); err != nil {
			return nil, err
		}
	}
	if err := setRlimits(spec.Process.Rlimits); err != nil {
		return nil, err
	}
	if spec.Process.OOMScoreAdj != nil {
		if err := os.WriteFile("/proc/self/oom_score_adj", fmt.Appendf(nil, "%d", *spec.Process.OOMScoreAdj), 0); err != nil {
			return nil, fmt.Errorf("oom_score_adj: %w", err)
		}
	}
	return prepareProcess(spec.Process)
}

// prepareExec readies a process joining a running container: it is
// already in its other namespaces and its cgroup (see exec.go).
func prepareExec(cfg *stageConfig) (*execTarget, error) {
	// Through the host's /sys/fs/cgroup, before the mount namespace changes.
	if err := enterV1(cfg.CgroupDirs); err != nil {
		return nil, fmt.Errorf("join cgroup: %w", err)
	}
	if err := joinMountNS(); err != nil {
		return nil, err
	}
	if cfg.ConsoleFd > 0 {
		p := cfg.Spec.Process
		if err := setupConsole(cfg.ConsoleFd, p.ConsoleSize, p.User.UID, false); err != nil {
			return nil, err
		}
	}
	if err := setRlimits(cfg.Spec.Process.Rlimits); err != nil {
		return nil, err
	}
	return prepareProcess(cfg.Spec.Process)
}

// prepareProcess enters the working directory and finds the executable.
func prepareProcess(p *specs.Process) (*execTarget, error) {
	cwd := p.Cwd
	if cwd == "" {
		cwd = "/"
	}
	os.MkdirAll(cwd, 0o755) // as runc: a missing WORKDIR is created
	if err := unix.Chdir(cwd); err != nil {
		return nil, fmt.Errorf("chdir to cwd (%q) set in config.json failed: %w", cwd, err)
	}
	path, err := lookPath(p.Args[0], p.Env)
	if err != nil {
		return nil, err
	}
	return &execTarget{path: path, argv: p.Args, env: p.Env}, nil
}

func hasNewNS(spec *specs.Spec, t specs.LinuxNamespaceType) bool {
	if spec.Linux == nil {
		return false
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == t && ns.Path == "" {
			return true
		}
	}
	return false
}

// joinNamespaces setns's this thread into namespaces given by path (e.g.
// --network container:X); the ones that cannot be joined so were refused
// by the parent.
func joinNamespaces(spec *specs.Spec) error {
	for _, ns := range spec.Linux.Namespaces {
		if ns.Path == "" || ns.Type == specs.UserNamespace || ns.Type == specs.MountNamespace || ns.Type == specs.PIDNamespace {
			continue
		}
		fd, err := unix.Open(ns.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s namespace: %w", ns.Type, err)
		}
		err = unix.Setns(fd, 0)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("join %s namespace %s: %w", ns.Type, ns.Path, err)
		}
	}
	return nil
}

// lookPath finds file as execve would, searching PATH from the process's
// own environment inside the new root; errors read as runc's.
func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		if err := checkExecutable(file); err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
				return "", &execError{fmt.Sprintf("exec: %q: stat %s: no such file or directory", file, file), ErrCommandNotFound}
			}
			return "", &execError{fmt.Sprintf("exec: %q: %v", file, err), ErrCannotInvoke}
		}
		return file, nil
	}
	pathEnv := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			pathEnv = v
		}
	}
	var denied error
	for dir := range strings.SplitSeq(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + file
		err := checkExecutable(p)
		if err == nil {
			return p, nil
		}
		if errors.Is(err, unix.EACCES) && denied == nil {
			denied = err
		}
	}
	if denied != nil {
		return "", &execError{fmt.Sprintf("exec: %q: permission denied", file), ErrCannotInvoke}
	}
	return "", &execError{fmt.Sprintf("exec: %q: executable file not found in $PATH", file), ErrCommandNotFound}
}

// checkExecutable: a regular file with an execute bit (the process's own
// access rights are checked by execve itself).
func checkExecutable(p string) error {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.EACCES
	}
	if st.Mode&0o111 == 0 {
		return unix.EACCES
	}
	return nil
}
