package isolate

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The parent and the re-executed stage talk over two pipes: the parent
// writes one stageConfig (JSON) on fd 3 and closes it — which is also the
// child's signal that id maps and the cgroup are in place — and the
// child reports a failure as one stageError on fd 4, which is close-on-exec,
// so EOF without data means execve succeeded.
const (
	configFd = 3
	syncFd   = 4
	mntnsFd  = 5 // exec stage: the container's mount namespace
)

const (
	modeInit = "init" // a new container: mounts, pivot_root, then exec
	modeExec = "exec" // a process joining a running container: exec only
)

type stageConfig struct {
	Mode   string
	Spec   *specs.Spec
	Rootfs *specs.Mount `json:",omitempty"`
	// ReexecForCaps: the child was cloned into a user namespace that had no
	// id map yet, so its execve dropped all capabilities; it must execve once
	// more, now as root of the mapped namespace.
	ReexecForCaps bool `json:",omitempty"`
	// NewCgroupNS: unshare the cgroup namespace once in the cgroup (cloned
	// into it on v2; on v1 the child enters CgroupDirs first), so the
	// namespace is rooted there.
	NewCgroupNS bool `json:",omitempty"`
	// CgroupDirs: the v1 cgroup directories the child's thread enters
	// first (before it unshares the cgroup namespace, or, for exec, joins
	// the container's mount namespace): cgroup.go's enterV1.
	CgroupDirs []string `json:",omitempty"`
	// Rootless: inside a user namespace without host root (bind device
	// nodes instead of mknod, tolerate locked mount flags).
	Rootless bool `json:",omitempty"`
	// CgroupV2: the host's cgroups are unified (what to mount at
	// /sys/fs/cgroup).
	CgroupV2 bool `json:",omitempty"`
	// ConsoleFd: the socket to send the pty master over, for a process
	// with a terminal (console.go).
	ConsoleFd int `json:",omitempty"`
	// FuseFd: /dev/fuse, opened by the parent (the container's device
	// cgroup refuses the open) for a fuse-overlayfs rootfs (rootfs_driver.go).
	FuseFd int `json:",omitempty"`
	// Seccomp is the spec's profile compiled to BPF by the parent (which
	// then sends the spec without it): while the child starts up, rather
	// than after, and a tenth of the JSON for the child to decode.
	Seccomp []byte `json:",omitempty"`
	// TimerSlack: the parent's timer slack (ns), which the stage, forked
	// with a larger one (timerslack.go), restores before it execs.
	TimerSlack int `json:",omitempty"`
}

// compileSeccomp moves the spec's seccomp profile, compiled, into
// cfg.Seccomp; cfg.Spec becomes a copy without it (the caller's spec is
// left alone).
func (cfg *stageConfig) compileSeccomp() error {
	if cfg.Spec.Linux == nil || cfg.Spec.Linux.Seccomp == nil {
		return nil
	}
	filter, err := compileSeccomp(cfg.Spec.Linux.Seccomp)
	if err != nil {
		return err
	}
	spec, linux := *cfg.Spec, *cfg.Spec.Linux
	linux.Seccomp = nil
	spec.Linux = &linux
	cfg.Spec = &spec
	cfg.Seccomp = make([]byte, 0, 8*len(filter))
	for _, f := range filter {
		cfg.Seccomp = binary.NativeEndian.AppendUint16(cfg.Seccomp, f.Code)
		cfg.Seccomp = append(cfg.Seccomp, f.Jt, f.Jf)
		cfg.Seccomp = binary.NativeEndian.AppendUint32(cfg.Seccomp, f.K)
	}
	return nil
}

// seccompFilter is the filter the parent compiled (launchStage always
// does, so the spec the child gets has no profile left).
func (cfg *stageConfig) seccompFilter() []syscall.SockFilter {
	if cfg.Seccomp == nil {
		return nil
	}
	filter := make([]syscall.SockFilter, 0, len(cfg.Seccomp)/8)
	for b := cfg.Seccomp; len(b) >= 8; b = b[8:] {
		filter = append(filter, syscall.SockFilter{
			Code: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:]),
		})
	}
	return filter
}

// errDiedBeforeExec: the init stage closed the sync pipe without a word.
var errDiedBeforeExec = errors.New("container init exited before exec (see its stderr)")

type stageError struct {
	Kind string // "notfound", "cannot", or "" for any other failure
	Msg  string
}

// readStageError turns what the child wrote on the sync pipe into an error.
// The child writes one marker byte right before execve and an error after
// it if execve fails; its execve closes the pipe. So the marker alone means
// success, and nothing at all means the child died early.
func readStageError(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read from container init: %w", err)
	}
	if len(data) == 0 {
		return errDiedBeforeExec
	}
	if data = data[1:]; len(data) == 0 { // only the "about to execve" marker
		return nil
	}
	var se stageError
	if err := json.Unmarshal(data, &se); err != nil {
		return fmt.Errorf("container init: %s", data)
	}
	switch se.Kind {
	case "notfound":
		return &execError{se.Msg, ErrCommandNotFound}
	case "cannot":
		return &execError{se.Msg, ErrCannotInvoke}
	}
	return errors.New(se.Msg)
}

// execError prints as runc does (`exec: "foo": executable file not found in
// $PATH`) and matches ErrCommandNotFound or ErrCannotInvoke with errors.Is.
type execError struct {
	msg  string
	kind error
}

func (e *execError) Error() string { return e.msg }
func (e *execError) Unwrap() error { return e.kind }

// fail reports err to the parent and exits; it is the init stage's only way
// out besides execve.
func fail(err error) {
	se := stageError{Msg: err.Error()}
	var ee *execError
	if errors.As(err, &ee) {
		se.Kind = "cannot"
		if ee.kind == ErrCommandNotFound {
			se.Kind = "notfound"
		}
	}
	data, _ := json.Marshal(se)
	if !markerSent {
		data = append([]byte{0}, data...)
	}
	unix.Write(syncFd, data)
	os.Exit(1)
}

var markerSent bool

// sendMarker tells the parent that what follows is execve.
func sendMarker() {
	unix.Write(syncFd, []byte{0})
	markerSent = true
}
