package e2e

// Published ports (-p, -P): the supervisor's userspace proxy listens on the
// host and relays into the container's network namespace, in every mode.

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// freePort is a TCP port on 127.0.0.1 that nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// readPort connects to addr and returns everything the server sends.
func readPort(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(c)
	return string(b), err
}

// expectAnswer polls addr until the container's server answers want (its
// listener may start a moment after run -d returns).
func expectAnswer(t *testing.T, addr, want string) {
	t.Helper()
	var got string
	var err error
	ok := false
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got, err = readPort(addr); err == nil && got == want {
			ok = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !ok {
		t.Fatalf("%s answered %q (err %v), want %q", addr, got, err, want)
	}
}

var echoServer = []string{"busybox", "nc", "-ll", "-p", "80", "-e", "echo", "hello"}

func TestRunPublish(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		port := freePort(t)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		env.mustRun(append([]string{"run", "-d", "--name", "web", "-p", addr + ":80"}, echoServer...)...)
		expectAnswer(t, addr, "hello\n")
		expectAnswer(t, addr, "hello\n") // every connection, not just the first

		if got, want := strings.TrimSpace(env.mustRun("ps", "--format", "{{.Ports}}")), addr+"->80/tcp"; got != want {
			t.Errorf("ps PORTS = %q, want %q", got, want)
		}
		if got, want := strings.TrimSpace(env.mustRun("port", "web")), "80/tcp -> "+addr; got != want {
			t.Errorf("port web = %q, want %q", got, want)
		}
		if got, want := strings.TrimSpace(env.mustRun("port", "web", "80/tcp")), addr; got != want {
			t.Errorf("port web 80/tcp = %q, want %q", got, want)
		}
		want := fmt.Sprintf(`{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"%d"}]}`, port)
		if got := strings.TrimSpace(env.mustRun("inspect", "-f", "{{json .NetworkSettings.Ports}}", "web")); got != want {
			t.Errorf("NetworkSettings.Ports = %s, want %s", got, want)
		}

		// The port is taken: the second container does not start.
		res := env.mustFail(125, "run", "-d", "--name", "clash", "-p", addr+":80", "busybox", "sleep", "100")
		if want := "Bind for " + addr + " failed: port is already allocated"; !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr %q, want it to say %q", res.Stderr, want)
		}
		if got := strings.TrimSpace(env.mustRun("ps", "-q", "--filter", "name=clash")); got != "" {
			t.Errorf("clash is running: %s", got)
		}

		// stop releases the port.
		env.mustRun("stop", "-t", "1", "web")
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after stop", addr)
		}
		if got := strings.TrimSpace(env.mustRun("port", "web")); got != "" {
			t.Errorf("port of a stopped container = %q, want nothing", got)
		}

		// start publishes again (rootless, start runs from the host side).
		env.mustRun("start", "web")
		expectAnswer(t, addr, "hello\n")
		env.mustRun("rm", "-f", "web")
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after rm -f", addr)
		}
	})
}

func TestRunPublishRandom(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun(append([]string{"run", "-d", "--name", "rnd", "-p", "80"}, echoServer...)...)
		hostAddr := strings.TrimSpace(env.mustRun("port", "rnd", "80"))
		host, port, err := net.SplitHostPort(hostAddr)
		if err != nil || host != "0.0.0.0" || port == "0" {
			t.Fatalf("port rnd 80 = %q, want 0.0.0.0:<port>", hostAddr)
		}
		expectAnswer(t, "127.0.0.1:"+port, "hello\n")

		// -P publishes the exposed ports, each on a random host port.
		env.mustRun(append([]string{"run", "-d", "--name", "all", "--expose", "80", "-P"}, echoServer...)...)
		lines := strings.Split(strings.TrimSpace(env.mustRun("port", "all")), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "80/tcp -> 0.0.0.0:") {
			t.Fatalf("port all = %q, want one 80/tcp -> 0.0.0.0:<port>", lines)
		}
		expectAnswer(t, "127.0.0.1:"+strings.TrimPrefix(lines[0], "80/tcp -> 0.0.0.0:"), "hello\n")
		env.mustRun("rm", "-f", "rnd", "all")

		// Rootless, the relay does not depend on the network tool: slirp4netns
		// and none (loopback only) publish the same way as pasta.
		for _, tool := range []string{"slirp4netns", "none"} {
			env.Vars = []string{"SKIFF_ROOTLESS_NETWORK_CMD=" + tool}
			env.mustRun(append([]string{"run", "-d", "--name", tool, "-p", "127.0.0.1::80"}, echoServer...)...)
			hostAddr := strings.TrimSpace(env.mustRun("port", tool, "80"))
			expectAnswer(t, hostAddr, "hello\n")
			env.mustRun("rm", "-f", tool)
		}
	})
}
