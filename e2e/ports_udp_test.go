package e2e

// Published UDP ports: the supervisor's per-client UDP relay, in every
// mode. The busybox fixture has no UDP server, so the udpecho image adds
// a tiny static one (built here, like hello-world's binary).

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// udpEchoSrc answers each datagram with "echo " and the datagram.
const udpEchoSrc = `package main

import (
	"net"
	"os"
)

func main() {
	pc, err := net.ListenPacket("udp", ":"+os.Args[1])
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err == nil {
			pc.WriteTo(append([]byte("echo "), buf[:n]...), from)
		}
	}
}
`

var (
	udpEchoOnce sync.Once
	udpEchoErr  error
)

// udpEchoImage pushes library/udpecho:latest (busybox and /udpecho, whose
// command is `/udpecho 53`) once per suite.
func udpEchoImage(t *testing.T) {
	t.Helper()
	udpEchoOnce.Do(func() {
		path, err := buildProgram("udpecho", udpEchoSrc)
		if err != nil {
			udpEchoErr = err
			return
		}
		bin, err := os.ReadFile(path)
		if err != nil {
			udpEchoErr = err
			return
		}
		img := buildImage(false, runtime.GOARCH, []string{"/udpecho", "53"},
			step{fx.busyboxLayer, "ADD busybox-rootfs.tar / # e2e"},
			step{dockerLayer(entry{name: "udpecho", typ: '0', mode: 0o755, body: bin}), "COPY udpecho / # e2e"})
		udpEchoErr = reg.push("library/udpecho:latest", img)
	})
	if udpEchoErr != nil {
		t.Fatal(udpEchoErr)
	}
}

// freeUDPPort is a UDP port on 127.0.0.1 that nothing listens on right now.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// udpAsk sends msg to addr from a new client socket until an answer comes
// (the server may start a moment after run -d returns) and returns it.
func udpAsk(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1500)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		c.Write([]byte(msg))
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if n, err := c.Read(buf); err == nil {
			return string(buf[:n])
		}
	}
	t.Fatalf("no UDP answer from %s", addr)
	return ""
}

func TestRunPublishUDP(t *testing.T) {
	udpEchoImage(t)
	forEachMode(t, func(t *testing.T, env *Env) {
		port := freeUDPPort(t)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		env.mustRun("run", "-d", "--name", "dns", "-p", addr+":53/udp", "udpecho")
		if got := udpAsk(t, addr, "one"); got != "echo one" {
			t.Errorf("answer %q, want %q", got, "echo one")
		}
		// Another client gets its own flow, and its own answers.
		if got := udpAsk(t, addr, "two"); got != "echo two" {
			t.Errorf("second client: answer %q", got)
		}
		if got, want := strings.TrimSpace(env.mustRun("port", "dns")), "53/udp -> "+addr; got != want {
			t.Errorf("port dns = %q, want %q", got, want)
		}
		if got, want := strings.TrimSpace(env.mustRun("port", "dns", "53/udp")), addr; got != want {
			t.Errorf("port dns 53/udp = %q, want %q", got, want)
		}
		res := env.mustFail(1, "port", "dns", "53")
		if want := "no public port '53' published for dns"; !strings.Contains(res.Stderr, want) {
			t.Errorf("port dns 53 (tcp): %q, want %q", res.Stderr, want)
		}
		if got, want := strings.TrimSpace(env.mustRun("ps", "--format", "{{.Ports}}", "-f", "name=dns")), addr+"->53/udp"; got != want {
			t.Errorf("ps PORTS = %q, want %q", got, want)
		}
		env.mustRun("rm", "-f", "dns")

		// Without an address: 0.0.0.0 and [::], the same port, and -P
		// publishes the image's exposed UDP port too.
		port = freeUDPPort(t)
		env.mustRun("run", "-d", "--name", "dual", "-p", fmt.Sprintf("%d:53/udp", port), "--expose", "54/udp", "-P", "udpecho")
		if got := udpAsk(t, fmt.Sprintf("127.0.0.1:%d", port), "v4"); got != "echo v4" {
			t.Errorf("v4 answer %q", got)
		}
		lines := strings.Split(strings.TrimSpace(env.mustRun("port", "dual")), "\n")
		want := []string{fmt.Sprintf("53/udp -> 0.0.0.0:%d", port)}
		if hostIPv6() {
			want = append(want, fmt.Sprintf("53/udp -> [::]:%d", port))
			if got := udpAsk(t, fmt.Sprintf("[::1]:%d", port), "v6"); got != "echo v6" {
				t.Errorf("v6 answer %q", got)
			}
		}
		if len(lines) != 2*len(want) || strings.Join(lines[:len(want)], "\n") != strings.Join(want, "\n") ||
			!strings.HasPrefix(lines[len(want)], "54/udp -> 0.0.0.0:") {
			t.Errorf("port dual = %q, want %q, then 54/udp on a random port", lines, want)
		}
		env.mustRun("rm", "-f", "dual")

		if env.Mode != "root" {
			// Rootless with slirp4netns instead of pasta: the same relay.
			env.Vars = []string{"SKIFF_ROOTLESS_NETWORK_CMD=slirp4netns"}
			port = freeUDPPort(t)
			addr = fmt.Sprintf("127.0.0.1:%d", port)
			env.mustRun("run", "-d", "--name", "slirp", "-p", addr+":53/udp", "udpecho")
			if got := udpAsk(t, addr, "slirp"); got != "echo slirp" {
				t.Errorf("slirp4netns: answer %q", got)
			}
			env.mustRun("rm", "-f", "slirp")
		}
	})
}

// hostIPv6 reports whether this host can bind [::1].
func hostIPv6() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}
