package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/store"
)

// AttachFlags are the streaming options shared by run, start and attach.
type AttachFlags struct {
	Stdin      io.Reader // the user's input (os.Stdin); used only when stdin is attached
	DetachKeys string
	SigProxy   bool
}

// RunOptions are run's options: create's plus how to attach.
type RunOptions struct {
	Create CreateOptions
	Detach bool
	Attach []string // -a: stdin, stdout, stderr; empty means Docker's default
	AttachFlags
}

// Run creates a container and starts it: detached it prints the id, in the
// foreground it streams the container's output and returns its exit code
// as an *ExitError (nil for 0).
func (e *Engine) Run(ctx context.Context, o RunOptions) error {
	if _, err := container.ParseDetachKeys(o.DetachKeys); err != nil {
		return err
	}
	cfg := &o.Create.Config
	if !o.Detach {
		in, out, errs, err := attachStreams(o.Attach, cfg.OpenStdin)
		if err != nil {
			return err
		}
		cfg.AttachStdin, cfg.AttachStdout, cfg.AttachStderr = in, out, errs
		cfg.StdinOnce = in
		if in && cfg.Tty && !isTerminal(o.Stdin) {
			return store.Invalid("the input device is not a TTY")
		}
	} else if len(o.Attach) > 0 {
		return store.Invalid("Conflicting options: -a and -d")
	}
	// The supervisor, a new process, starts up while the container is
	// created: a few ms a run does not wait for.
	sup, err := container.LaunchSupervisor(e.Store)
	if err != nil {
		return err
	}
	c, err := e.Create(ctx, o.Create)
	if err != nil {
		sup.Abort()
		return err
	}
	if o.Detach {
		if err := e.startSupervisor(sup, c, false); err != nil {
			return err
		}
		fmt.Fprintln(e.Stdout, c.ID)
		return nil
	}
	return e.startAttached(sup, c, c.Config.AttachStdin, c.Config.AttachStdout, c.Config.AttachStderr, o.AttachFlags)
}

// attachStreams reads -a as Docker does: without it, stdout and stderr
// (and stdin with -i).
func attachStreams(list []string, openStdin bool) (in, out, errs bool, err error) {
	if len(list) == 0 {
		return openStdin, true, true, nil
	}
	for _, s := range list {
		switch strings.ToLower(s) {
		case "stdin":
			in = true
		case "stdout":
			out = true
		case "stderr":
			errs = true
		default:
			return false, false, false, store.Invalid("invalid argument %q for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR", s)
		}
	}
	return in, out, errs, nil
}

// startSupervisor starts c with sup, a launched supervisor (nil: launch
// one now), turning a failure inside the container into Docker's exit
// codes (126, 127).
func (e *Engine) startSupervisor(sup *container.PendingSupervisor, c *container.Container, attached bool) error {
	opts := container.SuperviseOptions{Attached: attached}
	if c.Config.Tty && attached {
		opts.Rows, opts.Cols = termSize()
	}
	var err error
	if sup != nil {
		err = sup.Start(c.ID, opts)
	} else {
		err = container.StartSupervisor(e.Store, c.ID, opts)
	}
	var se *container.StartError
	if errors.As(err, &se) && se.Exited && !attached {
		return nil // killed just as it started: it ran, and has exited
	}
	if errors.As(err, &se) && se.Code != 125 {
		return &ExitError{Code: se.Code, Message: se.Msg}
	}
	return err
}

// startAttached starts c (with sup, as startSupervisor) and streams it
// until it exits.
func (e *Engine) startAttached(sup *container.PendingSupervisor, c *container.Container, in, out, errs bool, f AttachFlags) error {
	// Signals that arrive while the container starts are forwarded once
	// it runs, not lost and not fatal to us.
	p := e.prepareAttach(c, in, out, errs, f)
	defer p.stop()
	if err := e.startSupervisor(sup, c, true); err != nil {
		return err
	}
	return p.run(e.Store, c.ID)
}

// attachRunning attaches to an already running container.
func (e *Engine) attachRunning(c *container.Container, in, out, errs bool, f AttachFlags) error {
	p := e.prepareAttach(c, in, out, errs, f)
	defer p.stop()
	if c.Config.Tty {
		if rows, cols := termSize(); rows > 0 {
			p.resize <- container.WinSize{Rows: rows, Cols: cols}
		}
	}
	return p.run(e.Store, c.ID)
}

// attachPlan is one attach in progress: the terminal state to restore and
// the signal relays to stop.
type attachPlan struct {
	opts    container.AttachOptions
	resize  chan container.WinSize
	sigs    chan syscall.Signal
	notify  chan os.Signal
	restore func()
	fatal   bool // the terminal is raw: fatalSignals restore it, then end us
	stderr  io.Writer
}

func (e *Engine) prepareAttach(c *container.Container, in, out, errs bool, f AttachFlags) *attachPlan {
	return e.prepareStreams(c.Config.Tty, in, out, errs, f)
}

// prepareStreams sets up an attach or exec session's side on this end:
// which streams, raw mode for a tty, resize and signal relays.
func (e *Engine) prepareStreams(tty, in, out, errs bool, f AttachFlags) *attachPlan {
	p := &attachPlan{
		resize:  make(chan container.WinSize, 4),
		sigs:    make(chan syscall.Signal, 16),
		notify:  make(chan os.Signal, 16),
		restore: func() {},
		stderr:  e.Stderr,
	}
	p.opts = container.AttachOptions{Tty: tty, DetachKeys: f.DetachKeys, Resize: p.resize, Signals: p.sigs}
	if in && f.Stdin != nil {
		p.opts.Stdin = f.Stdin
	}
	if out {
		p.opts.Stdout = e.Stdout
	}
	if errs {
		p.opts.Stderr = e.Stderr
	}
	// With a tty, ^C is a byte for the container's terminal, not a signal
	// for us (Docker turns sig-proxy off with -t).
	var sigs []os.Signal
	if tty {
		sigs = append(sigs, syscall.SIGWINCH)
		if in {
			if fd, ok := terminalFd(f.Stdin); ok {
				if old, err := term.MakeRaw(fd); err == nil {
					p.restore = func() { term.Restore(fd, old) }
					// Docker does not proxy signals with -t, so these
					// end us; but not with the user's terminal raw.
					p.fatal = true
					sigs = append(sigs, fatalSignals...)
				}
			}
		}
	} else if f.SigProxy {
		sigs = append(sigs, proxiedSignals...)
	}
	if len(sigs) > 0 {
		signal.Notify(p.notify, sigs...)
		go p.relaySignals()
	}
	return p
}

// proxiedSignals are what a foreground run passes on (--sig-proxy).
var proxiedSignals = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM,
}

// fatalSignals are those whose default action ends the CLI; a raw
// terminal must be restored before it goes.
var fatalSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

func (p *attachPlan) relaySignals() {
	for s := range p.notify {
		sig := s.(syscall.Signal)
		if p.fatal && sig != syscall.SIGWINCH {
			p.die(sig)
		}
		if sig == syscall.SIGWINCH {
			if rows, cols := termSize(); rows > 0 {
				select {
				case p.resize <- container.WinSize{Rows: rows, Cols: cols}:
				default:
				}
			}
			continue
		}
		select {
		case p.sigs <- sig:
		default:
		}
	}
}

// die restores the terminal, then lets sig end the process as it would
// have without us (so the caller sees "killed by SIGTERM", 143 in a shell).
func (p *attachPlan) die(sig syscall.Signal) {
	p.restore()
	signal.Reset(sig)
	syscall.Kill(os.Getpid(), sig)
	select {} // the signal is on its way
}

func (p *attachPlan) stop() {
	signal.Stop(p.notify)
	p.restore()
}

// run attaches and maps the outcome: the container's code as an
// *ExitError, nil for 0 or a detach.
func (p *attachPlan) run(st *store.Store, id string) error {
	code, err := container.Attach(st, id, p.opts)
	p.restore() // before anything is printed on the user's terminal
	if errors.Is(err, container.ErrDetached) {
		fmt.Fprintln(p.stderr, "read escape sequence") // as Docker says it
		return nil
	}
	if err != nil {
		return err
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

func terminalFd(r io.Reader) (int, bool) {
	f, ok := r.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	return int(f.Fd()), true
}

func isTerminal(r io.Reader) bool {
	_, ok := terminalFd(r)
	return ok
}

// termSize is the user's terminal size (stdout's, else stdin's), or 0, 0.
func termSize() (rows, cols uint16) {
	for _, f := range []*os.File{os.Stdout, os.Stdin, os.Stderr} {
		if w, h, err := term.GetSize(int(f.Fd())); err == nil && w > 0 && h > 0 {
			return uint16(h), uint16(w)
		}
	}
	return 0, 0
}

// StartOptions are start's flags.
type StartOptions struct {
	Attach      bool // -a
	Interactive bool // -i
	AttachFlags
}

// Start starts each container (a running one is left alone), printing its
// reference; with -a it streams the one container and returns its code.
func (e *Engine) Start(refs []string, o StartOptions) error {
	if (o.Attach || o.Interactive) && len(refs) > 1 {
		return store.Invalid("you cannot start and attach multiple containers at once")
	}
	if _, err := container.ParseDetachKeys(o.DetachKeys); err != nil {
		return err
	}
	cs, err := e.containers()
	if err != nil {
		return err
	}
	var failed []string
	for _, ref := range refs {
		c, err := cs.Lookup(ref)
		if err == nil {
			err = container.CanStart(c)
		}
		if err != nil && (o.Attach || o.Interactive) {
			return err
		}
		if err != nil {
			fmt.Fprintf(e.Stderr, "Error: %v\n", err)
			failed = append(failed, ref)
			continue
		}
		if o.Attach || o.Interactive {
			in := o.Interactive && c.Config.OpenStdin
			if c.IsRunning() {
				return e.attachRunning(c, in, true, true, o.AttachFlags)
			}
			if in && c.Config.Tty && !isTerminal(o.Stdin) {
				return store.Invalid("the input device is not a TTY")
			}
			return e.startAttached(nil, c, in, true, true, o.AttachFlags)
		}
		if !c.IsRunning() {
			if err := e.startSupervisor(nil, c, false); err != nil {
				fmt.Fprintf(e.Stderr, "Error: %v\n", err)
				failed = append(failed, ref)
				continue
			}
		}
		fmt.Fprintln(e.Stdout, ref)
	}
	if len(failed) > 0 {
		// Docker's start exits 1 after naming what failed.
		return &ExitError{Code: 1, Message: "failed to start containers: " + strings.Join(failed, ", ")}
	}
	return nil
}

// AttachOptions are attach's flags.
type AttachOptions struct {
	NoStdin bool
	AttachFlags
}

// Attach streams a running container's output (and input unless
// --no-stdin) until it exits, returning its code.
func (e *Engine) Attach(ref string, o AttachOptions) error {
	if _, err := container.ParseDetachKeys(o.DetachKeys); err != nil {
		return err
	}
	c, err := e.LookupContainer(ref)
	if err != nil {
		return &ExitError{Code: 1, Message: err.Error()} // Docker's attach exits 1
	}
	if err := attachRefusal(c); err != nil {
		return err
	}
	in := !o.NoStdin && c.Config.OpenStdin
	if in && c.Config.Tty && !isTerminal(o.Stdin) {
		return store.Invalid("the input device is not a TTY")
	}
	return e.attachRunning(c, in, true, true, o.AttachFlags)
}

// LogsOptions are logs' flags, as typed.
type LogsOptions struct {
	Follow, Timestamps bool
	Tail               string // "all" or a number
	Since, Until       string // RFC 3339 time, Unix time, or a duration ago
}

// Logs prints what a container wrote: stdout to stdout, stderr to stderr.
func (e *Engine) Logs(ref string, o LogsOptions) error {
	cs, c, err := e.lookupContainer(ref)
	if err != nil {
		return err
	}
	if c.HostConfig.LogConfig.Type == "none" {
		return &ExitError{Code: 1, Message: "configured logging driver does not support reading"}
	}
	opts := container.LogOptions{Tail: -1, Timestamps: o.Timestamps, Follow: o.Follow}
	if o.Tail != "" && o.Tail != "all" {
		n, err := strconv.Atoi(o.Tail)
		if err != nil {
			return store.Invalid("invalid value for \"tail\": %q", o.Tail)
		}
		if n >= 0 {
			opts.Tail = n
		}
	}
	now := time.Now()
	if opts.Since, err = container.ParseLogTime(o.Since, now); err != nil {
		return err
	}
	if opts.Until, err = container.ParseLogTime(o.Until, now); err != nil {
		return err
	}
	id := c.ID
	opts.Running = func() bool {
		c, err := cs.Get(id)
		return err == nil && c.IsRunning()
	}
	path := c.LogPath
	if path == "" {
		path = filepath.Join(cs.Dir(id), container.LogFile)
	}
	return container.ReadLog(path, opts, e.Stdout, e.Stderr)
}

// StopOptions are stop's and restart's flags.
type StopOptions struct {
	Timeout *int   // -t; nil: the record's StopTimeout, else 10 s
	Signal  string // -s; "": the record's StopSignal, else SIGTERM
}

// Stop stops each container: its stop signal, then SIGKILL after the
// timeout. A container that is not running is not an error (Docker).
func (e *Engine) Stop(refs []string, o StopOptions) error {
	return e.eachContainerParallel(refs, func(cs *container.Store, c *container.Container) error {
		return e.stop(c, o)
	})
}

func (e *Engine) stop(c *container.Container, o StopOptions) error {
	if !c.IsRunning() {
		return nil
	}
	c = e.markStoppedByUser(c)
	if c.State.Status == container.StatusRestarting {
		// Between two runs: its supervisor sees the mark and ends.
		if !container.WaitStopped(c, 10*time.Second) {
			return fmt.Errorf("container %s did not stop", c.ID)
		}
		e.emitStopped(c)
		return nil
	}
	sig, err := container.StopSignal(c)
	if o.Signal != "" {
		sig, err = container.ParseSignal(o.Signal)
	}
	if err != nil {
		return err
	}
	timeout := 10
	if c.Config.StopTimeout != nil {
		timeout = *c.Config.StopTimeout
	}
	if o.Timeout != nil {
		timeout = *o.Timeout
	}
	if err := container.Signal(c, sig); err != nil && !errors.Is(err, container.ErrProcessGone) {
		return fmt.Errorf("cannot stop container: %s: %w", c.ID, err)
	}
	e.emitKill(c, sig)
	e.thawForSignal(c, sig) // a paused one acts on it once thawed (pause.go)
	wait := time.Duration(timeout) * time.Second
	if timeout < 0 {
		wait = -1 // -t -1: wait forever, as Docker
	}
	if container.WaitPid(c.State.Pid, c.State.PidStart, wait) {
		container.WaitStopped(c, 10*time.Second)
		e.emitStopped(c)
		return nil
	}
	if err := container.Signal(c, syscall.SIGKILL); err != nil && !errors.Is(err, container.ErrProcessGone) {
		return fmt.Errorf("cannot kill container: %s: %w", c.ID, err)
	}
	e.emitKill(c, syscall.SIGKILL)
	if !container.WaitStopped(c, 30*time.Second) {
		return fmt.Errorf("container %s did not stop", c.ID)
	}
	e.emitStopped(c)
	return nil
}

// eachContainer runs fn on each reference and prints it on success, as
// docker stop/kill/restart do; failures are printed as they come.
func (e *Engine) eachContainer(refs []string, fn func(*container.Store, *container.Container) error) error {
	cs, err := e.containers()
	if err != nil {
		return err
	}
	return e.eachRef(refs, func(ref string) (string, error) {
		c, err := cs.Lookup(ref)
		if err == nil {
			err = fn(cs, c)
		}
		return ref, err
	})
}

// eachRef is Docker's multi-target verb: fn acts on each reference in
// turn, what it returns is printed on success, each failure as it comes,
// and the verb exits 1 at the end if any failed.
func (e *Engine) eachRef(refs []string, fn func(ref string) (string, error)) error {
	failed := false
	for _, ref := range refs {
		out, err := fn(ref)
		if err != nil {
			failed = true
			fmt.Fprintf(e.Stderr, "Error: %v\n", err)
			continue
		}
		fmt.Fprintln(e.Stdout, out)
	}
	return exitOne(failed)
}

// exitOne is how Docker's multi-container verbs end when one failed:
// every error already printed, exit status 1.
func exitOne(failed bool) error {
	if failed {
		return &ExitError{Code: 1}
	}
	return nil
}

// Kill sends a signal (default SIGKILL) to each running container.
func (e *Engine) Kill(refs []string, sigName string) error {
	sig := syscall.SIGKILL
	if sigName != "" {
		var err error
		if sig, err = container.ParseSignal(sigName); err != nil {
			return err
		}
	}
	return e.eachContainer(refs, func(cs *container.Store, c *container.Container) error {
		if err := container.CanSignal(c); err != nil {
			return fmt.Errorf("cannot kill container: %s: %w", c.Name, err)
		}
		c = e.markStoppedByUser(c)
		if err := container.Signal(c, sig); err != nil {
			if errors.Is(err, container.ErrProcessGone) {
				return store.Conflict("cannot kill container: %s: Container %s is not running", c.Name, c.ID)
			}
			return fmt.Errorf("cannot kill container: %s: %w", c.Name, err)
		}
		e.emitKill(c, sig)
		e.thawForSignal(c, sig) // a paused one acts on it once thawed (pause.go)
		if sig == syscall.SIGKILL {
			// As Docker: a SIGKILLed container is stopped when kill returns,
			// so an rm right after it does not need -f.
			container.WaitStopped(c, 10*time.Second)
		}
		return nil
	})
}

// Wait blocks until each container stops and prints its exit code.
func (e *Engine) Wait(refs []string) error {
	cs, err := e.containers()
	if err != nil {
		return err
	}
	return e.eachRef(refs, func(ref string) (string, error) {
		code, err := e.wait(cs, ref)
		return strconv.Itoa(code), err
	})
}

func (e *Engine) wait(cs *container.Store, ref string) (int, error) {
	c, err := cs.Lookup(ref)
	if err != nil {
		return 0, err
	}
	for c.IsRunning() {
		// The supervisor tells a stream-less client the exit code, even
		// when --rm removes the record before we could read it.
		if code, err := container.Attach(e.Store, c.ID, container.AttachOptions{}); err == nil {
			return code, nil
		}
		container.WaitStopped(c, -1)
		last := c
		if c, err = cs.Get(last.ID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return last.State.ExitCode, nil // --rm removed it
			}
			return 0, err
		}
	}
	return c.State.ExitCode, nil
}

// Restart stops each running container and starts it again.
func (e *Engine) Restart(refs []string, o StopOptions) error {
	return e.eachContainer(refs, func(cs *container.Store, c *container.Container) error {
		if err := e.stop(c, o); err != nil {
			return err
		}
		c, err := cs.Get(c.ID)
		if err != nil {
			return err
		}
		if err := container.CanStart(c); err != nil {
			return err
		}
		if err := e.startSupervisor(nil, c, false); err != nil {
			return err
		}
		e.emit(c, "restart", nil)
		return nil
	})
}

// ExecOptions are exec's flags.
type ExecOptions struct {
	Detach, Interactive, Tty, Privileged bool
	Env                                  []string // KEY=VALUE, already read from -e/--env-file
	WorkingDir, User                     string
	AttachFlags
}

// Exec runs a command in a running container through its supervisor and
// returns its exit code as an *ExitError (126/127 when it cannot run).
func (e *Engine) Exec(ref string, args []string, o ExecOptions) error {
	if _, err := container.ParseDetachKeys(o.DetachKeys); err != nil {
		return err
	}
	// Docker's exec exits 1 (not 125) when it cannot begin: no such
	// container, one not running, or -it without a terminal.
	c, err := e.LookupContainer(ref)
	if err != nil {
		return &ExitError{Code: 1, Message: err.Error()}
	}
	if err := execRefusal(ref, c); err != nil {
		return err
	}
	if o.Interactive && o.Tty && !o.Detach && !isTerminal(o.Stdin) {
		return &ExitError{Code: 1, Message: "the input device is not a TTY"}
	}
	req := container.ExecRequest{
		Args: args, Env: o.Env, WorkingDir: o.WorkingDir, User: o.User,
		Tty: o.Tty, OpenStdin: o.Interactive, Privileged: o.Privileged, Detach: o.Detach,
	}
	if o.Tty && !o.Detach {
		req.Rows, req.Cols = termSize()
	}
	o.SigProxy = false // docker exec does not proxy signals
	p := e.prepareStreams(o.Tty, o.Interactive && !o.Detach, !o.Detach, !o.Detach, o.AttachFlags)
	defer p.stop()
	cmd := strings.Join(args, " ")
	e.emit(c, "exec_create: "+cmd, nil)
	e.emit(c, "exec_start: "+cmd, nil)
	code, err := container.Exec(e.Store, c.ID, req, p.opts)
	p.restore()
	if err == nil && !o.Detach {
		e.emit(c, "exec_die", map[string]string{"exitCode": strconv.Itoa(code)})
	}
	var se *container.StartError
	switch {
	case errors.As(err, &se):
		if se.Code == 125 {
			return errors.New(se.Msg)
		}
		return &ExitError{Code: se.Code, Message: se.Msg}
	case errors.Is(err, container.ErrDetached):
		fmt.Fprintln(e.Stderr, "read escape sequence")
		return nil
	case errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist):
		return execNotRunning(c.ID) // it exited since we looked
	case err != nil:
		return err
	case code != 0:
		return &ExitError{Code: code}
	}
	return nil
}

// execNotRunning is Docker's answer to an exec into a stopped container.
func execNotRunning(id string) error {
	return &ExitError{Code: 1, Message: fmt.Sprintf("container %s is not running", id)}
}
