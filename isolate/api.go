package isolate

import (
	"errors"
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

// Container is what Start needs: an OCI spec and, optionally, the overlay
// that becomes its root filesystem.
type Container struct {
	ID   string
	Spec *specs.Spec // Spec.Root.Path: rootfs mount point (exists, may be empty)
	// Rootfs, when set, is mounted at Spec.Root.Path inside the container's
	// mount namespace (so it never shows up in the host's mount table).
	Rootfs   *specs.Mount
	StateDir string // private runtime dir for isolate's files
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
