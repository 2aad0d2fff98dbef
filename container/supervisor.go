package container

// The supervisor is the one long-lived process per running container
// (design.md). Its life: StartSupervisor re-executes this binary detached
// (own session, stdio on /dev/null; rootless, inside the container's user
// namespace) and waits on a pipe; Supervise takes the container lock,
// spawns the process through isolate with pipes or a pty, records it
// running and answers "started" (or the 125/126/127 failure). It then
// relays output to ctr.log and to clients of attach.sock (attach.go's
// frames), feeds their stdin, resizes and signals, serves exec sessions,
// waits, records the exit (or removes a --rm container) and exits.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/skiff-dev/skiff/isolate"
	"github.com/skiff-dev/skiff/store"
)

// SuperviseArg is argv[1] of the re-executed binary that becomes a
// container's supervisor; main dispatches it to Supervise.
const SuperviseArg = "__supervise"

// SuperviseOptions are what the starting CLI tells a new supervisor.
type SuperviseOptions struct {
	// Attached: the caller attaches right after the start (run without -d,
	// start -a). The supervisor then keeps the container's output from the
	// first moment for the first client, and waits for that client before
	// it reports the exit and (with --rm) removes the container, so a
	// foreground run loses neither early output nor the exit code.
	Attached bool `json:",omitempty"`
	// Rows and Cols size the pty before the process starts (-t).
	Rows uint16 `json:",omitempty"`
	Cols uint16 `json:",omitempty"`
}

// StartError is a start that failed in the supervisor: Code is Docker's
// exit code for it (126, 127, or 125 for skiff's own failures).
type StartError struct {
	Code int
	Msg  string
}

func (e *StartError) Error() string { return e.Msg }

// startReport is what the supervisor writes on its ready pipe (fd 3).
type startReport struct {
	OK   bool   `json:",omitempty"`
	Code int    `json:",omitempty"`
	Msg  string `json:",omitempty"`
}

const readyFd = 3

// StartSupervisor starts container id: it re-executes this binary as the
// container's supervisor, detached from the caller (own session, stdio on
// /dev/null), and returns once the container's process runs, or with the
// reason it could not start (a *StartError).
func StartSupervisor(st *store.Store, id string, opts SuperviseOptions) error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start container %s: %w", shortID(id), err)
	}
	defer r.Close()
	optJSON, _ := json.Marshal(opts)
	cmd := exec.Command("/proc/self/exe", SuperviseArg, st.Root, st.RunRoot, id, string(optJSON))
	cmd.Args[0] = "skiff-supervisor"
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if os.Geteuid() != 0 {
		// Rootless, the supervisor lives in the container's user
		// namespace (the container shares it), so that it can later
		// join the container for exec: a Go process cannot setns into
		// a user namespace.
		uids, gids, _ := IDMappings()
		err = isolate.StartInUserNS(cmd, uids, gids)
	} else {
		err = cmd.Start()
	}
	w.Close()
	if err != nil {
		return fmt.Errorf("start container %s: supervisor: %w", shortID(id), err)
	}
	// The supervisor outlives us; we never wait for it (if we exit first,
	// init adopts it).
	cmd.Process.Release()
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("start container %s: %w", shortID(id), err)
	}
	var rep startReport
	if len(data) == 0 || json.Unmarshal(data, &rep) != nil {
		return &StartError{Code: 125, Msg: fmt.Sprintf("start container %s: supervisor exited before the container started", shortID(id))}
	}
	if !rep.OK {
		return &StartError{Code: rep.Code, Msg: rep.Msg}
	}
	return nil
}

// Supervise is the supervisor's main: args are root, runroot, id and the
// JSON SuperviseOptions. It returns the supervisor's own exit status.
func Supervise(args []string) int {
	// Rootless: wait for the id maps StartInUserNS writes (a re-exec).
	isolate.UserNSReady()
	// Nothing the caller's caller left open may leak into the container,
	// the ready pipe least of all: the CLI reads it to EOF, which would
	// then wait for the container to exit.
	closeInherited()
	ready := os.NewFile(readyFd, "ready")
	if len(args) != 4 {
		reportStart(ready, &StartError{Code: 125, Msg: "supervisor: bad arguments"})
		return 125
	}
	var opts SuperviseOptions
	if err := json.Unmarshal([]byte(args[3]), &opts); err != nil {
		reportStart(ready, &StartError{Code: 125, Msg: "supervisor: bad options: " + err.Error()})
		return 125
	}
	signalIgnore()
	st := &store.Store{Root: args[0], RunRoot: args[1]}
	cs, err := Open(st)
	if err != nil {
		reportStart(ready, &StartError{Code: 125, Msg: err.Error()})
		return 125
	}
	s := &supervisor{cs: cs, id: args[2], opts: opts, clients: map[*client]bool{}}
	if err := s.start(); err != nil {
		s.recordStartFailure(err)
		reportStart(ready, err)
		return 1
	}
	reportStart(ready, nil)
	// Shrink only once the container has lived a while: a short-lived
	// one (run --rm ... true) would otherwise wait a few ms for it
	// before its exit is even reaped.
	time.AfterFunc(shrinkDelay, shrink)
	s.run()
	return 0
}

func reportStart(ready *os.File, err error) {
	rep := startReport{OK: err == nil}
	if err != nil {
		rep.Code, rep.Msg = startCode(err), err.Error()
	}
	data, _ := json.Marshal(rep)
	ready.Write(data)
	ready.Close()
}

// startCode maps a start failure to Docker's exit code.
func startCode(err error) int {
	var se *StartError
	switch {
	case errors.As(err, &se):
		return se.Code
	case errors.Is(err, isolate.ErrCommandNotFound):
		return 127
	case errors.Is(err, isolate.ErrCannotInvoke):
		return 126
	}
	return 125
}

// start spawns the container's process under the container lock, so two
// starts of one container cannot both run it, and records it running.
func (s *supervisor) start() error {
	l, err := s.cs.Lock(s.id)
	if err != nil {
		return err
	}
	defer l.Unlock()
	rec, err := s.cs.Get(s.id)
	if err != nil {
		return err
	}
	if rec.IsRunning() {
		return store.Conflict("container %s is already running", s.id)
	}
	if err := CanStart(rec); err != nil {
		return err
	}
	s.rec = rec
	if err := s.listen(); err != nil {
		return err
	}
	if s.ports, err = publishPorts(rec); err != nil {
		s.closeListener()
		return err
	}
	if s.log, err = OpenLog(filepath.Join(s.cs.Dir(s.id), LogFile)); err != nil {
		s.closeListener()
		s.ports.close()
		return fmt.Errorf("open container log: %w", err)
	}
	if err := s.spawn(); err != nil {
		s.closeListener()
		s.ports.close()
		s.log.Close()
		return err
	}
	if err := s.ports.serve(s.proc.Pid); err != nil {
		s.ports.close()
		s.proc.Signal(syscall.SIGKILL)
		s.proc.Wait()
		isolate.Cleanup(s.ictr)
		s.closeListener()
		s.log.Close()
		return err
	}
	pidStart, _ := ProcStartTime(s.proc.Pid)
	selfStart, _ := ProcStartTime(os.Getpid())
	_, err = s.cs.UpdateLocked(s.id, func(c *Container) error {
		c.State.Status = StatusRunning
		c.State.Pid = s.proc.Pid
		c.State.PidStart = pidStart
		c.State.SupervisorPid = os.Getpid()
		c.State.SupervisorStart = selfStart
		c.State.StartedAt = time.Now().UTC()
		c.State.ExitCode = 0
		c.State.Error = ""
		c.State.OOMKilled = false
		c.State.Ports = s.ports.bound()
		return nil
	})
	if err != nil {
		s.ports.close()
		s.proc.Signal(syscall.SIGKILL)
		s.proc.Wait()
		isolate.Cleanup(s.ictr)
		s.closeListener()
		return err
	}
	return nil
}

// recordStartFailure keeps the failure in the record as Docker does
// (State.Error and the exit code, status unchanged), or removes the
// container when it was created with --rm.
func (s *supervisor) recordStartFailure(err error) {
	if s.rec == nil {
		return // never read the record: nothing to update
	}
	l, lerr := s.cs.Lock(s.id)
	if lerr != nil {
		return
	}
	defer l.Unlock()
	cur, gerr := s.cs.Get(s.id)
	if gerr != nil || cur.IsRunning() {
		return // another start won the race: its record stands
	}
	if cur.HostConfig.AutoRemove {
		s.cs.RemoveLocked(s.id)
		return
	}
	s.cs.UpdateLocked(s.id, func(c *Container) error {
		c.State.Error = err.Error()
		c.State.ExitCode = startCode(err)
		return nil
	})
}

func (s *supervisor) listen() error {
	dir := s.cs.RunDir(s.id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// Our stderr is /dev/null: a crash (panic, fatal error) goes to a
	// file beside the socket instead, or nobody could tell what happened.
	if f, err := os.OpenFile(filepath.Join(dir, "supervisor.crash"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
		debug.SetCrashOutput(f, debug.CrashOptions{})
		f.Close() // SetCrashOutput keeps its own duplicate
	}
	path := filepath.Join(dir, AttachSocket)
	os.Remove(path) // a stale socket from an earlier run
	ln, err := listenSocket(path)
	if err != nil {
		return fmt.Errorf("attach socket: %w", err)
	}
	ln.SetUnlinkOnClose(false) // --rm removes the whole dir; a restart replaces it
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return err
	}
	s.ln = ln
	return nil
}

func (s *supervisor) closeListener() {
	if s.ln != nil {
		s.ln.Close()
	}
}

// run serves clients while the process runs, then records how it ended.
func (s *supervisor) run() {
	go s.accept()
	status, werr := s.proc.Wait()
	s.ports.close()
	s.drain()
	isolate.Cleanup(s.ictr)
	s.log.Close()
	// With --rm the record goes away once the client has the exit code,
	// so it is not written first (one atomic write fewer per run --rm).
	autoRemove := s.rec.HostConfig.AutoRemove
	if !autoRemove {
		s.recordExit(status, werr)
	}
	if s.opts.Attached {
		s.waitFirstClient(30 * time.Second)
	}
	if autoRemove && s.cs.Remove(s.id) != nil {
		s.recordExit(status, werr)
	}
	s.finish(status.Code)
}

func (s *supervisor) recordExit(status isolate.ExitStatus, werr error) {
	s.cs.Update(s.id, func(c *Container) error {
		c.State.Status = StatusExited
		c.State.ExitCode = status.Code
		c.State.OOMKilled = status.OOMKilled
		c.State.FinishedAt = time.Now().UTC()
		c.State.Pid, c.State.PidStart = 0, 0
		c.State.SupervisorPid, c.State.SupervisorStart = 0, 0
		if werr != nil {
			c.State.Error = werr.Error()
		}
		return nil
	})
}
