package container

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/store"
)

// The attach socket (<runroot>/containers/<id>/attach.sock, 0600) carries
// frames both ways. A frame is an 8-byte header, Docker's stdcopy shape
// (type, three zero bytes, big-endian payload length), then the payload.
// The client's first frame is FrameHello; everything after it is streams
// and control. Types 0-2 are the streams, numbered as stdcopy numbers them.
const (
	FrameStdin  byte = 0 // client -> supervisor: bytes for the container's stdin
	FrameStdout byte = 1 // supervisor -> client
	FrameStderr byte = 2 // supervisor -> client

	FrameHello      byte = 10 // client -> supervisor: JSON AttachRequest
	FrameResize     byte = 11 // client -> supervisor: rows, cols (uint16 each)
	FrameCloseStdin byte = 12 // client -> supervisor: the client's stdin hit EOF
	FrameSignal     byte = 13 // client -> supervisor: signal number (uint32) for the process

	FrameExit    byte = 20 // supervisor -> client: exit code (int32); the last frame
	FrameError   byte = 21 // supervisor -> client: JSON StartError; the last frame
	FrameStarted byte = 22 // supervisor -> client: an exec'd process runs (its pid, uint32)
)

// AttachSocket is the name of the attach socket in the container's run dir.
const AttachSocket = "attach.sock"

// maxFrame bounds a payload so a broken peer cannot make the other side
// allocate without limit.
const maxFrame = 1 << 20

// AttachRequest is the hello frame: which streams the client wants, and
// for an exec session the process to start (its streams are then the
// new process's, not the container's).
type AttachRequest struct {
	Stdin  bool         `json:",omitempty"`
	Stdout bool         `json:",omitempty"`
	Stderr bool         `json:",omitempty"`
	Exec   *ExecRequest `json:",omitempty"`
}

// WriteFrame writes one frame with a single write, so frames from
// goroutines sharing a connection (under one mutex) never interleave.
func WriteFrame(w io.Writer, typ byte, p []byte) error {
	if len(p) > maxFrame {
		return fmt.Errorf("attach frame of %d bytes exceeds %d", len(p), maxFrame)
	}
	b := make([]byte, 8+len(p))
	b[0] = typ
	binary.BigEndian.PutUint32(b[4:8], uint32(len(p)))
	copy(b[8:], p)
	_, err := w.Write(b)
	return err
}

// ReadFrame reads one frame. buf is reused for the payload when it is big
// enough; the returned slice is valid until the next call with buf.
func ReadFrame(r io.Reader, buf []byte) (typ byte, p []byte, err error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(h[4:8])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("attach frame of %d bytes exceeds %d", n, maxFrame)
	}
	if int(n) <= cap(buf) {
		p = buf[:n]
	} else {
		p = make([]byte, n)
	}
	if _, err := io.ReadFull(r, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return h[0], p, nil
}

func resizePayload(rows, cols uint16) []byte {
	var b [4]byte
	binary.BigEndian.PutUint16(b[0:2], rows)
	binary.BigEndian.PutUint16(b[2:4], cols)
	return b[:]
}

func parseResize(p []byte) (rows, cols uint16, ok bool) {
	if len(p) != 4 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(p[0:2]), binary.BigEndian.Uint16(p[2:4]), true
}

func uint32Payload(v uint32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return b[:]
}

func parseUint32(p []byte) (uint32, bool) {
	if len(p) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(p), true
}

// DefaultDetachKeys is Docker's detach sequence.
const DefaultDetachKeys = "ctrl-p,ctrl-q"

// ParseDetachKeys turns Docker's --detach-keys syntax (comma-separated
// single characters or ctrl-<a-z @ [ \ ] ^ _>) into the byte sequence.
func ParseDetachKeys(keys string) ([]byte, error) {
	if keys == "" {
		keys = DefaultDetachKeys
	}
	var out []byte
	for _, k := range strings.Split(keys, ",") {
		if len(k) == 1 {
			out = append(out, k[0])
			continue
		}
		c, ok := strings.CutPrefix(k, "ctrl-")
		if !ok || len(c) != 1 {
			return nil, store.Invalid("Invalid detach keys (%s) provided", keys)
		}
		switch b := c[0]; {
		case b >= 'a' && b <= 'z':
			out = append(out, b-'a'+1)
		case b == '@':
			out = append(out, 0)
		case b >= '[' && b <= '_': // [ \ ] ^ _
			out = append(out, b-'['+27)
		default:
			return nil, store.Invalid("Invalid detach keys (%s) provided", keys)
		}
	}
	return out, nil
}

// detachFilter spots the detach sequence in a byte stream. Bytes that could
// start the sequence are held back until the sequence breaks (then they are
// passed on) or completes (then the client detaches).
type detachFilter struct {
	keys []byte
	held int
}

// feed returns the bytes to pass on and whether the sequence completed;
// bytes after a completed sequence are dropped.
func (d *detachFilter) feed(in []byte) (out []byte, detach bool) {
	if len(d.keys) == 0 {
		return in, false
	}
	out = make([]byte, 0, len(in)+d.held)
	for _, b := range in {
		if b == d.keys[d.held] {
			d.held++
			if d.held == len(d.keys) {
				d.held = 0
				return out, true
			}
			continue
		}
		if d.held > 0 {
			out = append(out, d.keys[:d.held]...)
			d.held = 0
			if b == d.keys[0] {
				d.held = 1
				continue
			}
		}
		out = append(out, b)
	}
	return out, false
}

// ErrDetached is returned by Attach when the user typed the detach keys.
var ErrDetached = errors.New("detached from container")

// WinSize is a terminal size.
type WinSize struct{ Rows, Cols uint16 }

// AttachOptions say which streams an attach client connects. A nil
// Stdin/Stdout/Stderr is not attached.
type AttachOptions struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Tty            bool   // the session has a pty: detach keys apply
	DetachKeys     string // Docker syntax; "" means ctrl-p,ctrl-q
	// Resize, when set, delivers window sizes to apply to the pty.
	Resize <-chan WinSize
	// Signals, when set, delivers signals for the container's process
	// (--sig-proxy).
	Signals <-chan syscall.Signal
}

// AttachSocketPath is where the supervisor of container id listens.
func AttachSocketPath(st *store.Store, id string) string {
	return filepath.Join(st.RunPath("containers", id), AttachSocket)
}

// Attach connects to the supervisor of container id and relays the chosen
// streams until the container exits, returning its exit code. It returns
// ErrDetached when the user detached (the container keeps running).
func Attach(st *store.Store, id string, opts AttachOptions) (int, error) {
	return dialSession(st, id, nil, opts)
}

// Exec runs a process in running container id through its supervisor and
// relays its streams like Attach, returning its exit code. A failure to
// start it is a *StartError (126, 127 as Docker). With req.Detach it
// returns once the process runs.
func Exec(st *store.Store, id string, req ExecRequest, opts AttachOptions) (int, error) {
	return dialSession(st, id, &req, opts)
}

func dialSession(st *store.Store, id string, exec *ExecRequest, opts AttachOptions) (int, error) {
	conn, err := dialSocket(AttachSocketPath(st, id))
	if err != nil {
		return -1, fmt.Errorf("attach to container %s: %w", shortID(id), err)
	}
	defer conn.Close()
	return attachConn(conn, exec, opts)
}

// A unix socket path must fit sun_path (108 bytes), which a run root such
// as /run/user/1000/skiff or a test's temp dir plus a 64-hex id overflows.
// As conmon does, bind and connect through /proc/self/fd/<dir fd>/name,
// which the kernel resolves to the real directory.
func withShortPath(path string, fn func(short string) error) error {
	if len(path) < 100 {
		return fn(path)
	}
	dir, err := os.OpenFile(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer dir.Close()
	return fn(fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(path)))
}

func dialSocket(path string) (conn net.Conn, err error) {
	err = withShortPath(path, func(p string) error {
		conn, err = net.DialTimeout("unix", p, 5*time.Second)
		return err
	})
	return conn, err
}

func listenSocket(path string) (ln *net.UnixListener, err error) {
	err = withShortPath(path, func(p string) error {
		ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
		return err
	})
	return ln, err
}

func attachConn(conn net.Conn, exec *ExecRequest, opts AttachOptions) (int, error) {
	keys, err := ParseDetachKeys(opts.DetachKeys)
	if err != nil {
		return -1, err
	}
	s := &clientConn{conn: conn}
	req := AttachRequest{Stdin: opts.Stdin != nil, Stdout: opts.Stdout != nil, Stderr: opts.Stderr != nil, Exec: exec}
	hello, _ := json.Marshal(req)
	if err := s.send(FrameHello, hello); err != nil {
		return -1, err
	}
	if exec != nil && exec.Detach {
		return s.readOutput(opts, true)
	}
	detached := make(chan struct{})
	if opts.Stdin != nil {
		// As Docker, the detach keys act on a terminal only: piped input
		// passes through whatever bytes it holds.
		f := &detachFilter{}
		if opts.Tty {
			f.keys = keys
		}
		go s.pumpStdin(opts.Stdin, f, detached)
	}
	done := make(chan struct{})
	defer close(done)
	go s.pumpControl(opts, done)

	type result struct {
		code int
		err  error
	}
	res := make(chan result, 1)
	go func() {
		code, err := s.readOutput(opts, false)
		res <- result{code, err}
	}()
	select {
	case r := <-res:
		return r.code, r.err
	case <-detached:
		return -1, ErrDetached
	}
}

type clientConn struct {
	conn net.Conn
	mu   sync.Mutex
}

func (s *clientConn) send(typ byte, p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return WriteFrame(s.conn, typ, p)
}

func (s *clientConn) pumpStdin(r io.Reader, f *detachFilter, detached chan<- struct{}) {
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			out, detach := f.feed(buf[:n])
			if len(out) > 0 && s.send(FrameStdin, out) != nil {
				return
			}
			if detach {
				close(detached)
				return
			}
		}
		if err != nil {
			s.send(FrameCloseStdin, nil)
			return
		}
	}
}

func (s *clientConn) pumpControl(opts AttachOptions, done <-chan struct{}) {
	for {
		select {
		case ws, ok := <-opts.Resize:
			if !ok {
				opts.Resize = nil
				continue
			}
			s.send(FrameResize, resizePayload(ws.Rows, ws.Cols))
		case sig, ok := <-opts.Signals:
			if !ok {
				opts.Signals = nil
				continue
			}
			s.send(FrameSignal, uint32Payload(uint32(sig)))
		case <-done:
			return
		}
	}
}

// readOutput relays output frames until the exit frame (or, with
// untilStarted, the started frame of a detached exec).
func (s *clientConn) readOutput(opts AttachOptions, untilStarted bool) (int, error) {
	buf := make([]byte, 32*1024)
	for {
		typ, p, err := ReadFrame(s.conn, buf)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return -1, errors.New("container supervisor closed the attach connection without an exit status")
			}
			return -1, err
		}
		switch typ {
		case FrameStdout:
			if opts.Stdout != nil {
				opts.Stdout.Write(p)
			}
		case FrameStderr:
			if opts.Stderr != nil {
				opts.Stderr.Write(p)
			}
		case FrameExit:
			code, ok := parseUint32(p)
			if !ok {
				return -1, errors.New("malformed exit frame from container supervisor")
			}
			return int(int32(code)), nil
		case FrameStarted:
			if untilStarted {
				return 0, nil
			}
		case FrameError:
			var se StartError
			if json.Unmarshal(p, &se) != nil || se.Msg == "" {
				return -1, fmt.Errorf("container supervisor: %s", p)
			}
			return -1, &se
		}
	}
}
