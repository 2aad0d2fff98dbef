package container

import (
	"fmt"
	"net"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/skiff-dev/skiff/store"
)

// ParseExtraHost reads --add-host HOST:IP (or HOST=IP) and returns it in
// the "host:ip" form inspect shows; "host-gateway" stands for the host's
// own address, as in Docker.
func ParseExtraHost(s string) (string, error) {
	host, ip, ok := strings.Cut(s, "=")
	if !ok {
		host, ip, ok = strings.Cut(s, ":")
	}
	host, ip = strings.TrimSpace(host), strings.Trim(strings.TrimSpace(ip), "[]")
	if !ok || host == "" || strings.ContainsAny(host, " \t") {
		return "", store.Invalid("invalid argument %q for \"--add-host\" flag: bad format for add-host: %q", s, s)
	}
	if ip != "host-gateway" && net.ParseIP(ip) == nil {
		return "", store.Invalid("invalid argument %q for \"--add-host\" flag: invalid IP address in add-host: %q", s, ip)
	}
	return host + ":" + ip, nil
}

// ValidateDNS checks --dns values are IP addresses, as Docker does.
func ValidateDNS(servers []string) error {
	for _, s := range servers {
		if net.ParseIP(s) == nil {
			return store.Invalid("invalid argument %q for \"--dns\" flag: %s is not an ip address", s, s)
		}
	}
	return nil
}

// ValidateModes checks --pid, --ipc and --uts: skiff makes a private
// namespace or shares the host's; joining another container's is not
// supported.
func ValidateModes(h *HostConfig, hostname string) error {
	for _, m := range []struct{ flag, val string }{{"pid", h.PidMode}, {"ipc", h.IpcMode}, {"uts", h.UTSMode}} {
		switch {
		case m.val == "" || m.val == "host":
		case m.flag == "ipc" && (m.val == "private" || m.val == "shareable"):
		case strings.HasPrefix(m.val, "container:"):
			return store.Invalid("--%s %s: sharing another container's namespace is not supported", m.flag, m.val)
		default:
			return store.Invalid("invalid %s mode: %s", strings.ToUpper(m.flag), m.val)
		}
	}
	if h.UTSMode == "host" && hostname != "" {
		return store.Invalid("conflicting options: hostname and the UTS mode")
	}
	return nil
}

// namespaces are the spec's namespaces: all private but those the host
// config shares with the host (--network, --pid, --ipc, --uts host).
func namespaces(h HostConfig, userNS bool) []specs.LinuxNamespace {
	var ns []specs.LinuxNamespace
	if userNS {
		ns = append(ns, specs.LinuxNamespace{Type: specs.UserNamespace})
	}
	ns = append(ns, specs.LinuxNamespace{Type: specs.MountNamespace})
	for _, n := range []struct {
		typ  specs.LinuxNamespaceType
		mode string
	}{{specs.PIDNamespace, h.PidMode}, {specs.UTSNamespace, h.UTSMode}, {specs.IPCNamespace, h.IpcMode}} {
		if n.mode != "host" {
			ns = append(ns, specs.LinuxNamespace{Type: n.typ})
		}
	}
	ns = append(ns, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	if h.NetworkMode != "host" {
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	}
	return ns
}

// extraHostLines are /etc/hosts lines for --add-host, after Docker's
// defaults; gateway is what host-gateway stands for.
func extraHostLines(hosts []string, gateway func() string) string {
	var b strings.Builder
	for _, h := range hosts {
		name, ip, _ := strings.Cut(h, ":")
		if ip == "host-gateway" {
			ip = gateway()
		}
		fmt.Fprintf(&b, "%s\t%s\n", ip, name)
	}
	return b.String()
}

// hostAddress is the host's first global unicast IPv4 address: what
// host-gateway means for skiff's networks (the host's own network, or a
// rootless pasta network whose outbound traffic leaves from the host).
func hostAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// withDNS is resolv.conf with --dns, --dns-search and --dns-option
// replacing the host's nameservers, search list and options, as Docker.
func withDNS(data []byte, h HostConfig) []byte {
	if len(h.DNS) == 0 && len(h.DNSSearch) == 0 && len(h.DNSOptions) == 0 {
		return data
	}
	var keep, servers, search, options []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case f[0] == "nameserver" && len(f) > 1:
			servers = append(servers, f[1])
		case (f[0] == "search" || f[0] == "domain") && len(f) > 1:
			search = f[1:]
		case f[0] == "options":
			options = append(options, f[1:]...)
		default:
			keep = append(keep, line)
		}
	}
	if len(h.DNS) > 0 {
		servers = h.DNS
	}
	if len(h.DNSSearch) > 0 {
		search = slices.DeleteFunc(slices.Clone(h.DNSSearch), func(s string) bool { return s == "." })
	}
	if len(h.DNSOptions) > 0 {
		options = h.DNSOptions
	}
	var b strings.Builder
	for _, l := range keep {
		b.WriteString(l + "\n")
	}
	if len(search) > 0 {
		b.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	for _, s := range servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(options) > 0 {
		b.WriteString("options " + strings.Join(options, " ") + "\n")
	}
	return []byte(b.String())
}
