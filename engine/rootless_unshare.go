package engine

import (
	"errors"
	"os"
	"os/exec"
	"syscall"

	"github.com/skiff-dev/skiff/store"
)

// Unshare replaces this process (already root of the rootless user
// namespace, see rootless.go) with args, by default $SHELL. As podman
// unshare, it refuses to run for root, and tells the command where the
// store is (SKIFF_ROOT, SKIFF_RUNROOT).
func (e *Engine) Unshare(args []string) error {
	if !store.Rootless() {
		return store.Invalid("please use unshare with rootless")
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		args = []string{sh}
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		code := 127
		if !errors.Is(err, exec.ErrNotFound) {
			code = 126
		}
		return &ExitError{Code: code, Message: err.Error()}
	}
	env := append(os.Environ(), "SKIFF_ROOT="+e.Store.Root, "SKIFF_RUNROOT="+e.Store.RunRoot)
	err = syscall.Exec(path, args, env)
	return &ExitError{Code: 126, Message: "unshare: " + err.Error()}
}
