package container

import (
	"errors"
	"reflect"
	"testing"
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
			exposed: []string{"80/tcp", "443/tcp", "53/udp"}, want: []string{"443/tcp  ", "80/tcp  8080"}},
		{name: "host network discards", host: HostConfig{NetworkMode: "host", PortBindings: map[string][]PortBinding{"80/tcp": {b("", "8080")}}}},
		{name: "udp refused", host: HostConfig{PortBindings: map[string][]PortBinding{"53/udp": {b("", "53")}}}, err: true},
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
