package container

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"
)

func TestPortRequests(t *testing.T) {
	b := func(ip, port string) PortBinding { return PortBinding{HostIP: ip, HostPort: port} }
	tests := []struct {
		name    string
		host    HostConfig
		exposed []string
		want    []string // key host-ip host-port
		err     bool
	}{
		{name: "none"},
		{name: "exposed only", exposed: []string{"80/tcp"}},
		{name: "ip and port", host: HostConfig{PortBindings: map[string][]PortBinding{"80/tcp": {b("127.0.0.1", "8080")}}},
			want: []string{"80/tcp 127.0.0.1 8080"}},
		{name: "random, two bindings", host: HostConfig{PortBindings: map[string][]PortBinding{"80/tcp": {b("", ""), b("", "9000")}}},
			want: []string{"80/tcp  ", "80/tcp  9000"}},
		{name: "publish all adds unbound exposed", host: HostConfig{PublishAll: true, PortBindings: map[string][]PortBinding{"80/tcp": {b("", "8080")}}},
			exposed: []string{"80/tcp", "443/tcp", "53/udp", "9/sctp"}, want: []string{"443/tcp  ", "53/udp  ", "80/tcp  8080"}},
		{name: "udp and a host range", host: HostConfig{PortBindings: map[string][]PortBinding{"53/udp": {b("", "5353")}, "80/tcp": {b("::1", "8080-8081")}}},
			want: []string{"53/udp  5353", "80/tcp ::1 8080-8081"}},
		{name: "host network discards", host: HostConfig{NetworkMode: "host", PortBindings: map[string][]PortBinding{"80/tcp": {b("", "8080")}}}},
		{name: "sctp refused", host: HostConfig{PortBindings: map[string][]PortBinding{"53/sctp": {b("", "53")}}}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Container{HostConfig: tt.host}
			for _, p := range tt.exposed {
				if c.Config.ExposedPorts == nil {
					c.Config.ExposedPorts = map[string]struct{}{}
				}
				c.Config.ExposedPorts[p] = struct{}{}
			}
			reqs, err := portRequests(c)
			var se *StartError
			if tt.err {
				if !errors.As(err, &se) || se.Code != 125 {
					t.Fatalf("err = %v, want a 125 StartError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range reqs {
				got = append(got, r.key+" "+r.bind.HostIP+" "+r.bind.HostPort)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPublishPortsInUse: a taken host port fails with Docker's message and
// releases what was already bound.
func TestPublishPortsInUse(t *testing.T) {
	c := &Container{HostConfig: HostConfig{PortBindings: map[string][]PortBinding{"80/tcp": {{HostIP: "127.0.0.1"}}}}}
	p, err := publishPorts(c)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	taken := p.bound()["80/tcp"][0]
	c.HostConfig.PortBindings = map[string][]PortBinding{"80/tcp": {{HostIP: "127.0.0.1"}}, "81/tcp": {taken}}
	_, err = publishPorts(c)
	want := "driver failed programming external connectivity: Bind for 127.0.0.1:" + taken.HostPort + " failed: port is already allocated"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

// publishTest binds c's ports and returns them as "key ip port" lines.
func publishTest(t *testing.T, c *Container) (*portProxy, []string) {
	t.Helper()
	p, err := publishPorts(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	var got []string
	for _, l := range p.lns {
		got = append(got, l.key+" "+l.bound.HostIP+" "+l.bound.HostPort)
	}
	return p, got
}

// hasIPv6 reports whether this host can bind [::1].
func hasIPv6() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// TestPublishPortsDualStack: no host address binds 0.0.0.0 and [::] on
// the same port, random or not, TCP and UDP alike; an address binds only it.
func TestPublishPortsDualStack(t *testing.T) {
	if !hasIPv6() {
		t.Skip("no IPv6 on this host")
	}
	c := &Container{HostConfig: HostConfig{PortBindings: map[string][]PortBinding{
		"80/tcp": {{}}, "53/udp": {{}}, "81/tcp": {{HostIP: "::1"}}, "82/tcp": {{HostIP: "127.0.0.1"}}}}}
	p, got := publishTest(t, c)
	if len(got) != 6 {
		t.Fatalf("bound %q, want 6 sockets", got)
	}
	m := p.bound()
	for _, key := range []string{"80/tcp", "53/udp"} {
		bs := m[key]
		if len(bs) != 2 || bs[0].HostIP != "0.0.0.0" || bs[1].HostIP != "::" || bs[0].HostPort != bs[1].HostPort {
			t.Errorf("%s bound %v, want 0.0.0.0 and :: on one port", key, bs)
		}
	}
	if bs := m["81/tcp"]; len(bs) != 1 || bs[0].HostIP != "::1" {
		t.Errorf("81/tcp bound %v, want ::1 only", bs)
	}
	if bs := m["82/tcp"]; len(bs) != 1 || bs[0].HostIP != "127.0.0.1" {
		t.Errorf("82/tcp bound %v, want 127.0.0.1 only", bs)
	}
}

// TestPublishPortsHostRange: a host range for one container port takes its
// first free port, and fails naming the range when all are taken; a range
// to a range maps port to port.
func TestPublishPortsHostRange(t *testing.T) {
	// Two adjacent free ports: take a random one and hope its neighbour is
	// free too (retry a few times).
	var lo int
	var first net.Listener
	for range 20 {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		if next, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+1))); err == nil && port < 65535 {
			next.Close()
			lo, first = port, ln
			break
		}
		ln.Close()
	}
	if first == nil {
		t.Skip("no two adjacent free ports")
	}
	defer first.Close()
	rng := fmt.Sprintf("%d-%d", lo, lo+1)
	c := &Container{HostConfig: HostConfig{PortBindings: map[string][]PortBinding{"80/tcp": {{HostIP: "127.0.0.1", HostPort: rng}}}}}
	_, got := publishTest(t, c)
	if want := []string{fmt.Sprintf("80/tcp 127.0.0.1 %d", lo+1)}; !reflect.DeepEqual(got, want) {
		t.Fatalf("bound %q, want %q (the first port is taken)", got, want)
	}
	_, err := publishPorts(c)
	want := "driver failed programming external connectivity: Bind for 127.0.0.1:" + rng + " failed: port is already allocated"
	if err == nil || err.Error() != want {
		t.Fatalf("all taken: err = %v, want %q", err, want)
	}
}

// TestPortProxyRelays: TCP and UDP reach a server through the proxy
// (entering this process's own network namespace), and an idle UDP flow
// is forgotten.
func TestPortProxyRelays(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("entering a network namespace needs root")
	}
	tcpSrv, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcpSrv.Close()
	go func() {
		for {
			c, err := tcpSrv.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "hello\n")
			c.Close()
		}
	}()
	// The UDP server listens on the TCP server's port number, so one
	// container port serves both.
	port := tcpSrv.Addr().(*net.TCPAddr).Port
	udpSrv, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Skip("udp port taken:", err)
	}
	defer udpSrv.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := udpSrv.ReadFrom(buf)
			if err != nil {
				return
			}
			udpSrv.WriteTo(append([]byte("echo "), buf[:n]...), from)
		}
	}()
	defer func(d time.Duration) { udpIdleTimeout = d }(udpIdleTimeout)
	udpIdleTimeout = 300 * time.Millisecond

	key := strconv.Itoa(port)
	c := &Container{HostConfig: HostConfig{PortBindings: map[string][]PortBinding{
		key + "/tcp": {{HostIP: "127.0.0.1"}}, key + "/udp": {{HostIP: "127.0.0.1"}}}}}
	p, _ := publishTest(t, c)
	if err := p.serve(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	m := p.bound()

	conn, err := net.Dial("tcp4", net.JoinHostPort("127.0.0.1", m[key+"/tcp"][0].HostPort))
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(conn); err != nil || string(b) != "hello\n" {
		t.Errorf("tcp: %q, %v", b, err)
	}
	conn.Close()

	uc, err := net.Dial("udp4", net.JoinHostPort("127.0.0.1", m[key+"/udp"][0].HostPort))
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	buf := make([]byte, 100)
	for _, msg := range []string{"one", "two"} {
		uc.Write([]byte(msg))
		uc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := uc.Read(buf)
		if err != nil || string(buf[:n]) != "echo "+msg {
			t.Fatalf("udp %s: %q, %v", msg, buf[:n], err)
		}
	}
	flows := func() int { // UDP sockets only: the TCP relay may still be closing
		p.mu.Lock()
		defer p.mu.Unlock()
		n := 0
		for c := range p.conns {
			if _, ok := c.(*net.UDPConn); ok {
				n++
			}
		}
		return n
	}
	if n := flows(); n != 1 {
		t.Errorf("%d UDP flows after two datagrams from one client, want 1", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for flows() != 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := flows(); n != 0 {
		t.Errorf("%d UDP flows left after the idle timeout", n)
	}
	// A client after the timeout gets a new flow.
	uc.Write([]byte("three"))
	uc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := uc.Read(buf); err != nil || string(buf[:n]) != "echo three" {
		t.Errorf("udp after idle: %q, %v", buf[:n], err)
	}
}
