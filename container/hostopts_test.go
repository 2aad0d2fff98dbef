package container

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/skiff-dev/skiff/store"
)

func TestParseExtraHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"db:10.0.0.1", "db:10.0.0.1"},
		{"db=10.0.0.1", "db:10.0.0.1"},
		{"v6:::1", "v6:::1"},
		{"v6=[::1]", "v6:::1"},
		{"gw:host-gateway", "gw:host-gateway"},
		{"nocolon", ""},
		{":10.0.0.1", ""},
		{"db:not-an-ip", ""},
	}
	for _, tt := range tests {
		got, err := ParseExtraHost(tt.in)
		if tt.want == "" {
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("ParseExtraHost(%q) = %q, %v; want invalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseExtraHost(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestWithDNS(t *testing.T) {
	host := "# generated\ndomain lan\nnameserver 10.0.0.2\nnameserver 10.0.0.3\noptions edns0\n"
	tests := []struct {
		h    HostConfig
		want string
	}{
		{HostConfig{}, host},
		{HostConfig{DNS: []string{"1.1.1.1"}}, "# generated\nsearch lan\nnameserver 1.1.1.1\noptions edns0\n"},
		{HostConfig{DNSSearch: []string{"a.example", "b.example"}, DNSOptions: []string{"ndots:2"}},
			"# generated\nsearch a.example b.example\nnameserver 10.0.0.2\nnameserver 10.0.0.3\noptions ndots:2\n"},
		{HostConfig{DNSSearch: []string{"."}}, "# generated\nnameserver 10.0.0.2\nnameserver 10.0.0.3\noptions edns0\n"}, // "." clears it
	}
	for _, tt := range tests {
		if got := string(withDNS([]byte(host), tt.h)); got != tt.want {
			t.Errorf("withDNS(%+v):\n%s\nwant:\n%s", tt.h, got, tt.want)
		}
	}
}

func TestNamespaceModes(t *testing.T) {
	kinds := func(ns []specs.LinuxNamespace) string {
		var out []string
		for _, n := range ns {
			out = append(out, string(n.Type))
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		h      HostConfig
		userNS bool
		want   string
	}{
		{HostConfig{}, false, "mount pid uts ipc cgroup network"},
		{HostConfig{IpcMode: "shareable"}, true, "user mount pid uts ipc cgroup network"},
		{HostConfig{PidMode: "host", UTSMode: "host", IpcMode: "host", NetworkMode: "host"}, false, "mount cgroup"},
	}
	for _, tt := range tests {
		if got := kinds(namespaces(tt.h, tt.userNS)); got != tt.want {
			t.Errorf("namespaces(%+v, %v) = %s, want %s", tt.h, tt.userNS, got, tt.want)
		}
	}
	for _, bad := range []HostConfig{{PidMode: "private"}, {IpcMode: "none?"}, {UTSMode: "container:web"}} {
		if err := ValidateModes(&bad, ""); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ValidateModes(%+v) = %v, want invalid", bad, err)
		}
	}
	if err := ValidateModes(&HostConfig{UTSMode: "host"}, "myhost"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("--uts host with a hostname: %v", err)
	}
}
