package container

// The UDP side of published ports, as docker-proxy's UDP proxy: UDP has
// no connections, so each client address gets its own socket connected
// to the container port (inside its network namespace), whose replies go
// back to that client from the published socket. A flow that neither
// side used for udpIdleTimeout is forgotten.

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// udpIdleTimeout is docker-proxy's UDPConnTrackTimeout; a variable for tests.
var udpIdleTimeout = 90 * time.Second

const (
	udpBufSize  = 65507 // the largest UDP payload over IPv4
	maxUDPFlows = 1024  // per published socket: past it, new clients' datagrams are dropped
)

// udpFlows is one published UDP socket's clients.
type udpFlows struct {
	mu    sync.Mutex
	flows map[netip.AddrPort]net.Conn
}

// serveUDP relays the datagrams of l's clients until l is closed.
func (p *portProxy) serveUDP(l portListener) {
	addr := net.JoinHostPort("127.0.0.1", l.ctrPort)
	f := &udpFlows{flows: map[netip.AddrPort]net.Conn{}}
	buf := make([]byte, udpBufSize)
	for {
		n, from, err := l.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		ctr := f.get(from)
		if ctr == nil {
			if ctr = p.openFlow(l.pc, f, from, addr); ctr == nil {
				continue
			}
		}
		ctr.SetReadDeadline(time.Now().Add(udpIdleTimeout))
		// A refused write (nothing listens yet: an earlier datagram drew an
		// ICMP port unreachable) drops this datagram, as the network would.
		ctr.Write(buf[:n])
	}
}

func (f *udpFlows) get(from netip.AddrPort) net.Conn {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flows[from]
}

// openFlow connects a new client's socket to the container port and
// starts relaying its replies; nil when it cannot (the datagram is dropped).
func (p *portProxy) openFlow(pc *net.UDPConn, f *udpFlows, from netip.AddrPort, addr string) net.Conn {
	f.mu.Lock()
	full := len(f.flows) >= maxUDPFlows
	f.mu.Unlock()
	if full {
		return nil
	}
	ctr, err := p.dialer.dial("udp", addr)
	if err != nil {
		return nil
	}
	if !p.track(ctr) {
		ctr.Close()
		return nil
	}
	f.mu.Lock()
	f.flows[from] = ctr
	f.mu.Unlock()
	go p.udpReplies(pc, f, from, ctr)
	return ctr
}

// udpReplies sends what the container answers on ctr back to the client,
// until the flow has been idle for udpIdleTimeout or the proxy closes.
func (p *portProxy) udpReplies(pc *net.UDPConn, f *udpFlows, client netip.AddrPort, ctr net.Conn) {
	defer p.untrack(ctr) // after the flow is forgotten: a new datagram opens a new one
	defer func() {
		f.mu.Lock()
		delete(f.flows, client)
		f.mu.Unlock()
	}()
	buf := make([]byte, udpBufSize)
	for {
		n, err := ctr.Read(buf)
		if err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				continue // nothing listened for a datagram: the client may retry until idle
			}
			return // idle (deadline), or closed
		}
		ctr.SetReadDeadline(time.Now().Add(udpIdleTimeout))
		pc.WriteToUDPAddrPort(buf[:n], client)
	}
}
