package container

// Rootless networking, as Podman: a rootless container's network namespace
// has only loopback, unless pasta (Debian's passt; preferred) or
// slirp4netns is installed, which then give it outbound connectivity
// through the user's own sockets on the host (pasta copies the host's
// address and routes; connections to the gateway reach the host).
//
// The namespace must be connected before the container's process runs, so
// the supervisor creates it, has the tool attach, and the spec joins it by
// path. The tool is a child of the supervisor started from a thread that
// stays locked until the tool exits, so its Pdeathsig (SIGKILL) fires when
// the supervisor goes, even if it dies abruptly.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/isolate"
)

// netnsKeep holds the namespaces this process made for its containers
// open: the spec names them by /proc/<pid>/fd/<fd>.
var netnsKeep []*os.File

// RootlessNetwork connects a rootless container's new network namespace
// with pasta or slirp4netns when one is installed (and the container is on
// the default network); otherwise it leaves the spec alone (loopback only).
// stateDir receives the tool's pid file.
func RootlessNetwork(c *Container, spec *specs.Spec, stateDir string) error {
	if !isolate.Rootless() || spec.Linux == nil || c.HostConfig.NetworkMode == "none" || c.HostConfig.NetworkMode == "host" {
		return nil
	}
	idx := -1
	for i, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace && ns.Path == "" {
			idx = i
		}
	}
	if idx < 0 {
		return nil
	}
	tool, path := netTool()
	if tool == "" {
		return nil
	}
	ns, err := attachNetns(tool, path, stateDir)
	if err != nil {
		return fmt.Errorf("rootless network (%s): %w", tool, err)
	}
	netnsKeep = append(netnsKeep, ns)
	spec.Linux.Namespaces[idx].Path = fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), ns.Fd())
	return nil
}

// netToolEnv picks the tool (pasta, slirp4netns or none), as Podman's
// default_rootless_network_cmd.
const netToolEnv = "SKIFF_ROOTLESS_NETWORK_CMD"

// netTool finds pasta, else slirp4netns (or the one netToolEnv names).
func netTool() (name, path string) {
	tools := []string{"pasta", "slirp4netns"}
	if v := os.Getenv(netToolEnv); v != "" {
		tools = []string{v}
	}
	for _, t := range tools {
		if t != "pasta" && t != "slirp4netns" {
			continue
		}
		if p, err := exec.LookPath(t); err == nil {
			return t, p
		}
	}
	return "", ""
}

// attachNetns creates a network namespace with loopback up and starts the
// tool on it; it returns once the tool has configured it.
func attachNetns(tool, path, stateDir string) (*os.File, error) {
	type result struct {
		ns  *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread is the tool's parent
		ns, err := newNetns()
		if err != nil {
			done <- result{err: err}
			return
		}
		cmd, err := startNetTool(tool, path, ns, stateDir)
		if err != nil {
			ns.Close()
			done <- result{err: err}
			return
		}
		done <- result{ns: ns}
		cmd.Wait()
	}()
	r := <-done
	return r.ns, r.err
}

// newNetns makes a network namespace with its loopback up. It does so on
// a thread of its own that it then lets die: a rootless process cannot
// setns back into the host's namespace (owned by the initial user
// namespace), and a goroutine that exits locked takes its thread along.
func newNetns() (*os.File, error) {
	type result struct {
		ns  *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread is discarded
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("new network namespace: %w", err)}
			return
		}
		ns, err := os.Open("/proc/thread-self/ns/net")
		if err == nil {
			if err = isolate.LoopbackUp(); err != nil {
				ns.Close()
				ns = nil
			}
		}
		done <- result{ns, err}
	}()
	r := <-done
	return r.ns, r.err
}

// startNetTool starts the tool attached to ns (passed as its fd 3) and
// waits until it has configured the namespace.
func startNetTool(tool, path string, ns *os.File, stateDir string) (*exec.Cmd, error) {
	cmd := exec.Command(path)
	cmd.ExtraFiles = []*os.File{ns}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, err
	}
	var ready *os.File
	pidFile := filepath.Join(stateDir, tool+".pid")
	os.Remove(pidFile)
	switch tool {
	case "pasta":
		// --runas 0:0: pasta would switch to nobody as uid 0, which a
		// single-id map lacks. The namespace is named through pasta's own
		// fd, which it may always open. No port forwarding either way
		// (pasta's default "auto" would publish every port the container
		// binds, which Docker does only with -p).
		cmd.Args = []string{tool, "--config-net", "--foreground", "--quiet", "--runas", "0:0",
			"-t", "none", "-u", "none", "-T", "none", "-U", "none",
			"--netns", "/proc/self/fd/3", "--pid", pidFile}
	case "slirp4netns":
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		defer r.Close()
		ready = r
		cmd.ExtraFiles = append(cmd.ExtraFiles, w)
		cmd.Args = []string{tool, "--configure", "--mtu=65520", "--ready-fd=4",
			"--netns-type=path", "/proc/self/fd/3", "tap0"}
		defer w.Close()
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if err := waitReady(cmd, ready, pidFile); err != nil {
		cmd.Process.Kill()
		return nil, err
	}
	return cmd, nil
}

// waitReady waits for slirp4netns's ready byte or pasta's pid file.
func waitReady(cmd *exec.Cmd, ready *os.File, pidFile string) error {
	deadline := time.Now().Add(10 * time.Second)
	if ready != nil {
		ready.SetReadDeadline(deadline)
		b := make([]byte, 1)
		if _, err := ready.Read(b); err != nil {
			return errors.New("slirp4netns did not start")
		}
		return nil
	}
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(pidFile); err == nil && len(data) > 0 {
			if _, err := strconv.Atoi(string(trimNL(data))); err == nil {
				return nil
			}
		}
		if unix.Kill(cmd.Process.Pid, 0) != nil || processExited(cmd.Process.Pid) {
			return errors.New("pasta exited before configuring the namespace")
		}
		time.Sleep(time.Millisecond)
	}
	return errors.New("pasta did not configure the namespace in time")
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// processExited reports whether pid is a zombie (exited, not yet reaped).
func processExited(pid int) bool {
	state, _, err := procStat(pid)
	return err != nil || state == 'Z'
}
