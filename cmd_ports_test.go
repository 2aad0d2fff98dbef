package main

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/skiff-dev/skiff/container"
)

func TestDisplayablePorts(t *testing.T) {
	v4, v6 := netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("::")
	pub := func(ip netip.Addr, public, private uint16, proto string) portSummary {
		return portSummary{ip: ip, public: public, private: private, proto: proto}
	}
	tests := []struct {
		ports []portSummary
		want  string
	}{
		{nil, ""},
		{[]portSummary{{private: 80, proto: "tcp"}}, "80/tcp"},
		{[]portSummary{{private: 81, proto: "tcp"}, {private: 80, proto: "tcp"}, {private: 53, proto: "udp"}}, "53/udp, 80-81/tcp"},
		{[]portSummary{pub(v6, 8080, 80, "tcp"), pub(v4, 8080, 80, "tcp")}, "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp"},
		{[]portSummary{pub(v4, 8080, 80, "tcp"), pub(v4, 8081, 81, "tcp"), pub(v6, 8080, 80, "tcp"), pub(v6, 8081, 81, "tcp")},
			"0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 0.0.0.0:8081->81/tcp, [::]:8081->81/tcp"},
		{[]portSummary{pub(v4, 8080, 8080, "tcp"), pub(v4, 8081, 8081, "tcp"), pub(v6, 8080, 8080, "tcp"), pub(v6, 8081, 8081, "tcp")},
			"0.0.0.0:8080-8081->8080-8081/tcp, [::]:8080-8081->8080-8081/tcp"},
		{[]portSummary{pub(netip.MustParseAddr("127.0.0.1"), 5353, 53, "udp"), {private: 80, proto: "tcp"}},
			"80/tcp, 127.0.0.1:5353->53/udp"},
	}
	for _, tt := range tests {
		if got := displayablePorts(tt.ports); got != tt.want {
			t.Errorf("displayablePorts(%v) = %q, want %q", tt.ports, got, tt.want)
		}
	}
}

func TestPortLines(t *testing.T) {
	published := map[string][]container.PortBinding{
		"80/tcp":  {{HostIP: "0.0.0.0", HostPort: "8080"}, {HostIP: "::", HostPort: "8080"}},
		"9/tcp":   {{HostIP: "127.0.0.1", HostPort: "9000"}},
		"53/udp":  {{HostIP: "::1", HostPort: "5353"}},
		"443/tcp": nil,
	}
	got, err := portLines(published, "")
	want := []string{"9/tcp -> 127.0.0.1:9000", "53/udp -> [::1]:5353", "80/tcp -> 0.0.0.0:8080", "80/tcp -> [::]:8080"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("all: %q, %v; want %q", got, err, want)
	}
	got, err = portLines(published, "80")
	if want := []string{"0.0.0.0:8080", "[::]:8080"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("80: %q, %v; want %q", got, err, want)
	}
	got, err = portLines(published, "53/udp")
	if want := []string{"[::1]:5353"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("53/udp: %q, %v; want %q", got, err, want)
	}
	for _, p := range []string{"53", "443", "81/tcp"} {
		if _, err := portLines(published, p); err == nil || err.Error() != "no public port '"+p+"' published" {
			t.Errorf("%s: err %v", p, err)
		}
	}
}
