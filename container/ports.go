package container

// Published ports (-p, -P) without a daemon, as Docker's docker-proxy and
// rootlesskit's builtin port driver: the supervisor listens on the host
// address and port, and relays every accepted TCP connection (and every
// UDP client's datagrams, ports_udp.go) to the port on 127.0.0.1 inside
// the container's network namespace (ports_linux.go dials there). The
// same path serves root and rootless (with or without pasta): a rootless
// supervisor shares the container's user namespace, so it may enter the
// container's network namespace, while its listeners stay in the host's.
// As dockerd, a port published without a host address is bound on both
// 0.0.0.0 and [::] (the same port; [::] is skipped on a host without
// IPv6). SCTP is not relayed: -p .../sctp fails the start rather than
// publishing nothing, and -P leaves exposed SCTP ports out.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/docker/go-connections/nat"
)

// portListener is one host-side socket and the container port it serves.
type portListener struct {
	key     string // "80/tcp"
	ctrPort string // "80"
	bound   PortBinding
	ln      net.Listener // tcp
	pc      *net.UDPConn // udp
}

func (l portListener) close() {
	if l.ln != nil {
		l.ln.Close()
	}
	if l.pc != nil {
		l.pc.Close()
	}
}

// portProxy is a container's published ports, owned by its supervisor.
type portProxy struct {
	lns []portListener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	dialer *netnsDialer
}

// PublishedPorts is where the container's ports are bound on the host
// while it runs (Docker's NetworkSettings.Ports); nil when it is not running.
func (c *Container) PublishedPorts() map[string][]PortBinding {
	if !c.IsRunning() {
		return nil
	}
	return c.State.Ports
}

// portRequest is one port to publish, from -p or from -P's exposed ports.
type portRequest struct {
	key, port, proto string
	bind             PortBinding // as asked: HostPort "", "N" or a range "N-M"
}

// portRequests lists what c publishes, in a stable order: -p bindings,
// then (with -P) every exposed port without one, on a random host port.
// On the host network or with none, nothing is published (Docker
// discards published ports with --network host).
func portRequests(c *Container) ([]portRequest, error) {
	if _, joined := joinedNetwork(c); joined || c.HostConfig.NetworkMode == "host" || c.HostConfig.NetworkMode == "none" {
		return nil, nil
	}
	keys := make([]string, 0, len(c.HostConfig.PortBindings))
	for k := range c.HostConfig.PortBindings {
		keys = append(keys, k)
	}
	if c.HostConfig.PublishAll {
		for k := range c.Config.ExposedPorts {
			// Exposed SCTP ports are left unpublished (no SCTP relay)
			// rather than failing every -P of such an image.
			if _, ok := c.HostConfig.PortBindings[k]; !ok && !strings.HasSuffix(k, "/sctp") {
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	var reqs []portRequest
	for _, k := range keys {
		port, proto, _ := strings.Cut(k, "/")
		if proto == "" {
			proto = "tcp"
		}
		if proto != "tcp" && proto != "udp" {
			return nil, &StartError{Code: 125, Msg: fmt.Sprintf("publishing %s: only tcp and udp ports can be published", k)}
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return nil, &StartError{Code: 125, Msg: fmt.Sprintf("publishing %s: invalid port", k)}
		}
		binds := c.HostConfig.PortBindings[k]
		if len(binds) == 0 {
			binds = []PortBinding{{}}
		}
		for _, b := range binds {
			reqs = append(reqs, portRequest{key: k, port: port, proto: proto, bind: b})
		}
	}
	return reqs, nil
}

// publishPorts binds the host side of every published port of c; nil when
// there is none. A port that cannot be bound fails the start (Docker's
// message, exit 125) and releases the ones already bound.
func publishPorts(c *Container) (*portProxy, error) {
	reqs, err := portRequests(c)
	if err != nil || len(reqs) == 0 {
		return nil, err
	}
	p := &portProxy{conns: map[net.Conn]struct{}{}}
	for _, r := range reqs {
		lns, err := bindRequest(r)
		if err != nil {
			p.close()
			return nil, err
		}
		p.lns = append(p.lns, lns...)
	}
	return p, nil
}

// randomTries bounds the search for a random port free on both 0.0.0.0
// and [::]: the kernel picks one for the first, the second may have it taken.
const randomTries = 8

// bindRequest binds one request on each of its host addresses, on the
// same port: the one asked, the first free one of a host range, or a
// random one.
func bindRequest(r portRequest) ([]portListener, error) {
	ips, implicit := []string{r.bind.HostIP}, r.bind.HostIP == ""
	if implicit {
		ips = []string{"0.0.0.0", "::"}
	}
	lo, hi, err := nat.ParsePortRangeToInt(r.bind.HostPort)
	if err != nil {
		return nil, &StartError{Code: 125, Msg: fmt.Sprintf("publishing %s: invalid host port %q: %v", r.key, r.bind.HostPort, err)}
	}
	var lns []portListener
	if lo == 0 {
		for range randomTries {
			if lns, err = bindAll(r, ips, implicit, 0); !errors.Is(err, syscall.EADDRINUSE) {
				break
			}
		}
	} else {
		for port := lo; port <= hi; port++ {
			if lns, err = bindAll(r, ips, implicit, port); !errors.Is(err, syscall.EADDRINUSE) {
				break
			}
		}
	}
	if err != nil {
		var be *bindErr
		if errors.As(err, &be) && lo != hi {
			be.port = r.bind.HostPort // the whole range is taken
		}
		return nil, &StartError{Code: 125, Msg: err.Error()}
	}
	return lns, nil
}

// bindAll binds port (0: any, then the same for the other addresses) on
// every address of ips, or none of them. An implicit [::] is left out
// where the host has no IPv6.
func bindAll(r portRequest, ips []string, implicit bool, port int) ([]portListener, error) {
	var lns []portListener
	for _, ip := range ips {
		l, err := listenPort(r, ip, port)
		if err != nil {
			if implicit && ip == "::" && noIPv6(err) {
				continue
			}
			for _, l := range lns {
				l.close()
			}
			return nil, &bindErr{ip: ip, port: strconv.Itoa(port), err: err}
		}
		lns = append(lns, l)
		port, _ = strconv.Atoi(l.bound.HostPort)
	}
	return lns, nil
}

// listenPort opens the host socket for r on ip:port. An IPv6 socket is
// v6-only (tcp6/udp6), so it and the IPv4 one can share the port.
func listenPort(r portRequest, ip string, port int) (portListener, error) {
	family := "6"
	if parsed := net.ParseIP(ip); parsed != nil && parsed.To4() != nil {
		family = "4"
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	l := portListener{key: r.key, ctrPort: r.port}
	var local net.Addr
	if r.proto == "udp" {
		pc, err := net.ListenPacket("udp"+family, addr)
		if err != nil {
			return l, err
		}
		l.pc, local = pc.(*net.UDPConn), pc.LocalAddr()
	} else {
		ln, err := net.Listen("tcp"+family, addr)
		if err != nil {
			return l, err
		}
		l.ln, local = ln, ln.Addr()
	}
	_, got, _ := net.SplitHostPort(local.String())
	l.bound = PortBinding{HostIP: ip, HostPort: got}
	return l, nil
}

// noIPv6 is a bind error that means the host has no IPv6 to bind.
func noIPv6(err error) bool {
	return errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EADDRNOTAVAIL) ||
		errors.Is(err, syscall.EPROTONOSUPPORT)
}

// bindErr is Docker's wording for a host port that cannot be bound.
type bindErr struct {
	ip, port string
	err      error
}

func (e *bindErr) Error() string {
	if errors.Is(e.err, syscall.EADDRINUSE) {
		return fmt.Sprintf("driver failed programming external connectivity: Bind for %s failed: port is already allocated", net.JoinHostPort(e.ip, e.port))
	}
	return fmt.Sprintf("driver failed programming external connectivity: Error starting userland proxy: %v", e.err)
}

func (e *bindErr) Unwrap() error { return e.err }

// bound is the record's State.Ports: where each container port is published.
func (p *portProxy) bound() map[string][]PortBinding {
	if p == nil {
		return nil
	}
	m := map[string][]PortBinding{}
	for _, l := range p.lns {
		m[l.key] = append(m[l.key], l.bound)
	}
	return m
}

// serve starts relaying connections into the network namespace of the
// container's process pid.
func (p *portProxy) serve(pid int) error {
	if p == nil {
		return nil
	}
	d, err := newNetnsDialer(pid)
	if err != nil {
		return fmt.Errorf("publish ports: %w", err)
	}
	p.mu.Lock()
	p.dialer = d
	p.mu.Unlock()
	for _, l := range p.lns {
		if l.pc != nil {
			go p.serveUDP(l)
		} else {
			go p.accept(l)
		}
	}
	return nil
}

func (p *portProxy) accept(l portListener) {
	addr := net.JoinHostPort("127.0.0.1", l.ctrPort)
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. EMFILE: the next connection may fare better
		}
		go p.relay(conn, addr)
	}
}

// relay copies one connection both ways; each side's EOF is passed on as
// a half close, so request/response protocols see the end of input.
func (p *portProxy) relay(client net.Conn, addr string) {
	if !p.track(client) {
		client.Close()
		return
	}
	defer p.untrack(client)
	ctr, err := p.dialer.dial("tcp", addr)
	if err != nil {
		return // nothing listens in the container: the client sees a close
	}
	if !p.track(ctr) {
		ctr.Close()
		return
	}
	defer p.untrack(ctr)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pipe(ctr, client) }()
	go func() { defer wg.Done(); pipe(client, ctr) }()
	wg.Wait()
}

func pipe(dst, src net.Conn) {
	io.Copy(dst, src)
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	} else {
		dst.Close()
	}
}

func (p *portProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *portProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// close stops publishing: listeners, open connections and the dialer.
func (p *portProxy) close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	conns := p.conns
	p.conns = map[net.Conn]struct{}{}
	d := p.dialer
	p.mu.Unlock()
	for _, l := range p.lns {
		l.close()
	}
	for c := range conns {
		c.Close()
	}
	if d != nil {
		d.close()
	}
}
