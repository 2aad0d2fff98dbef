package container

import (
	"encoding/json"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/isolate"
)

// supervisor is the state of one supervisor process.
type supervisor struct {
	cs   *Store
	id   string
	opts SuperviseOptions
	rec  *Container // as read at start
	prev State      // rec's state before this start
	// selfStart is this process's start time: with its pid it marks the
	// records it wrote.
	selfStart uint64

	ictr  *isolate.Container
	proc  *isolate.Process
	log   *LogWriter
	ln    *net.UnixListener
	ports *portProxy // published ports (ports.go); nil without any

	stdin   *os.File // the container's stdin (pipe or pty master); nil if not open
	master  *os.File // pty master with -t
	relays  sync.WaitGroup
	stdinMu sync.Mutex

	mu        sync.Mutex
	clients   map[*client]bool
	early     [][]byte // frames kept for the first client (opts.Attached)
	earlySize int
	attached  bool          // a client has said hello
	firstSeen chan struct{} // closed at the first hello
	exited    bool
	exitCode  int

	restarting bool          // the current start is its restart policy's
	delay      time.Duration // the last restart delay (restart.go)
	healthStop chan struct{} // closed when the run ends (health.go)
}

// maxEarly bounds what is kept for a first client that is slow to come.
const maxEarly = 4 << 20

type client struct {
	conn net.Conn
	req  AttachRequest
	wmu  sync.Mutex
}

// send writes one frame. Output waits for a slow client, as Docker's
// attach does (a paused `run | less` pauses the container); a client
// that went away fails at once.
func (c *client) send(typ byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return WriteFrame(c.conn, typ, p)
}

func (c *client) wants(typ byte) bool {
	switch typ {
	case FrameStdout:
		return c.req.Stdout
	case FrameStderr:
		return c.req.Stderr
	}
	return true
}

// signalIgnore keeps terminal-style signals from killing the supervisor:
// it has no terminal, and only its container's exit should end it. They
// are caught and dropped, not set to SIG_IGN, because an ignored signal
// stays ignored across execve and the container would inherit that.
func signalIgnore() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT)
	go func() {
		for range ch {
		}
	}()
}

// spawn starts the container's process with pipes, or a pty with -t, and
// starts relaying its output.
func (s *supervisor) spawn() error {
	ictr, err := isolateContainer(s.cs, s.rec, s.prepared)
	if err != nil {
		return err
	}
	s.ictr = ictr
	s.firstSeen = make(chan struct{})
	var stdio isolate.Stdio
	var childEnds []*os.File
	defer func() {
		for _, f := range childEnds {
			f.Close()
		}
	}()
	if s.rec.Config.Tty {
		// isolate allocates the pty inside the container (its own devpts,
		// as Docker's) and hands back the master; the size is set there
		// before the process runs.
		ictr.Spec.Process.ConsoleSize = consoleSize(s.opts.Rows, s.opts.Cols)
	} else {
		outR, outW, err := os.Pipe()
		if err != nil {
			return err
		}
		errR, errW, err := os.Pipe()
		if err != nil {
			outR.Close()
			outW.Close()
			return err
		}
		stdio.Stdout, stdio.Stderr = outW, errW
		childEnds = append(childEnds, outW, errW)
		if s.rec.Config.OpenStdin {
			inR, inW, err := os.Pipe()
			if err != nil {
				return err
			}
			stdio.Stdin = inR
			childEnds = append(childEnds, inR)
			s.stdin = inW
		}
		s.relay(outR, "stdout", FrameStdout)
		s.relay(errR, "stderr", FrameStderr)
	}
	proc, err := isolate.Start(ictr, stdio)
	if err != nil {
		if s.stdin != nil {
			s.stdin.Close()
		}
		return err
	}
	s.proc = proc
	if proc.Console != nil {
		s.master = proc.Console
		if s.rec.Config.OpenStdin {
			s.stdin = s.master
		}
		s.relay(s.master, "stdout", FrameStdout)
	}
	return nil
}

// consoleSize is a pty size for the spec (nil when unknown).
func consoleSize(rows, cols uint16) *specs.Box {
	if rows == 0 || cols == 0 {
		return nil
	}
	return &specs.Box{Height: uint(rows), Width: uint(cols)}
}

// setConsoleSize resizes a pty through its master (the kernel then sends
// SIGWINCH to the terminal's foreground process group). The descriptor
// stays non-blocking, unlike with pty.Setsize, so Close still ends a Read.
func setConsoleSize(master *os.File, rows, cols uint16) {
	rc, err := master.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	})
}

// relay copies one output stream to the log and the attached clients.
func (s *supervisor) relay(f *os.File, stream string, typ byte) {
	s.relays.Add(1)
	go func() {
		defer s.relays.Done()
		buf := make([]byte, 32*1024)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				s.log.Write(stream, buf[:n])
				s.broadcast(typ, buf[:n])
			}
			if err != nil { // EOF, or EIO from a pty master whose slave closed
				if f != s.master {
					f.Close()
				}
				return
			}
		}
	}()
}

// drain waits for the output relays to reach EOF: every writer is gone
// once the container's init died (its PID namespace dies with it). The
// bound keeps a leaked descriptor from holding the exit status hostage.
func (s *supervisor) drain() {
	waitBounded(&s.relays)
	if s.master != nil {
		s.master.Close()
	}
	s.closeStdin()
}

// waitBounded waits for output relays, but not for a descriptor that some
// straggler keeps open.
func waitBounded(wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
}

func (s *supervisor) broadcast(typ byte, p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Attached && !s.attached {
		if s.earlySize+len(p) <= maxEarly {
			s.early = append(s.early, append([]byte{typ}, p...))
			s.earlySize += len(p)
		}
		return
	}
	for c := range s.clients {
		if c.wants(typ) && c.send(typ, p) != nil {
			c.conn.Close()
			delete(s.clients, c)
		}
	}
}

func (s *supervisor) accept() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.serve(conn)
	}
}

// serve handles one client: its hello, then its input and control frames.
func (s *supervisor) serve(conn net.Conn) {
	c := &client{conn: conn}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, p, err := ReadFrame(conn, nil)
	if err != nil || typ != FrameHello || json.Unmarshal(p, &c.req) != nil {
		conn.Close()
		return
	}
	conn.SetReadDeadline(time.Time{})
	if c.req.Exec != nil {
		s.serveExec(c)
		return
	}
	if !s.register(c) {
		return
	}
	defer s.unregister(c)
	buf := make([]byte, 32*1024)
	for {
		typ, p, err := ReadFrame(conn, buf)
		if err != nil {
			return
		}
		s.control(c, typ, p)
	}
}

// register adds a client, first handing it the output kept since the
// start; a client arriving after the exit gets the exit code at once.
func (s *supervisor) register(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Only a client taking streams is the one an attached start waits
	// for; a bare waiter (docker wait) must not take its early output.
	if !s.attached && (c.req.Stdin || c.req.Stdout || c.req.Stderr) {
		s.attached = true
		close(s.firstSeen)
		for _, f := range s.early {
			if c.wants(f[0]) {
				c.send(f[0], f[1:])
			}
		}
		s.early, s.earlySize = nil, 0
	}
	if s.exited {
		c.send(FrameExit, uint32Payload(uint32(int32(s.exitCode))))
		c.conn.Close()
		return false
	}
	s.clients[c] = true
	return true
}

func (s *supervisor) unregister(c *client) {
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
	c.conn.Close()
}

func (s *supervisor) control(c *client, typ byte, p []byte) {
	switch typ {
	case FrameStdin:
		if c.req.Stdin {
			s.stdinMu.Lock()
			if s.stdin != nil {
				s.stdin.Write(p)
			}
			s.stdinMu.Unlock()
		}
	case FrameCloseStdin:
		// Docker's StdinOnce: the stdin of a container run attached with
		// -i closes when the client's input ends. A tty has no EOF to pass.
		if c.req.Stdin && !s.rec.Config.Tty && (s.rec.Config.StdinOnce || s.rec.Config.AttachStdin) {
			s.closeStdin()
		}
	case FrameResize:
		if rows, cols, ok := parseResize(p); ok && s.master != nil {
			setConsoleSize(s.master, rows, cols)
		}
	case FrameSignal:
		if n, ok := parseUint32(p); ok {
			s.proc.Signal(syscall.Signal(n))
		}
	}
}

func (s *supervisor) closeStdin() {
	s.stdinMu.Lock()
	defer s.stdinMu.Unlock()
	if s.stdin != nil && s.stdin != s.master {
		s.stdin.Close()
	}
	s.stdin = nil
}

// waitFirstClient gives an attached start's client time to connect, so it
// still gets the output and the exit code of a container that ended fast.
func (s *supervisor) waitFirstClient(limit time.Duration) {
	select {
	case <-s.firstSeen:
	case <-time.After(limit):
	}
}

// finish sends the exit code to every client and closes the socket.
func (s *supervisor) finish(code int) {
	s.notifyExit(code)
	s.closeListener()
}

// notifyExit gives every client the exit code and lets it go; clients
// that come later get it at once, until a restart.
func (s *supervisor) notifyExit(code int) {
	s.mu.Lock()
	s.exited, s.exitCode = true, code
	clients := s.clients
	s.clients = map[*client]bool{}
	s.mu.Unlock()
	for c := range clients {
		// A stopped client must not keep the supervisor alive forever.
		c.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
		c.send(FrameExit, uint32Payload(uint32(int32(code))))
		c.conn.Close()
	}
}
