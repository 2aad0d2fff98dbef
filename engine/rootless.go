package engine

// Rootless user namespace topology (decided here, for every invocation):
//
//	host, uid U (init user ns)
//	 ├─ skiff CLI (parent): classifies the command; store-mutating ones are
//	 │   re-executed in a NEW user namespace, U -> 0 plus the /etc/subuid
//	 │   and /etc/subgid ranges (newuidmap/newgidmap), and the parent only
//	 │   forwards signals and the exit status, and signals for the child
//	 │   what it may not (container.KillProcess: sibling namespaces).
//	 │   └─ skiff CLI (child, uid 0 of ns N): unpacks layers chowning to the
//	 │       tar's ids, removes containers and layers, reads upper dirs for
//	 │       commit, and starts supervisors with a plain fork: no new user
//	 │       namespace, so supervisor S and its container share N and exec
//	 │       (served by S) runs in the container's namespace. Never nested.
//	 └─ other commands (ps, logs, exec, kill, stop, inspect... unless they
//	     walk upper dirs for sizes: -s, system df) stay in the host namespace: U owns every namespace N, so it may signal any
//	     container process (a sibling namespace could not), and they touch
//	     no file owned by a subordinate id. A supervisor started from the
//	     host (start, restart) gets its own namespace from
//	     isolate.StartInUserNS with the same maps.
//
// Each invocation creates a fresh namespace rather than joining one (Podman
// keeps a "pause process" for that; joining needs setns before the Go
// runtime starts threads, i.e. C). Every namespace has the same maps, so
// ownership on disk reads the same from all of them. The extra exec costs
// about one start-up of the binary (plus newuidmap/newgidmap and a second
// exec for multi-range maps): ~7 ms single-map, ~18 ms with subordinate
// ranges on the CI VM, over the 5 ms budget, which is why read-only
// commands skip it.

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/store"
)

func init() {
	next := reexecHook
	reexecHook = func() bool { return next() || enterUserNS(os.Args) }
}

// usernsCommands are the commands (after a group word: "container rm",
// "image prune"...) whose work touches files owned by subordinate ids or
// unpacks layers, and so runs inside the user namespace.
var usernsCommands = map[string]bool{
	"pull": true, "load": true, "import": true, "build": true, "commit": true,
	"rm": true, "rmi": true, "prune": true, "run": true,
	// create enters one only when it must (a pull, a volume): errUserNS.
	"cp": true, "export": true, "diff": true, "unshare": true,
}

// sizeCommands read container sizes, walking upper dirs that may hold
// directories only a subordinate id may enter, when asked to (-s/--size;
// system df always).
var sizeCommands = map[string]bool{"ps": true, "ls": true, "list": true, "inspect": true, "df": true}

// wantsSizes reports whether args ask for sizes.
func wantsSizes(args []string) bool {
	for _, a := range args[1:] {
		switch a {
		case "df", "-s", "--size", "--size=true":
			return true
		case "--":
			return false
		}
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "s") && len(a) <= 5 {
			return true // combined short flags: -as
		}
	}
	return false
}

// groupWords are command groups whose next word names the verb.
var groupWords = map[string]bool{
	"container": true, "image": true, "system": true, "volume": true,
	"builder": true, "buildx": true,
}

// globalValueFlags take a value as the next argument.
var globalValueFlags = map[string]bool{"--root": true, "--runroot": true, "--log-level": true}

// parseInvocation returns the verb of args (os.Args) and the global
// --root/--runroot values given on the command line.
func parseInvocation(args []string) (verb string, flags map[string]string) {
	flags = map[string]string{}
	var words []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			if len(words) > 0 {
				continue // a group's own flag (none take values)
			}
			name, val, hasVal := strings.Cut(a, "=")
			if globalValueFlags[name] && !hasVal && i+1 < len(args) {
				i++
				val = args[i]
			}
			flags[name] = val
			continue
		}
		words = append(words, a)
		if len(words) == 1 && groupWords[a] {
			continue
		}
		break
	}
	if len(words) == 0 {
		return "", flags
	}
	return words[len(words)-1], flags
}

// enterUserNS re-executes a rootless invocation of a store-mutating
// command in a user namespace and exits with its status. It reports false
// (nothing done) when the invocation needs no namespace or already runs in
// one.
func enterUserNS(args []string) bool {
	container.UserNSReady()  // the child's first step with multi-range maps
	container.TakeHostKill() // the child's way to signal other namespaces
	if os.Geteuid() == 0 || container.InUserNS() || os.Getenv(noUserNSEnv) != "" {
		return false
	}
	verb, flags := parseInvocation(args)
	if !usernsCommands[verb] && !(sizeCommands[verb] && wantsSizes(args)) {
		return false
	}
	os.Exit(runInUserNS(args, verb, flags))
	return true
}

// noUserNSEnv turns the re-exec off (a diagnostic escape hatch).
const noUserNSEnv = "SKIFF_NO_USERNS"

// runInUserNS runs args as a child in a new user namespace and returns the
// exit status to leave with.
func runInUserNS(args []string, verb string, flags map[string]string) int {
	_, _, multi := container.IDMappings()
	runRoot := flagOrDefault(flags["--runroot"], store.DefaultRunRoot())
	if !multi {
		warnSingleMapping(runRoot)
	}
	cmd := exec.Command("/proc/self/exe", args[1:]...)
	cmd.Args[0] = args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = childEnv(flags)
	hostEnd, childEnd, err := container.HostKillPair()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: cannot set up the user namespace: %v\n", err)
		return 125
	}
	cmd.ExtraFiles = []*os.File{childEnd}
	cmd.Env = append(cmd.Env, container.HostKillEnv(3))
	// The child gets its own process group, so a signal sent to ours (a
	// terminal's ^C, a shell's kill %1, a test harness's group kill)
	// reaches it exactly once: forwarded by us. With our terminal, it
	// takes the foreground (run -it reads it and sets raw mode).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	tty := foregroundTTY()
	if tty >= 0 {
		cmd.SysProcAttr.Foreground = true
		cmd.SysProcAttr.Ctty = tty
	}
	if verb == "unshare" || verb == "cp" || verb == "export" { // cp, export mount the container's overlay
		// As podman unshare: a private mount namespace too, so mounts
		// made to inspect the store stay out of the host's.
		cmd.SysProcAttr.Cloneflags |= unix.CLONE_NEWNS
	}
	// Pdeathsig follows the thread that forks: keep this goroutine on it.
	runtime.LockOSThread()
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs)
	if err := container.StartInUserNS(cmd); err != nil {
		fmt.Fprintf(os.Stderr, "Error: cannot set up the user namespace: %v\n", err)
		return 125
	}
	childEnd.Close()
	// Handing the terminal back from the background sends SIGTTOU unless
	// it is ignored (a caught one restarts the ioctl forever). Ignored only
	// now: an ignored disposition would survive the child's execve.
	signal.Ignore(unix.SIGTTOU)
	go container.ServeHostKill(hostEnd)
	go forwardSignals(sigs, cmd.Process.Pid)
	return waitChild(cmd.Process.Pid, tty)
}

// flagOrDefault is a global flag's value, else def.
func flagOrDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// childEnv is our environment plus the store paths this host-side process
// would default to: inside the namespace the uid is 0, and derived
// defaults (a per-uid temp dir) would differ.
func childEnv(flags map[string]string) []string {
	env := os.Environ()
	if os.Getenv("SKIFF_ROOT") == "" && flags["--root"] == "" {
		env = append(env, "SKIFF_ROOT="+store.DefaultRoot())
	}
	if os.Getenv("SKIFF_RUNROOT") == "" && flags["--runroot"] == "" {
		env = append(env, "SKIFF_RUNROOT="+store.DefaultRunRoot())
	}
	return env
}

// warnSingleMapping prints Podman's warning for a user without subordinate
// ids, once per run root (i.e. per boot for the default one).
func warnSingleMapping(runRoot string) {
	mark := filepath.Join(runRoot, "single-mapping-warned")
	if _, err := os.Stat(mark); err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "WARN[0000] Using rootless single mapping into the namespace. This might break some images. Check /etc/subuid and /etc/subgid for adding sub*ids if not using a network user")
	if os.MkdirAll(runRoot, 0o700) == nil {
		os.WriteFile(mark, nil, 0o600)
	}
}

// foregroundTTY returns the fd (0, 1 or 2) of our controlling terminal
// when our process group is its foreground group, else -1.
func foregroundTTY() int {
	for fd := 0; fd <= 2; fd++ {
		if pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP); err == nil && pgrp == unix.Getpgrp() {
			return fd
		}
	}
	return -1
}

// forwardSignals relays every signal we get to the child. Those that only
// concern us (children, Go's preemption, terminal stops of a background
// process, broken pipes) are not relayed.
func forwardSignals(sigs <-chan os.Signal, pid int) {
	for s := range sigs {
		sig, ok := s.(syscall.Signal)
		if !ok {
			continue
		}
		switch sig {
		case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE, unix.SIGTTIN:
			continue
		}
		unix.Kill(pid, sig)
	}
}

// waitChild waits for the child, mirroring its stops (^Z) on ourselves so
// the shell's job control sees them, and returns its exit status.
func waitChild(pid, tty int) int {
	for {
		var ws unix.WaitStatus
		if _, err := unix.Wait4(pid, &ws, unix.WUNTRACED, nil); err != nil {
			if err == unix.EINTR {
				continue
			}
			return 125
		}
		switch {
		case ws.Exited():
			restoreForeground(tty, pid)
			return ws.ExitStatus()
		case ws.Signaled():
			restoreForeground(tty, pid)
			return 128 + int(ws.Signal())
		case ws.Stopped():
			restoreForeground(tty, pid)
			unix.Kill(os.Getpid(), unix.SIGSTOP)
			// Continued (fg or bg): give the terminal back if we hold it.
			if tty >= 0 {
				if pgrp, err := unix.IoctlGetInt(tty, unix.TIOCGPGRP); err == nil && pgrp == unix.Getpgrp() {
					unix.IoctlSetPointerInt(tty, unix.TIOCSPGRP, pid)
				}
			}
			unix.Kill(-pid, unix.SIGCONT)
		}
	}
}

// restoreForeground makes our process group the terminal's foreground
// again if the child's group (pgid = its pid) holds it (SIGTTOU is ignored).
func restoreForeground(tty, pid int) {
	if tty < 0 {
		return
	}
	if pgrp, err := unix.IoctlGetInt(tty, unix.TIOCGPGRP); err == nil && pgrp == pid {
		unix.IoctlSetPointerInt(tty, unix.TIOCSPGRP, unix.Getpgrp())
	}
}
