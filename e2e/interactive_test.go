package e2e

// Interactive containers driven through a real terminal: skiff runs with a
// pty the test holds as its stdin, stdout and stderr (and controlling
// terminal), as under a user's terminal emulator. The test types into the
// master, reads the screen from it, resizes it, and checks afterwards that
// skiff gave the terminal back in the state it found it.

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ttySession is one skiff command running on a pty.
type ttySession struct {
	t      *testing.T
	master *os.File
	slave  *os.File // kept open, to read the terminal's modes after the exit
	orig   *unix.Termios
	cmd    *exec.Cmd
	done   chan struct{}
	code   int

	mu   sync.Mutex
	out  []byte // everything the terminal showed
	seen int    // how much of out expect has consumed
}

// startTTY runs skiff with args on a fresh 24x80 terminal.
func (e *Env) startTTY(t *testing.T, args ...string) *ttySession {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	pty.Setsize(master, &pty.Winsize{Rows: 24, Cols: 80})
	if e.User != nil {
		os.Chown(slave.Name(), e.User.Uid, e.User.Gid)
	}
	orig, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.Timeout)
	cmd := e.command(ctx, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	// Its own session with the pty as controlling terminal (so it gets
	// SIGWINCH); the session is also the process group killGroup uses.
	cmd.SysProcAttr.Setpgid = false
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0
	s := &ttySession{t: t, master: master, slave: slave, orig: orig, cmd: cmd, done: make(chan struct{})}
	e.record("$ skiff " + shellJoin(args) + " [on a terminal]")
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go s.read()
	go func() {
		cmd.Wait()
		s.code = cmd.ProcessState.ExitCode()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			killGroup(cmd, syscall.SIGKILL)
			<-s.done
		}
		cancel()
		master.Close()
		slave.Close()
		if t.Failed() {
			t.Logf("terminal of skiff %s:\n%s", shellJoin(args), s.screen())
		}
	})
	return s
}

func (s *ttySession) read() {
	buf := make([]byte, 4096)
	for {
		n, err := s.master.Read(buf)
		s.mu.Lock()
		s.out = append(s.out, buf[:n]...)
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (s *ttySession) screen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.out)
}

// send types keys.
func (s *ttySession) send(keys string) {
	s.t.Helper()
	if _, err := s.master.WriteString(keys); err != nil {
		s.t.Fatalf("type %q: %v", keys, err)
	}
}

// expect waits until want shows up in what the terminal printed since the
// last match, and consumes the output up to it.
func (s *ttySession) expect(want string) {
	s.t.Helper()
	if !s.waitFor(want, 30*time.Second) {
		s.t.Fatalf("terminal: %q did not appear; after the last match it showed:\n%q", want, s.unseen())
	}
}

func (s *ttySession) waitFor(want string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	exited := s.done
	for {
		s.mu.Lock()
		if i := strings.Index(string(s.out[s.seen:]), want); i >= 0 {
			s.seen += i + len(want)
			s.mu.Unlock()
			return true
		}
		s.mu.Unlock()
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-exited:
			// What skiff printed last may still be in the pty: give the
			// reader a moment, not the whole timeout.
			exited = nil
			if d := time.Now().Add(time.Second); d.Before(deadline) {
				deadline = d
			}
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *ttySession) unseen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.out[s.seen:])
}

// retry types keys until want shows up (for effects that take a moment,
// such as a resize travelling to the container).
func (s *ttySession) retry(keys, want string) {
	s.t.Helper()
	for range 50 {
		s.send(keys)
		if s.waitFor(want, 400*time.Millisecond) {
			return
		}
	}
	s.t.Fatalf("terminal: %q never showed %q; it showed:\n%q", keys, want, s.unseen())
}

// resize changes the terminal's size, as a terminal emulator's window does
// (the kernel sends skiff SIGWINCH).
func (s *ttySession) resize(rows, cols uint16) {
	s.t.Helper()
	if err := pty.Setsize(s.master, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		s.t.Fatal(err)
	}
}

// wait waits for skiff to exit and returns its exit code; the terminal must
// be back in the modes it had before skiff started (no raw mode left).
func (s *ttySession) wait() int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.t.Fatalf("skiff did not exit; the terminal showed:\n%q", s.unseen())
	}
	s.checkRestored()
	return s.code
}

func (s *ttySession) checkRestored() {
	s.t.Helper()
	now, err := unix.IoctlGetTermios(int(s.slave.Fd()), unix.TCGETS)
	if err != nil {
		s.t.Fatal(err)
	}
	if now.Iflag != s.orig.Iflag || now.Oflag != s.orig.Oflag || now.Lflag != s.orig.Lflag || now.Cflag != s.orig.Cflag || now.Cc != s.orig.Cc {
		s.t.Errorf("terminal modes not restored after skiff exited: lflag %#o -> %#o, iflag %#o -> %#o, oflag %#o -> %#o",
			s.orig.Lflag, now.Lflag, s.orig.Iflag, now.Iflag, s.orig.Oflag, now.Oflag)
	}
}

// shell prompt of busybox's sh as root.
const prompt = "# "

// TestRunInteractiveShell is `run -it busybox sh` as a user types it: the
// container's own pty (/dev/pts/0 in its devpts), TERM, ls, ping, the size
// at start and after a resize, Ctrl-C reaching the foreground process, the
// exit code, the terminal restored, and the session in the logs.
func TestRunInteractiveShell(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		s := env.startTTY(t, "run", "-it", "--name", "tty1", "busybox", "sh")
		s.expect(prompt)
		s.send("ls\r")
		s.expect("bin")
		s.expect(prompt)
		s.send("tty; ls -1 /dev/pts; echo \"TERM=$TERM\"\r")
		s.expect("\n/dev/pts/0\r\n0\r\nptmx\r\nTERM=xterm\r\n")
		s.send("ping -c 1 127.0.0.1\r")
		s.expect("1 packets transmitted, 1 packets received")
		s.send("stty size\r")
		s.expect("\n24 80\r\n")
		s.resize(30, 100)
		s.retry("stty size\r", "\n30 100\r\n")
		s.send("sh -c 'echo sleeping; exec sleep 100'\r")
		s.expect("sleeping\r\n")
		time.Sleep(200 * time.Millisecond)
		start := time.Now()
		s.send("\x03") // Ctrl-C
		s.send("echo \"status=$?\"\r")
		s.expect("status=130")
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("Ctrl-C took %s to end sleep 100", d)
		}
		s.send("echo logged-line\r")
		s.expect("\nlogged-line\r\n")
		s.send("exit 3\r")
		if code := s.wait(); code != 3 {
			t.Errorf("exit code %d, want 3", code)
		}
		logs := env.mustRun("logs", "tty1")
		if !strings.Contains(logs, "logged-line\r\n") || !strings.Contains(logs, "/dev/pts/0") {
			t.Errorf("logs of the -t session lack what it showed:\n%q", logs)
		}
	})
}

// TestRunInteractiveFailure: the terminal is restored when the container
// cannot even start.
func TestRunInteractiveFailure(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		s := env.startTTY(t, "run", "-it", "--rm", "busybox", "no-such-command")
		s.expect(`exec: "no-such-command": executable file not found in $PATH`)
		if code := s.wait(); code != 127 {
			t.Errorf("exit code %d, want 127", code)
		}
	})
}

// TestRunInteractiveDetach: Ctrl-P Ctrl-Q leaves the container running,
// attach reconnects to it (and --detach-keys changes the sequence), and
// start -ai attaches with input.
func TestRunInteractiveDetach(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		s := env.startTTY(t, "run", "-it", "--name", "det", "busybox", "sh")
		s.expect(prompt)
		s.send("echo before\r")
		s.expect("\nbefore\r\n")
		s.send("\x10\x11") // Ctrl-P Ctrl-Q
		s.expect("read escape sequence")
		if code := s.wait(); code != 0 {
			t.Errorf("detach: exit code %d, want 0", code)
		}
		if st := strings.TrimSpace(env.mustRun("inspect", "-f", "{{.State.Status}}", "det")); st != "running" {
			t.Fatalf("after detach the container is %q, want running", st)
		}
		a := env.startTTY(t, "attach", "--detach-keys", "ctrl-x", "det")
		a.retry("echo \"again-$((20+3))\"\r", "again-23")
		a.send("\x18") // the custom detach key
		a.expect("read escape sequence")
		if code := a.wait(); code != 0 {
			t.Errorf("attach detach: exit code %d, want 0", code)
		}
		a = env.startTTY(t, "attach", "det")
		a.retry("echo \"third-$((40+2))\"\r", "third-42")
		a.send("exit 5\r")
		if code := a.wait(); code != 5 {
			t.Errorf("attach: exit code %d, want 5", code)
		}
		if st := strings.TrimSpace(env.mustRun("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "det")); st != "exited 5" {
			t.Errorf("after exit 5 the container is %q", st)
		}
		// start -ai: attached, with input, from the first byte.
		st := env.startTTY(t, "start", "-ai", "det")
		st.expect(prompt)
		st.send("echo \"restarted-$((3*3))\"; exit 7\r")
		st.expect("restarted-9")
		if code := st.wait(); code != 7 {
			t.Errorf("start -ai: exit code %d, want 7", code)
		}
	})
}

// TestRunTtyStreams: without -t stdout and stderr stay apart end to end;
// with -t they share the pty (CRLF line ends, nothing on stderr); -t alone
// is a tty without input; -i alone streams stdin and its EOF closes the
// container's.
func TestRunTtyStreams(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "busybox") // no pull progress on stderr below
		script := "echo out; echo err >&2"
		res := env.run("run", "--rm", "busybox", "sh", "-c", script)
		if res.Code != 0 || res.Stdout != "out\n" || res.Stderr != "err\n" {
			t.Errorf("without -t: %s", res)
		}
		res = env.run("run", "-t", "--rm", "busybox", "sh", "-c", script)
		if res.Code != 0 || res.Stdout != "out\r\nerr\r\n" || res.Stderr != "" {
			t.Errorf("with -t: %s", res)
		}
		// -t alone: a terminal on 0, 1 and 2, but nothing typed reaches it.
		res = env.runInput(strings.NewReader("typed\n"), "run", "-t", "--rm", "busybox", "sh", "-c",
			"test -t 0 && test -t 1 && test -t 2 && tty; read -t 2 line; echo \"line=$line\"")
		if res.Code != 0 || res.Stdout != "/dev/pts/0\r\nline=\r\n" {
			t.Errorf("-t without -i: %s", res)
		}
		res = env.runInput(strings.NewReader("hi\n"), "run", "-i", "--rm", "busybox", "cat")
		if res.Code != 0 || res.Stdout != "hi\n" {
			t.Errorf("echo hi | run -i cat: %s", res)
		}
		res = env.runInput(strings.NewReader("in\n"), "run", "-i", "--rm", "busybox", "sh", "-c", "cat; echo err >&2; exit 4")
		if res.Code != 4 || res.Stdout != "in\n" || res.Stderr != "err\n" {
			t.Errorf("run -i with stderr: %s", res)
		}
	})
}

// TestRunInteractiveSignalled: a SIGTERM or SIGHUP sent to the CLI of a
// `run -it` or `exec -it` (a closed terminal window, a CI job's timeout)
// ends it as Docker's ends (no signal proxy with -t: killed by the signal,
// 128+n in a shell), but only after it has put the terminal back.
func TestRunInteractiveSignalled(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		s := env.startTTY(t, "run", "-it", "--name", "sig1", "busybox", "sh")
		s.expect(prompt)
		s.checkRaw()
		s.cmd.Process.Signal(syscall.SIGTERM)
		if code := s.waitSignalled(); code != 128+int(syscall.SIGTERM) {
			t.Errorf("run -it after SIGTERM: exit code %d, want %d", code, 128+int(syscall.SIGTERM))
		}
		if st := strings.TrimSpace(env.mustRun("inspect", "-f", "{{.State.Status}}", "sig1")); st != "running" {
			t.Fatalf("the container is %q after its CLI died, want running (as Docker's)", st)
		}
		x := env.startTTY(t, "exec", "-it", "sig1", "sh")
		x.expect(prompt)
		x.checkRaw()
		x.cmd.Process.Signal(syscall.SIGHUP)
		if code := x.waitSignalled(); code != 128+int(syscall.SIGHUP) {
			t.Errorf("exec -it after SIGHUP: exit code %d, want %d", code, 128+int(syscall.SIGHUP))
		}
		env.mustRun("rm", "-f", "sig1")
	})
}

// checkRaw fails unless skiff has put the terminal into raw mode (so a
// later checkRestored proves something).
func (s *ttySession) checkRaw() {
	s.t.Helper()
	now, err := unix.IoctlGetTermios(int(s.slave.Fd()), unix.TCGETS)
	if err != nil {
		s.t.Fatal(err)
	}
	if now.Lflag&unix.ECHO != 0 || now.Lflag&unix.ICANON != 0 {
		s.t.Fatalf("terminal not raw while skiff runs: lflag %#o", now.Lflag)
	}
}

// waitSignalled is wait for a skiff that a signal ended: its status as a
// shell reports it (128+n), the terminal restored.
func (s *ttySession) waitSignalled() int {
	s.t.Helper()
	code := s.wait()
	if ws, ok := s.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return code
}
