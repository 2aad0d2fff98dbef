package isolate

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// openPty opens a pty pair the plain way (no library needed in isolate).
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

func TestTerminal(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	master, slave := openPty(t)
	defer master.Close()
	spec := dockerSpec(root, "sh", "-c", "test -t 0 && test -t 1 && echo tty; stty size; test -c /dev/console && echo console; awk '{print ($7 != 0)}' /proc/self/stat; ls /dev/pts")
	spec.Process.Terminal = true
	spec.Process.ConsoleSize = &specs.Box{Height: 33, Width: 101}
	c := newContainer(t, spec)
	p, err := Start(c, Stdio{Stdin: slave, Stdout: slave, Stderr: slave})
	slave.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	out.ReadFrom(master) // ends with EIO once the last slave fd closes
	st, err := p.Wait()
	if err != nil || st.Code != 0 {
		t.Fatalf("wait: %+v %v (output %q)", st, err, out.String())
	}
	got := strings.ReplaceAll(out.String(), "\r\n", "\n")
	// The container's own devpts instance is empty but for ptmx: the
	// terminal it got is the host's, bound at /dev/console.
	want := "tty\n33 101\nconsole\n1\nptmx\n"
	if got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}
