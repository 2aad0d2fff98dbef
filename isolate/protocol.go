package isolate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The parent and the re-executed stage talk over two pipes: the parent
// writes one stageConfig (JSON) on fd 3 and closes it — which is also the
// child's signal that id maps and cgroup membership are in place — and the
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
	// NewCgroupNS: unshare the cgroup namespace after the parent has moved
	// the child into its cgroup (cgroup v1 cannot clone into a cgroup).
	NewCgroupNS bool `json:",omitempty"`
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
}

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
		return errors.New("container init exited before exec (see its stderr)")
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
