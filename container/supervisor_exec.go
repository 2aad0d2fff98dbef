package container

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/skiff-dev/skiff/isolate"
)

// ExecRequest asks a container's supervisor for a new process in the
// running container (docker exec). The supervisor starts it because
// joining the container's namespaces needs a process already in its user
// namespace (design.md); its streams go to the requesting client only.
type ExecRequest struct {
	Args       []string
	Env        []string `json:",omitempty"` // added to the container's
	WorkingDir string   `json:",omitempty"` // default: the container's
	User       string   `json:",omitempty"` // default: the container's
	Tty        bool     `json:",omitempty"`
	OpenStdin  bool     `json:",omitempty"` // -i
	Privileged bool     `json:",omitempty"`
	Detach     bool     `json:",omitempty"` // -d: no streams, return once it runs
	Rows       uint16   `json:",omitempty"`
	Cols       uint16   `json:",omitempty"`
}

// execSession is one exec'd process and its streams.
type execSession struct {
	proc   *isolate.Process
	master *os.File
	stdin  *os.File
	mu     sync.Mutex // guards stdin
	relays sync.WaitGroup
}

// serveExec runs the exec request of client c until its process exits.
func (s *supervisor) serveExec(c *client) {
	defer c.conn.Close()
	req := c.req.Exec
	fail := func(err error) {
		data, _ := json.Marshal(&StartError{Code: startCode(err), Msg: err.Error()})
		c.send(FrameError, data)
	}
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	if exited || s.proc == nil {
		// Docker's exec exits 1 for this, not 125.
		fail(&StartError{Code: 1, Msg: fmt.Sprintf("container %s is not running", s.id)})
		return
	}
	p, err := s.execProcess(req)
	if err != nil {
		fail(err)
		return
	}
	x := &execSession{}
	stdio, childEnds, err := x.open(s, c, req)
	if err == nil {
		x.proc, err = isolate.Exec(s.ictr, s.proc.Pid, p, stdio)
	}
	for _, f := range childEnds {
		f.Close()
	}
	if err != nil {
		x.closeAll()
		fail(err)
		return
	}
	if x.proc.Console != nil {
		x.useConsole(c, req)
	}
	c.send(FrameStarted, uint32Payload(uint32(x.proc.Pid)))
	if req.Detach {
		// Reap it (nobody waits for its code); with -t its terminal is
		// drained until then, and closed after.
		go func() {
			x.proc.Wait()
			waitBounded(&x.relays)
			x.closeAll()
		}()
		return
	}
	go s.execInput(c, x)
	st, werr := x.proc.Wait()
	waitBounded(&x.relays)
	x.closeAll()
	if werr != nil {
		fail(werr)
		return
	}
	c.send(FrameExit, uint32Payload(uint32(int32(st.Code))))
}

// execProcess is the container's process spec with the request's changes.
func (s *supervisor) execProcess(req *ExecRequest) (*specs.Process, error) {
	if len(req.Args) == 0 {
		return nil, &StartError{Code: 125, Msg: "no command specified"}
	}
	p := *s.ictr.Spec.Process
	p.Args = req.Args
	p.Terminal = req.Tty
	p.ConsoleSize = nil
	if req.Tty {
		p.ConsoleSize = consoleSize(req.Rows, req.Cols)
	}
	if req.WorkingDir != "" {
		p.Cwd = cwd(req.WorkingDir)
	}
	if req.User != "" {
		u, err := resolveUserGroups(s.rec.Rootfs, req.User, s.rec.HostConfig.GroupAdd)
		if err != nil {
			return nil, err
		}
		p.User = specs.User{UID: u.UID, GID: u.GID, AdditionalGids: u.AdditionalGids, Umask: p.User.Umask}
	}
	env := append([]string(nil), p.Env...)
	if req.Tty {
		env = MergeEnv(env, []string{"TERM=xterm"})
	}
	p.Env = MergeEnv(env, req.Env)
	if req.Privileged {
		caps, err := Capabilities(HostConfig{Privileged: true})
		if err != nil {
			return nil, err
		}
		p.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	}
	return &p, nil
}

// open makes the session's stdio: a pty with -t, pipes otherwise, nothing
// for -d; output relays start here and write to client c only.
func (x *execSession) open(s *supervisor, c *client, req *ExecRequest) (isolate.Stdio, []*os.File, error) {
	var stdio isolate.Stdio
	if req.Detach {
		return stdio, nil, nil
	}
	if req.Tty {
		return stdio, nil, nil // isolate makes the pty: see useConsole
	}
	var ends []*os.File
	for _, typ := range []byte{FrameStdout, FrameStderr} {
		r, w, err := os.Pipe()
		if err != nil {
			return stdio, ends, err
		}
		ends = append(ends, w)
		if typ == FrameStdout {
			stdio.Stdout = w
		} else {
			stdio.Stderr = w
		}
		x.relay(c, r, typ)
	}
	if req.OpenStdin {
		r, w, err := os.Pipe()
		if err != nil {
			return stdio, ends, err
		}
		stdio.Stdin = r
		ends = append(ends, r)
		x.stdin = w
	}
	return stdio, ends, nil
}

// useConsole makes the pty isolate allocated in the container the
// session's stdout (and stdin with -i); it is sized already.
func (x *execSession) useConsole(c *client, req *ExecRequest) {
	x.master = x.proc.Console
	if req.OpenStdin {
		x.stdin = x.master
	}
	x.relay(c, x.master, FrameStdout)
}

func (x *execSession) relay(c *client, f *os.File, typ byte) {
	x.relays.Add(1)
	go func() {
		defer x.relays.Done()
		buf := make([]byte, 32*1024)
		for {
			n, err := f.Read(buf)
			if n > 0 && c.wants(typ) {
				c.send(typ, buf[:n])
			}
			if err != nil {
				if f != x.master {
					f.Close()
				}
				return
			}
		}
	}()
}

// execInput applies the client's frames to the session until it hangs up.
func (s *supervisor) execInput(c *client, x *execSession) {
	buf := make([]byte, 32*1024)
	for {
		typ, p, err := ReadFrame(c.conn, buf)
		if err != nil {
			return
		}
		switch typ {
		case FrameStdin:
			x.mu.Lock()
			if x.stdin != nil {
				x.stdin.Write(p)
			}
			x.mu.Unlock()
		case FrameCloseStdin:
			if x.master == nil {
				x.closeStdin()
			}
		case FrameResize:
			if rows, cols, ok := parseResize(p); ok && x.master != nil {
				setConsoleSize(x.master, rows, cols)
			}
		case FrameSignal:
			if n, ok := parseUint32(p); ok && x.proc != nil {
				x.proc.Signal(syscall.Signal(n))
			}
		}
	}
}

func (x *execSession) closeStdin() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.stdin != nil && x.stdin != x.master {
		x.stdin.Close()
	}
	x.stdin = nil
}

func (x *execSession) closeAll() {
	x.closeStdin()
	if x.master != nil {
		x.master.Close()
	}
}
