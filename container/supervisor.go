package container

// The supervisor is the one long-lived process per running container
// (design.md). Its life: LaunchSupervisor re-executes this binary detached
// (own session, stdio on /dev/null; rootless, inside the container's user
// namespace), `run` does so before it creates the container, and Start
// sends it the container's id on one pipe and waits on another;
// Supervise takes the container lock, spawns the process through isolate
// with pipes or a pty, records it running while that process starts up,
// and answers "started" once it runs (or the 125/126/127 failure). It then
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
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

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
// exit code for it (126, 127, or 125 for skiff's own failures). Exited
// marks a container killed as it started: it counts as having run, and
// Code is its exit status (128+signal), not an error.
type StartError struct {
	Code   int
	Msg    string
	Exited bool
}

func (e *StartError) Error() string { return e.Msg }

// startReport is what the supervisor writes on its ready pipe (fd 3).
type startReport struct {
	OK     bool   `json:",omitempty"`
	Code   int    `json:",omitempty"`
	Msg    string `json:",omitempty"`
	Exited bool   `json:",omitempty"`
}

// The supervisor's pipes: it reports the start on readyFd and reads its
// order (which container, how) from orderFd.
const (
	readyFd = 3
	orderFd = 4
)

// order is what the CLI sends a launched supervisor.
type order struct {
	ID   string
	Opts SuperviseOptions
}

// PendingSupervisor is a supervisor process launched ahead of its
// container (LaunchSupervisor), waiting for Start to name it.
type PendingSupervisor struct {
	ready *os.File // read end of its ready pipe
	order *os.File // write end of its order pipe
}

// LaunchSupervisor re-executes this binary as a supervisor, detached from
// the caller (own session, stdio on /dev/null), to be given its container
// by Start: a new process takes a few ms to start up, which `run` spends
// creating the container. Abort it if there is nothing to start.
func LaunchSupervisor(st *store.Store) (*PendingSupervisor, error) {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start supervisor: %w", err)
	}
	orderR, orderW, err := os.Pipe()
	if err != nil {
		readyR.Close()
		readyW.Close()
		return nil, fmt.Errorf("start supervisor: %w", err)
	}
	err = spawnSupervisor(st, readyW, orderR)
	readyW.Close()
	orderR.Close()
	if err != nil {
		readyR.Close()
		orderW.Close()
		return nil, fmt.Errorf("start supervisor: %w", err)
	}
	return &PendingSupervisor{ready: readyR, order: orderW}, nil
}

// spawnSupervisor starts the supervisor process with ready and order as
// its fds 3 and 4. The supervisor outlives us; we never wait for it (if
// we exit first, init adopts it).
func spawnSupervisor(st *store.Store, ready, order *os.File) error {
	args := []string{"skiff-supervisor", SuperviseArg, st.Root, st.RunRoot}
	env := supervisorEnv() // runtime settings for a small supervisor (supervisor_mem.go)
	if os.Geteuid() != 0 {
		// Rootless, the supervisor lives in the container's user
		// namespace (the container shares it), so that it can later
		// join the container for exec: a Go process cannot setns into
		// a user namespace.
		cmd := exec.Command("/proc/self/exe")
		cmd.Args, cmd.Dir, cmd.Env = args, "/", env
		cmd.ExtraFiles = []*os.File{ready, order}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		uids, gids, _ := IDMappings()
		if err := isolate.StartInUserNS(cmd, uids, gids); err != nil {
			return err
		}
		return cmd.Process.Release()
	}
	// A bare fork and exec: os/exec would first fork a throwaway child to
	// check pidfd support (once per process, and this is our only child),
	// and we need no handle on this one.
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	n := null.Fd()
	_, err = syscall.ForkExec("/proc/self/exe", args, &syscall.ProcAttr{
		Dir: "/", Env: env,
		Files: []uintptr{n, n, n, ready.Fd(), order.Fd()},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	return err
}

// Abort ends a launched supervisor that will not be needed.
func (p *PendingSupervisor) Abort() {
	p.order.Close() // it reads EOF without an order and exits
	p.ready.Close()
}

// Start has the supervisor start container id and returns once the
// container's process runs, or with the reason it could not start (a
// *StartError).
func (p *PendingSupervisor) Start(id string, opts SuperviseOptions) error {
	defer p.ready.Close()
	data, _ := json.Marshal(order{ID: id, Opts: opts})
	_, err := p.order.Write(data)
	p.order.Close()
	if err != nil {
		return fmt.Errorf("start container %s: supervisor: %w", shortID(id), err)
	}
	if data, err = io.ReadAll(p.ready); err != nil {
		return fmt.Errorf("start container %s: %w", shortID(id), err)
	}
	var rep startReport
	if len(data) == 0 || json.Unmarshal(data, &rep) != nil {
		return &StartError{Code: 125, Msg: fmt.Sprintf("start container %s: supervisor exited before the container started", shortID(id))}
	}
	if !rep.OK {
		return &StartError{Code: rep.Code, Msg: rep.Msg, Exited: rep.Exited}
	}
	return nil
}

// StartSupervisor launches a supervisor and has it start container id.
func StartSupervisor(st *store.Store, id string, opts SuperviseOptions) error {
	p, err := LaunchSupervisor(st)
	if err != nil {
		return fmt.Errorf("start container %s: %w", shortID(id), err)
	}
	return p.Start(id, opts)
}

// supervisorComm is the supervisor's process name, NUL-terminated (the
// kernel keeps 15 bytes: "skiff-superviso").
var supervisorComm = []byte("skiff-supervisor\x00")

// Supervise is the supervisor's main: args are root and runroot; the
// order comes on orderFd. It returns the supervisor's own exit status.
func Supervise(args []string) int {
	// Rootless: wait for the id maps StartInUserNS writes (a re-exec).
	isolate.UserNSReady()
	// Re-exec'd through /proc/self/exe, the kernel names us "exe" in top
	// and /proc/<pid>/comm; argv[0] names us only in ps -f.
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&supervisorComm[0])), 0, 0, 0)
	// Nothing the caller's caller left open may leak into the container,
	// the ready pipe least of all: the CLI reads it to EOF, which would
	// then wait for the container to exit.
	closeInherited()
	ready := os.NewFile(readyFd, "ready")
	if len(args) != 2 {
		reportStart(ready, &StartError{Code: 125, Msg: "supervisor: bad arguments"})
		return 125
	}
	f := os.NewFile(orderFd, "order")
	data, err := io.ReadAll(f)
	f.Close()
	if err == nil && len(data) == 0 {
		return 0 // aborted: the CLI had nothing to start after all
	}
	var o order
	if err == nil {
		err = json.Unmarshal(data, &o)
	}
	if err != nil {
		reportStart(ready, &StartError{Code: 125, Msg: "supervisor: bad order: " + err.Error()})
		return 125
	}
	signalIgnore()
	st := &store.Store{Root: args[0], RunRoot: args[1]}
	cs, err := Open(st)
	if err != nil {
		reportStart(ready, &StartError{Code: 125, Msg: err.Error()})
		return 125
	}
	s := &supervisor{cs: cs, id: o.ID, opts: o.Opts, clients: map[*client]bool{}}
	if err := s.start(); err != nil {
		s.recordStartFailure(err)
		reportStart(ready, err)
		return 1
	}
	// Before the caller hears of the start, so its next command's events
	// come after this one, as with Docker.
	cs.Emit(s.rec, "start", nil)
	reportStart(ready, nil)
	s.startHealth()
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
	if killed := (*isolate.KilledError)(nil); errors.As(err, &killed) {
		rep.Msg, rep.Exited = "", true // the container's exit status, not an engine error
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
	if killed := (*isolate.KilledError)(nil); errors.As(err, &killed) {
		return 128 + int(killed.Signal)
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
	if s.restarting {
		// Its policy's restart: only if nobody stopped it meanwhile.
		if rec.State.Status != StatusRestarting || rec.State.StoppedByUser || !s.ours(rec) {
			return errNoRestart
		}
	} else if rec.IsRunning() {
		return store.Conflict("container %s is already running", s.id)
	} else if err := CanStart(rec); err != nil {
		return err
	}
	s.rec, s.prev = rec, rec.State
	s.selfStart, _ = ProcStartTime(os.Getpid())
	if s.ports, err = publishPorts(rec); err != nil {
		return err
	}
	if s.log, err = OpenLog(filepath.Join(s.cs.Dir(s.id), LogFile), rec.HostConfig.LogConfig); err != nil {
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
	return nil
}

// prepared runs once the container's process has its config (isolate's
// Started hook), so its work overlaps that process's mounts rather than
// delaying them: the attach socket, then the record marked running.
func (s *supervisor) prepared(pid int) error {
	if err := s.listen(); err != nil {
		return err
	}
	return s.recordRunning(pid)
}

// recordRunning marks the record running with the container's process.
// Until the start reports success, recordStartFailure can still take it
// back. The lock is held since s.rec was read, so nobody changed it.
func (s *supervisor) recordRunning(pid int) error {
	pidStart, _ := ProcStartTime(pid)
	st := &s.rec.State
	st.Status = StatusRunning
	st.Pid, st.PidStart = pid, pidStart
	st.SupervisorPid, st.SupervisorStart = os.Getpid(), s.selfStart
	st.StartedAt = time.Now().UTC()
	st.ExitCode, st.Error, st.OOMKilled = 0, "", false
	st.StoppedByUser = false
	st.Health = nil
	if healthArgs(s.rec.Config.Healthcheck) != nil {
		st.Health = &Health{Status: "starting", Log: []HealthResult{}}
	}
	st.Ports = s.ports.bound()
	if s.restarting {
		s.rec.RestartCount++
	}
	return writeRecord(s.cs.recordPath(s.id), s.rec)
}

// ours says whether c's running state is the one recordRunning wrote.
func (s *supervisor) ours(c *Container) bool {
	return c.IsRunning() && c.State.SupervisorPid == os.Getpid() && c.State.SupervisorStart == s.selfStart
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
	if gerr != nil || (cur.IsRunning() && !s.ours(cur)) {
		return // another start won the race: its record stands
	}
	if cur.HostConfig.AutoRemove {
		if s.cs.RemoveLocked(s.id) == nil {
			s.cs.RemoveAnonymousVolumes(cur)
		}
		return
	}
	var killed *isolate.KilledError
	s.cs.UpdateLocked(s.id, func(c *Container) error {
		switch {
		case errors.As(err, &killed) && s.ours(c):
			// Shown running, then killed: an exit, as Docker has it.
			setExited(&c.State, startCode(err))
			return nil
		case s.ours(c):
			c.State = s.prev // recordRunning's, taken back
		}
		c.State.Error = err.Error()
		c.State.ExitCode = startCode(err)
		return nil
	})
}

func (s *supervisor) listen() error {
	if s.ln != nil {
		return nil // a restart keeps the socket its clients know
	}
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
	for {
		status, werr := s.proc.Wait()
		if s.healthStop != nil {
			close(s.healthStop)
			s.healthStop = nil
		}
		ran := time.Since(s.rec.State.StartedAt)
		// The cgroup goes while the output drains and, with --rm, while the
		// container's files go; but before an exit is recorded, after which
		// a new start may make the same cgroup again.
		cleaned := make(chan struct{})
		go func() {
			isolate.Cleanup(s.ictr)
			close(cleaned)
		}()
		s.ports.close()
		s.drain()
		s.log.Close()
		// With --rm the record goes away once the client has the exit code,
		// so it is not written first (one atomic write fewer per run --rm).
		autoRemove := s.rec.HostConfig.AutoRemove
		restart := false
		if !autoRemove {
			<-cleaned
			restart = s.recordExit(status, werr, true)
		} else {
			s.emitExit(s.rec, status)
		}
		if s.opts.Attached {
			s.waitFirstClient(30 * time.Second)
		}
		if autoRemove {
			// Docker's --rm takes the container's anonymous volumes too.
			if err := s.cs.Remove(s.id); err != nil {
				<-cleaned
				s.recordExit(status, werr, false)
			} else {
				s.cs.RemoveAnonymousVolumes(s.rec)
			}
		}
		<-cleaned
		if !restart {
			s.finish(status.Code)
			return
		}
		// The clients of this run (a foreground run, attach, wait) get its
		// exit code; the socket stays for the next run.
		s.notifyExit(status.Code)
		s.opts.Attached = false
		s.delay = nextRestartDelay(s.delay, ran)
		if !s.restartAfter(s.delay) {
			s.closeListener()
			return
		}
	}
}

// startHealth starts the healthcheck loop of the run that just began.
func (s *supervisor) startHealth() {
	h := s.rec.Config.Healthcheck
	if args := healthArgs(h); args != nil {
		s.healthStop = make(chan struct{})
		go s.healthLoop(h, args, s.ictr, s.proc.Pid, s.healthStop)
	}
}

// errNoRestart: the container was stopped (or removed) while it waited to
// be restarted.
var errNoRestart = errors.New("restart cancelled")

// restartAfter waits delay, watching the record for a stop, then starts
// the container again. It reports whether it runs again.
func (s *supervisor) restartAfter(delay time.Duration) bool {
	for end := time.Now().Add(delay); time.Now().Before(end); {
		time.Sleep(min(100*time.Millisecond, time.Until(end)))
		if c, err := s.cs.Get(s.id); err != nil || c.State.StoppedByUser || c.State.Status != StatusRestarting {
			break // start checks again, under the lock
		}
	}
	s.restarting = true
	err := s.start()
	if err == nil {
		s.cs.Emit(s.rec, "start", nil)
		s.mu.Lock()
		s.exited = false
		s.mu.Unlock()
		s.startHealth()
		return true
	}
	// Stopped meanwhile, or the start failed: the container rests exited.
	s.cs.Update(s.id, func(c *Container) error {
		if c.State.Status == StatusRestarting && s.ours(c) {
			setExited(&c.State, c.State.ExitCode)
			if !errors.Is(err, errNoRestart) {
				c.State.Error = err.Error()
			}
		}
		return nil
	})
	return false
}

// recordExit writes the exit into the record and, with emit, the die
// event while still holding the lock: stop takes that lock before its
// "stop" event, so followers see die first, and one that inspects on die
// sees the container exited, as with Docker.
//
// It also applies the restart policy: a container that goes back up is
// left "restarting", still marked as this supervisor's, and it reports
// true.
func (s *supervisor) recordExit(status isolate.ExitStatus, werr error, emit bool) (restart bool) {
	l, err := s.cs.Lock(s.id)
	if err != nil {
		return false
	}
	defer l.Unlock()
	c, err := s.cs.UpdateLocked(s.id, func(c *Container) error {
		sup, supStart := c.State.SupervisorPid, c.State.SupervisorStart
		setExited(&c.State, status.Code)
		c.State.OOMKilled = status.OOMKilled
		if werr != nil {
			c.State.Error = werr.Error()
		}
		if restart = restartAfterExit(c, status.Code); restart {
			c.State.Status = StatusRestarting
			c.State.SupervisorPid, c.State.SupervisorStart = sup, supStart
		}
		return nil
	})
	if err == nil && emit {
		s.emitExit(c, status) // c: renamed since it started, say
	}
	return restart && err == nil
}

// emitExit is the oom (when the kernel's OOM killer struck) and die events.
func (s *supervisor) emitExit(c *Container, status isolate.ExitStatus) {
	if status.OOMKilled {
		s.cs.Emit(c, "oom", nil)
	}
	s.cs.Emit(c, "die", map[string]string{"exitCode": strconv.Itoa(status.Code)})
}

// setExited marks st exited now with code, its processes gone.
func setExited(st *State, code int) {
	st.Status = StatusExited
	st.ExitCode = code
	st.FinishedAt = time.Now().UTC()
	st.Pid, st.PidStart = 0, 0
	st.SupervisorPid, st.SupervisorStart = 0, 0
}
