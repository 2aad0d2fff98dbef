package container

// --init: skiff's own binary, bound into the container at InitPath, runs
// as its PID 1 in place of Docker's tini. It starts the command in its own
// process group (in the foreground of the terminal, if it has one),
// forwards every signal it gets to it, reaps whatever else exits (orphans
// re-parented to PID 1), and exits with the command's status, 128+signal
// when a signal ended it.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// InitPath is where the init is bound, as Docker binds docker-init.
const InitPath = "/sbin/docker-init"

// isInit says whether this process was started as the container's init.
func isInit() bool { return filepath.Base(os.Args[0]) == filepath.Base(InitPath) }

// initSignals gets every signal the init receives. It is set up in a
// package init, as early as Go allows: a PID 1 ignores a signal it has no
// handler for, and Go's runtime turns an unhandled SIGTERM into exit(2),
// so a stop right after the start must find the handler in place. (One
// that lands in the first milliseconds, before Go's runtime is up, still
// ends the container, with status 2.)
var initSignals chan os.Signal

func init() {
	if isInit() {
		initSignals = make(chan os.Signal, 32)
		signal.Notify(initSignals)
	}
}

// RunInit is the init's main: args is "--" and the command.
func RunInit(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "docker-init: no command given")
		return 1
	}
	sigs := initSignals // registered before the fork: no SIGCHLD is missed
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "docker-init: exec %s failed: %v\n", args[0], err)
		if errors.Is(err, fs.ErrPermission) {
			return 126
		}
		return 127
	}
	attr := &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{0, 1, 2},
		Sys: &syscall.SysProcAttr{Setpgid: true}}
	if term.IsTerminal(0) {
		attr.Sys.Foreground, attr.Sys.Ctty = true, 0 // the terminal's ^C goes to the command
	}
	child, err := syscall.ForkExec(path, args, attr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "docker-init: exec %s failed: %v\n", args[0], err)
		if errors.Is(err, syscall.EACCES) {
			return 126
		}
		return 127
	}
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			syscall.Kill(child, sig.(syscall.Signal))
			continue
		}
		if code, done := reap(child); done {
			return code
		}
	}
	return 0
}

// reap collects every exited child; done once the command itself has
// exited, with its status.
func reap(child int) (code int, done bool) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || pid <= 0 {
			return code, done
		}
		if pid != child {
			continue
		}
		done = true
		code = ws.ExitStatus()
		if ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	}
}
