package main

// Published ports as the docker CLI shows them: `port` and ps's PORTS
// column (docker/cli's formatter.DisplayablePorts).

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/fvbommel/sortorder"
	"github.com/urfave/cli/v2"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/engine"
	"github.com/skiff-dev/skiff/store"
)

func portCommand() *cli.Command {
	return &cli.Command{
		Name:      "port",
		Usage:     "List port mappings or a specific mapping for the container",
		ArgsUsage: "CONTAINER [PRIVATE_PORT[/PROTO]]",
		Action: engineAction(1, false, func(c *cli.Context, e *engine.Engine) error {
			if c.NArg() > 2 {
				return imgArgsError(c, "at least 1 and at most 2 arguments")
			}
			ctr, err := e.LookupContainer(c.Args().First())
			if err != nil {
				return daemonErr(err)
			}
			lines, err := portLines(ctr.PublishedPorts(), c.Args().Get(1))
			if err != nil {
				return &engine.ExitError{Code: 1, Message: fmt.Sprintf("%v for %s", err, c.Args().First())}
			}
			if len(lines) > 0 {
				fmt.Fprintln(c.App.Writer, strings.Join(lines, "\n"))
			}
			return nil
		}),
	}
}

// portLines is `port`'s output: "80/tcp -> 0.0.0.0:8080" for every
// binding, or only "0.0.0.0:8080" of the one port asked ("80" is
// 80/tcp), in natural order as Docker sorts them.
func portLines(published map[string][]container.PortBinding, want string) ([]string, error) {
	var out []string
	if want != "" {
		key := want
		if !strings.Contains(key, "/") {
			key += "/tcp"
		}
		for _, b := range published[strings.ToLower(key)] {
			out = append(out, net.JoinHostPort(b.HostIP, b.HostPort))
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no public port '%s' published", want)
		}
	} else {
		for p, bs := range published {
			for _, b := range bs {
				out = append(out, fmt.Sprintf("%s -> %s", p, net.JoinHostPort(b.HostIP, b.HostPort)))
			}
		}
	}
	slices.SortFunc(out, sortorder.NaturalCompare)
	return out, nil
}

// portSummary is one row of Docker's API port list: a published binding,
// or an exposed port with no IP.
type portSummary struct {
	ip              netip.Addr
	private, public uint16
	proto           string
}

// ctrPortsString is ps's PORTS: "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp,
// 443/tcp". Like Docker, a stopped container shows none.
func ctrPortsString(c *container.Container) string {
	if !c.IsRunning() {
		return ""
	}
	var ports []portSummary
	published := c.PublishedPorts()
	for key, bs := range published {
		for _, b := range bs {
			s := keySummary(key)
			s.ip, _ = netip.ParseAddr(b.HostIP)
			if s.ip.IsValid() && s.ip.Is4In6() {
				s.ip = s.ip.Unmap()
			}
			n, _ := strconv.ParseUint(b.HostPort, 10, 16)
			s.public = uint16(n)
			ports = append(ports, s)
		}
	}
	for key := range c.Config.ExposedPorts {
		if _, ok := published[key]; !ok {
			ports = append(ports, keySummary(key))
		}
	}
	return displayablePorts(ports)
}

func keySummary(key string) portSummary {
	port, proto, _ := strings.Cut(key, "/")
	n, _ := strconv.ParseUint(port, 10, 16)
	if proto == "" {
		proto = "tcp"
	}
	return portSummary{private: uint16(n), proto: proto}
}

// displayablePorts is docker/cli's formatter.DisplayablePorts: ports
// mapped to the same number are grouped into ranges per IP and protocol
// ("0.0.0.0:8080-8081->8080-8081/tcp", "80-81/tcp"), the others listed
// one by one after them.
func displayablePorts(ports []portSummary) string {
	type portGroup struct{ first, last uint16 }
	groups := map[string]*portGroup{}
	var result, hostMappings, groupKeys []string
	slices.SortFunc(ports, func(a, b portSummary) int {
		return cmp.Or(cmp.Compare(a.private, b.private), a.ip.Compare(b.ip),
			cmp.Compare(a.public, b.public), cmp.Compare(a.proto, b.proto))
	})
	for _, p := range ports {
		key := p.proto
		if p.ip.IsValid() {
			if p.public != p.private {
				hostMappings = append(hostMappings, fmt.Sprintf("%s->%d/%s",
					net.JoinHostPort(p.ip.String(), strconv.Itoa(int(p.public))), p.private, p.proto))
				continue
			}
			key = p.ip.String() + "/" + p.proto
		}
		g := groups[key]
		if g == nil {
			groups[key] = &portGroup{p.private, p.private}
			groupKeys = append(groupKeys, key)
			continue
		}
		if p.private == g.last+1 {
			g.last = p.private
			continue
		}
		result = append(result, formPortGroup(key, g.first, g.last))
		groups[key] = &portGroup{p.private, p.private}
	}
	for _, key := range groupKeys {
		g := groups[key]
		result = append(result, formPortGroup(key, g.first, g.last))
	}
	return strings.Join(append(result, hostMappings...), ", ")
}

func formPortGroup(key string, first, last uint16) string {
	ip, proto, ok := strings.Cut(key, "/")
	if !ok {
		ip, proto = "", key
	}
	group := strconv.Itoa(int(first))
	if first != last {
		group += "-" + strconv.Itoa(int(last))
	}
	if ip != "" {
		group = net.JoinHostPort(ip, group) + "->" + group
	}
	return group + "/" + proto
}

// ctrPorts records -p and --expose (Docker's syntax: container/ports_spec.go).
func ctrPorts(o *engine.CreateOptions, publish, expose []string) error {
	exposed, bindings, err := container.ParsePublish(publish, expose)
	if err != nil {
		return store.Invalid("%v", err)
	}
	for p := range exposed {
		if o.Config.ExposedPorts == nil {
			o.Config.ExposedPorts = map[string]struct{}{}
		}
		o.Config.ExposedPorts[p] = struct{}{}
	}
	for p, bs := range bindings {
		if o.HostConfig.PortBindings == nil {
			o.HostConfig.PortBindings = map[string][]container.PortBinding{}
		}
		o.HostConfig.PortBindings[p] = append(o.HostConfig.PortBindings[p], bs...)
	}
	return nil
}

// ctrPortsWarning is dockerd's warning for -p with --network host.
func ctrPortsWarning(c *cli.Context, h *container.HostConfig) {
	if h.NetworkMode == "host" && len(h.PortBindings) > 0 {
		fmt.Fprintln(c.App.ErrWriter, "WARNING: Published ports are discarded when using host network mode")
	}
}
