package container

import (
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestParsePublish(t *testing.T) {
	tests := []struct {
		publish, expose []string
		exposed         string // sorted keys, space separated
		bindings        string // sorted "key=ip|port,ip|port"
		err             string
	}{
		{publish: []string{"80"}, exposed: "80/tcp", bindings: "80/tcp=|"},
		{publish: []string{"8080:80"}, exposed: "80/tcp", bindings: "80/tcp=|8080"},
		{publish: []string{"5353:53/udp"}, exposed: "53/udp", bindings: "53/udp=|5353"},
		{publish: []string{"127.0.0.1::80"}, exposed: "80/tcp", bindings: "80/tcp=127.0.0.1|"},
		{publish: []string{"[::1]:8080:80"}, exposed: "80/tcp", bindings: "80/tcp=::1|8080"},
		{publish: []string{"::1:8080:80"}, exposed: "80/tcp", bindings: "80/tcp=::1|8080"},
		{publish: []string{"8080-8081:80-81"}, exposed: "80/tcp 81/tcp", bindings: "80/tcp=|8080 81/tcp=|8081"},
		{publish: []string{"8080-8081:80"}, exposed: "80/tcp", bindings: "80/tcp=|8080-8081"},
		{publish: []string{"80-81/udp"}, exposed: "80/udp 81/udp", bindings: "80/udp=| 81/udp=|"},
		{publish: []string{"8080:80", "8081:80", "53:53/udp", "53:53"}, exposed: "53/tcp 53/udp 80/tcp",
			bindings: "53/tcp=|53 53/udp=|53 80/tcp=|8080,|8081"},
		{publish: []string{"target=80,published=8080,protocol=udp"}, exposed: "80/udp", bindings: "80/udp=|8080"},
		{publish: []string{"target=80"}, exposed: "80/tcp", bindings: "80/tcp=|"},
		{expose: []string{"80", "7000-7001/udp", "9/SCTP"}, exposed: "7000/udp 7001/udp 80/tcp 9/sctp"},
		{publish: []string{"8080-8082:80-81"}, err: "invalid ranges specified for container and host Ports: 80-81 and 8080-8082"},
		{publish: []string{"80/quic"}, err: "invalid proto: quic"},
		{publish: []string{"1.2.3:80:80"}, err: "invalid IP address: 1.2.3"},
		{publish: []string{"70000"}, err: "invalid containerPort: 70000"},
		{publish: []string{"x:80"}, err: "invalid hostPort: x"},
		{publish: []string{"target=80,bad"}, err: "invalid publish opts format (should be name=value but got 'bad')"},
		{expose: []string{"80-x"}, err: "invalid range format for --expose"},
		{expose: []string{"80/quic"}, err: "invalid range format for --expose: invalid proto: quic"},
	}
	for _, tt := range tests {
		name := strings.Join(append(append([]string{}, tt.publish...), tt.expose...), " ")
		t.Run(name, func(t *testing.T) {
			exposed, bindings, err := ParsePublish(tt.publish, tt.expose)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range exposed {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if got := strings.Join(keys, " "); got != tt.exposed {
				t.Errorf("exposed %q, want %q", got, tt.exposed)
			}
			var bs []string
			for k, v := range bindings {
				var one []string
				for _, b := range v {
					one = append(one, b.HostIP+"|"+b.HostPort)
				}
				bs = append(bs, k+"="+strings.Join(one, ","))
			}
			sort.Strings(bs)
			if got := strings.Join(bs, " "); !reflect.DeepEqual(got, tt.bindings) {
				t.Errorf("bindings %q, want %q", got, tt.bindings)
			}
		})
	}
}
