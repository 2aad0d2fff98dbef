package e2e

// Published ports (-p, -P): the supervisor's userspace proxy listens on the
// host and relays into the container's network namespace, in every mode.

import (
	"fmt"
	"io"
	"net"
	"strconv"
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
		// A random port is the same on 0.0.0.0 and [::], as Docker's.
		hostAddrs := strings.Split(strings.TrimSpace(env.mustRun("port", "rnd", "80")), "\n")
		host, port, err := net.SplitHostPort(hostAddrs[0])
		if err != nil || host != "0.0.0.0" || port == "0" {
			t.Fatalf("port rnd 80 = %q, want 0.0.0.0:<port> first", hostAddrs)
		}
		if want := dualStack("[::]:" + port); len(hostAddrs) != 1+len(want) || (len(want) > 0 && hostAddrs[1] != want[0]) {
			t.Errorf("port rnd 80 = %q, want 0.0.0.0:%s then %q", hostAddrs, port, want)
		}
		expectAnswer(t, "127.0.0.1:"+port, "hello\n")

		// -P publishes the exposed ports, each on a random host port.
		env.mustRun(append([]string{"run", "-d", "--name", "all", "--expose", "80", "-P"}, echoServer...)...)
		lines := strings.Split(strings.TrimSpace(env.mustRun("port", "all")), "\n")
		if len(lines) != 1+len(dualStack("[::]")) || !strings.HasPrefix(lines[0], "80/tcp -> 0.0.0.0:") {
			t.Fatalf("port all = %q, want 80/tcp -> 0.0.0.0:<port> (and [::])", lines)
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

// dualStack is lines, or nothing on a host without IPv6 (where [::] is
// not bound).
func dualStack(lines ...string) []string {
	if !hostIPv6() {
		return nil
	}
	return lines
}

// freePortPair is a port p such that p and p+1 are free on 0.0.0.0 and [::].
func freePortPair(t *testing.T) int {
	t.Helper()
	free := func(port int) bool {
		for _, nw := range []string{"tcp4", "tcp6"} {
			host := "0.0.0.0"
			if nw == "tcp6" {
				if !hostIPv6() {
					continue
				}
				host = "::"
			}
			ln, err := net.Listen(nw, net.JoinHostPort(host, strconv.Itoa(port)))
			if err != nil {
				return false
			}
			ln.Close()
		}
		return true
	}
	for range 50 {
		if p := freePort(t); p < 65535 && free(p) && free(p+1) {
			return p
		}
	}
	t.Fatal("no two adjacent free ports")
	return 0
}

// TestRunPublishRanges: -p with port ranges, as Docker: a range to a range
// maps port to port; a host range to one container port takes its first
// free port; ranges of different lengths are refused.
func TestRunPublishRanges(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		lo := freePortPair(t)
		a, b := strconv.Itoa(lo), strconv.Itoa(lo+1)
		env.mustRun("run", "-d", "--name", "two", "-p", a+"-"+b+":80-81", "busybox", "sh", "-c",
			"nc -ll -p 80 -e echo eighty & nc -ll -p 81 -e echo eighty-one & wait")
		expectAnswer(t, "127.0.0.1:"+a, "eighty\n")
		expectAnswer(t, "127.0.0.1:"+b, "eighty-one\n")
		want := append(append([]string{"80/tcp -> 0.0.0.0:" + a}, dualStack("80/tcp -> [::]:"+a)...),
			append([]string{"81/tcp -> 0.0.0.0:" + b}, dualStack("81/tcp -> [::]:"+b)...)...)
		if got := strings.TrimSpace(env.mustRun("port", "two")); got != strings.Join(want, "\n") {
			t.Errorf("port two = %q, want %q", got, want)
		}
		want = append(append([]string{"0.0.0.0:" + a + "->80/tcp"}, dualStack("[::]:"+a+"->80/tcp")...),
			append([]string{"0.0.0.0:" + b + "->81/tcp"}, dualStack("[::]:"+b+"->81/tcp")...)...)
		if got := strings.TrimSpace(env.mustRun("ps", "--format", "{{.Ports}}", "-f", "name=two")); got != strings.Join(want, ", ") {
			t.Errorf("ps PORTS = %q, want %q", got, strings.Join(want, ", "))
		}
		env.mustRun("rm", "-f", "two")

		// The range's first port is taken (on 0.0.0.0): the next one serves.
		hold, err := net.Listen("tcp4", "0.0.0.0:"+a)
		if err != nil {
			t.Fatal(err)
		}
		defer hold.Close()
		env.mustRun(append([]string{"run", "-d", "--name", "pick", "-p", a + "-" + b + ":80"}, echoServer...)...)
		want = append([]string{"0.0.0.0:" + b}, dualStack("[::]:"+b)...)
		if got := strings.TrimSpace(env.mustRun("port", "pick", "80")); got != strings.Join(want, "\n") {
			t.Errorf("port pick 80 = %q, want %q", got, want)
		}
		expectAnswer(t, "127.0.0.1:"+b, "hello\n")
		wantBinding := `{"80/tcp":[{"HostIp":"","HostPort":"` + a + "-" + b + `"}]}`
		if got := strings.TrimSpace(env.mustRun("inspect", "-f", "{{json .HostConfig.PortBindings}}", "pick")); got != wantBinding {
			t.Errorf("HostConfig.PortBindings = %s, want %s", got, wantBinding)
		}
		res := env.mustFail(125, "run", "-d", "--name", "full", "-p", a+"-"+b+":80", "busybox", "sleep", "100")
		if want := "Bind for 0.0.0.0:" + a + "-" + b + " failed: port is already allocated"; !strings.Contains(res.Stderr, want) {
			t.Errorf("all ports taken: %q, want %q", res.Stderr, want)
		}
		env.mustRun("rm", "-f", "pick", "full")

		res = env.mustFail(125, "run", "--rm", "-p", "8080-8082:80-81", "busybox", "true")
		if want := "invalid ranges specified for container and host Ports: 80-81 and 8080-8082"; !strings.Contains(res.Stderr, want) {
			t.Errorf("mismatched ranges: %q, want %q", res.Stderr, want)
		}

		// The host network has nothing to publish: Docker warns and runs.
		res = env.run("run", "--rm", "--network", "host", "-p", a+":80", "busybox", "true")
		if want := "WARNING: Published ports are discarded when using host network mode"; res.Code != 0 || !strings.Contains(res.Stderr, want) {
			t.Errorf("-p with --network host: %s, want exit 0 and %q", res, want)
		}
	})
}

// TestRunPublishIPv6: [::1] binds only there; no address binds 0.0.0.0
// and [::] on the same port, as Docker's default.
func TestRunPublishIPv6(t *testing.T) {
	if !hostIPv6() {
		t.Skip("no IPv6 on this host")
	}
	forEachMode(t, func(t *testing.T, env *Env) {
		port := strconv.Itoa(freePort(t))
		env.mustRun(append([]string{"run", "-d", "--name", "v6", "-p", "[::1]:" + port + ":80"}, echoServer...)...)
		expectAnswer(t, "[::1]:"+port, "hello\n")
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			t.Errorf("127.0.0.1:%s accepts, though only [::1] is published", port)
		}
		if got, want := strings.TrimSpace(env.mustRun("port", "v6")), "80/tcp -> [::1]:"+port; got != want {
			t.Errorf("port v6 = %q, want %q", got, want)
		}
		if got, want := strings.TrimSpace(env.mustRun("ps", "--format", "{{.Ports}}", "-f", "name=v6")), "[::1]:"+port+"->80/tcp"; got != want {
			t.Errorf("ps PORTS = %q, want %q", got, want)
		}
		env.mustRun("rm", "-f", "v6")

		port = strconv.Itoa(freePort(t))
		env.mustRun(append([]string{"run", "-d", "--name", "both", "-p", port + ":80"}, echoServer...)...)
		expectAnswer(t, "127.0.0.1:"+port, "hello\n")
		expectAnswer(t, "[::1]:"+port, "hello\n")
		want := `{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"` + port + `"},{"HostIp":"::","HostPort":"` + port + `"}]}`
		if got := strings.TrimSpace(env.mustRun("inspect", "-f", "{{json .NetworkSettings.Ports}}", "both")); got != want {
			t.Errorf("NetworkSettings.Ports = %s, want %s", got, want)
		}
		if got, want := strings.TrimSpace(env.mustRun("ps", "--format", "{{.Ports}}", "-f", "name=both")), "0.0.0.0:"+port+"->80/tcp, [::]:"+port+"->80/tcp"; got != want {
			t.Errorf("ps PORTS = %q, want %q", got, want)
		}
		env.mustRun("rm", "-f", "both")
	})
}
