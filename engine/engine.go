// Package engine holds skiff's verbs (pull, run, stop, build, prune...). It
// only orchestrates: it loads what a verb needs from the store through the
// image and container packages, acts, and returns. main turns its options
// structs into calls and its errors into exit codes.
package engine

import (
	"fmt"
	"io"
	"os"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/store"
)

// Options are the global settings of one skiff invocation.
type Options struct {
	Root, RunRoot string
	LogLevel      string
	StorageDriver string // forced rootfs driver for new containers; "" picks
	Stdout        io.Writer
	Stderr        io.Writer
}

// Engine is one invocation's handle on the store. It holds no state between
// invocations: every CLI call opens a fresh one.
type Engine struct {
	Store  *store.Store
	Stdout io.Writer
	Stderr io.Writer
	opts   Options
}

// Open opens the store named by opts.
func Open(opts Options) (*Engine, error) {
	if err := container.CheckStorageDriver(opts.StorageDriver); err != nil {
		return nil, err
	}
	s, err := store.Open(opts.Root, opts.RunRoot)
	if err != nil {
		return nil, err
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	return &Engine{Store: s, Stdout: opts.Stdout, Stderr: opts.Stderr, opts: opts}, nil
}

// ExitError carries an exit code that is not skiff's own failure: the
// container's status, or Docker's 126/127 for a command that cannot run.
type ExitError struct {
	Code    int
	Message string // printed as "Error: <Message>" when not empty
}

func (e *ExitError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("exit status %d", e.Code)
}
