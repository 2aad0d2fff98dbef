package isolate

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ttyScript checks, inside the container, what a terminal process sees:
// a tty on 0/1/2 that is the container's own /dev/pts/0, its size, and
// that it is the controlling terminal (field 7 of stat, tty_nr, is set).
const ttyScript = "test -t 0 && test -t 1 && test -t 2 && echo tty; tty; stty size; awk '{print ($7 != 0)}' /proc/self/stat; ls -1 /dev/pts; stat -c %u /dev/pts/0"

// readConsole reads a process's terminal until every slave is closed
// (the master then reads EIO) and waits for it.
func readConsole(t *testing.T, p *Process) string {
	t.Helper()
	if p.Console == nil {
		t.Fatal("no Console for a process with a terminal")
	}
	defer p.Console.Close()
	var out bytes.Buffer
	out.ReadFrom(p.Console)
	st, err := p.Wait()
	if err != nil || st.Code != 0 {
		t.Fatalf("wait: %+v %v (output %q)", st, err, out.String())
	}
	return strings.ReplaceAll(out.String(), "\r\n", "\n")
}

func TestTerminal(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	spec := dockerSpec(root, "sh", "-c", ttyScript+"; test /dev/console -ef /dev/pts/0 && echo console")
	spec.Process.Terminal = true
	spec.Process.ConsoleSize = &specs.Box{Height: 33, Width: 101}
	c := newContainer(t, spec)
	p, err := Start(c, Stdio{})
	if err != nil {
		t.Fatal(err)
	}
	want := "tty\n/dev/pts/0\n33 101\n1\n0\nptmx\n0\nconsole\n"
	if got := readConsole(t, p); got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

func TestTerminalNeedsEmptyStdio(t *testing.T) {
	requireRoot(t)
	spec := dockerSpec(busyboxRootfs(t), "true")
	spec.Process.Terminal = true
	if _, err := Start(newContainer(t, spec), Stdio{Stdout: os.Stdout}); err == nil || !strings.Contains(err.Error(), "leave Stdio empty") {
		t.Errorf("Start with a terminal and stdio: %v", err)
	}
}

// TestExecTerminal: an exec'd process gets a pty of the container's devpts
// (beside none of the init's, which has no terminal), owned by its user.
func TestExecTerminal(t *testing.T) {
	requireRoot(t)
	spec := dockerSpec(busyboxRootfs(t), "sleep", "1000")
	c, p := startLong(t, spec)
	proc := &specs.Process{Args: []string{"sh", "-c", ttyScript}, Env: []string{"PATH=/bin"}, Cwd: "/",
		Terminal: true, ConsoleSize: &specs.Box{Height: 20, Width: 70}, User: specs.User{UID: 1000, GID: 1000}}
	ep, err := Exec(c, p.Pid, proc, Stdio{})
	if err != nil {
		t.Fatal(err)
	}
	want := "tty\n/dev/pts/0\n20 70\n1\n0\nptmx\n1000\n"
	if got := readConsole(t, ep); got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

// TestConsoleResize: the master the caller holds sizes the terminal, and
// the process is told (SIGWINCH).
func TestConsoleResize(t *testing.T) {
	requireRoot(t)
	spec := dockerSpec(busyboxRootfs(t), "sh", "-c", "trap 'stty size; exit' WINCH; echo ready; while :; do sleep 0.1; done")
	spec.Process.Terminal = true
	c := newContainer(t, spec)
	p, err := Start(c, Stdio{})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	p.Console.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := p.Console.Read(buf); err != nil || !strings.Contains(string(buf[:n]), "ready") {
		t.Fatalf("read %q %v", buf[:n], err)
	}
	p.Console.SetReadDeadline(time.Time{})
	rc, err := p.Console.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(fd uintptr) {
		err = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: 11, Col: 42})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := readConsole(t, p); got != "11 42\n" {
		t.Errorf("after resize: %q", got)
	}
}
