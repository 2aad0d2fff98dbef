package container

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// netnsDialer dials TCP and UDP from inside a container's network
// namespace. A network namespace is per thread: one goroutine, locked to
// its thread for good, enters the namespace and makes every socket there;
// a socket keeps its namespace, so it is then used from any thread.
// The thread never leaves (a rootless process could not re-enter the
// host's namespace): when the dialer closes, its goroutine returns still
// locked and the runtime ends the thread.
type netnsDialer struct {
	reqs chan dialReq
	done chan struct{}
}

type dialReq struct {
	network, addr string
	res           chan dialRes
}

type dialRes struct {
	conn net.Conn
	err  error
}

// dialTimeout bounds a dial to a container port whose backlog is full.
const dialTimeout = 10 * time.Second

// newNetnsDialer enters the network namespace of process pid.
func newNetnsDialer(pid int) (*netnsDialer, error) {
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return nil, err
	}
	d := &netnsDialer{reqs: make(chan dialReq), done: make(chan struct{})}
	entered := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see netnsDialer
		err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET)
		ns.Close()
		entered <- err
		if err != nil {
			return
		}
		for {
			select {
			case r := <-d.reqs:
				c, err := net.DialTimeout(r.network, r.addr, dialTimeout)
				r.res <- dialRes{c, err}
			case <-d.done:
				return
			}
		}
	}()
	if err := <-entered; err != nil {
		return nil, fmt.Errorf("enter network namespace of %d: %w", pid, err)
	}
	return d, nil
}

var errDialerClosed = errors.New("port proxy closed")

// dial connects to addr ("tcp" or "udp") inside the namespace.
func (d *netnsDialer) dial(network, addr string) (net.Conn, error) {
	r := dialReq{network: network, addr: addr, res: make(chan dialRes, 1)}
	select {
	case d.reqs <- r:
	case <-d.done:
		return nil, errDialerClosed
	}
	res := <-r.res
	return res.conn, res.err
}

func (d *netnsDialer) close() { close(d.done) }
