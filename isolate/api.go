package isolate

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// InitArg is argv[1] of the re-executed binary that becomes a container's
// init stage (or an exec'd process's last stage); main dispatches it to Init.
const InitArg = "__isolate-init"

// ErrCommandNotFound wraps a failure to find the container's executable
// (Docker exits 127); ErrCannotInvoke one to execute it (126).
var (
	ErrCommandNotFound = errors.New("command not found")
	ErrCannotInvoke    = errors.New("command cannot be invoked")
)

// KilledError is a start whose init stage was killed by a signal before it
// could exec the container's process. The caller may already have shown
// the container as running (Started), so a user's kill in that window is
// the container's exit with 128+signal, as Docker reports it, not an
// engine failure.
type KilledError struct{ Signal syscall.Signal }

func (e *KilledError) Error() string {
	return fmt.Sprintf("container init killed by %v before exec", e.Signal)
}

// Container is what Start needs: an OCI spec and, optionally, the overlay
// that becomes its root filesystem.
type Container struct {
	ID   string
	Spec *specs.Spec // Spec.Root.Path: rootfs mount point (exists, may be empty)
	// Rootfs, when set, is mounted at Spec.Root.Path inside the container's
	// mount namespace (so it never shows up in the host's mount table).
	Rootfs   *specs.Mount
	StateDir string // private runtime dir for isolate's files
	// Prepare, when set, runs once the container's process exists (pid)
	// but before it is told to set the container up: the mount sources
	// and directories the spec names can be made here, while the new
	// process starts up, instead of before it.
	Prepare func(pid int) error
	// Started, when set, runs once the process has been sent its config
	// and sets the container up (mounts, pivot_root), before Start waits
	// for its execve: work the set-up does not need (the caller's attach
	// socket, its record) overlaps that set-up rather than delaying it.
	// An error kills the process and fails the start.
	Started func(pid int) error
}

// Stdio are the container process's standard streams; nil means /dev/null.
// With Spec.Process.Terminal leave it empty: isolate allocates a pty inside
// the container and returns its master as Process.Console.
type Stdio struct{ Stdin, Stdout, Stderr *os.File }

// ExitStatus is how a process ended: Code is Docker's exit code (128+n when
// killed by signal n).
type ExitStatus struct {
	Code      int
	Signal    syscall.Signal
	OOMKilled bool
}
