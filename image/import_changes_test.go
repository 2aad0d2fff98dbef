package image

import (
	"errors"
	"reflect"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/skiff-dev/skiff/store"
)

func TestApplyChanges(t *testing.T) {
	base := v1.Config{Env: []string{"PATH=/bin", "HOME=/root"}, Cmd: []string{"sh"}, WorkingDir: "/srv"}
	tests := []struct {
		name    string
		changes []string
		want    func(c *v1.Config)
	}{
		{"cmd exec form", []string{`CMD ["echo","a,b"]`}, func(c *v1.Config) { c.Cmd = []string{"echo", "a,b"} }},
		{"cmd shell form", []string{"CMD echo hi"}, func(c *v1.Config) { c.Cmd = []string{"/bin/sh", "-c", "echo hi"} }},
		{"cmd under the image's shell", []string{"CMD echo hi"}, nil}, // see below: Shell set
		{"entrypoint drops inherited cmd", []string{`ENTRYPOINT ["/app"]`}, func(c *v1.Config) {
			c.Entrypoint, c.Cmd = []string{"/app"}, nil
		}},
		{"entrypoint keeps cmd given alongside", []string{`CMD ["x"]`, `ENTRYPOINT ["/app"]`}, func(c *v1.Config) {
			c.Entrypoint, c.Cmd = []string{"/app"}, []string{"x"}
		}},
		{"env replaces and appends", []string{"ENV HOME=/home/u A=1", "ENV B 2"}, func(c *v1.Config) {
			c.Env = []string{"PATH=/bin", "HOME=/home/u", "A=1", "B=2"}
		}},
		{"env expands variables", []string{"ENV PATH=$PATH:/opt/bin"}, func(c *v1.Config) {
			c.Env = []string{"PATH=/bin:/opt/bin", "HOME=/root"}
		}},
		{"label", []string{`LABEL a=b "c d"=e`}, func(c *v1.Config) { c.Labels = map[string]string{"a": "b", "c d": "e"} }},
		{"expose with range and proto", []string{"EXPOSE 80 53/udp 8000-8002"}, func(c *v1.Config) {
			c.ExposedPorts = map[string]struct{}{"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}, "8002/tcp": {}}
		}},
		{"user", []string{"USER 1000:1000"}, func(c *v1.Config) { c.User = "1000:1000" }},
		{"workdir absolute", []string{"WORKDIR /app"}, func(c *v1.Config) { c.WorkingDir = "/app" }},
		{"workdir relative", []string{"WORKDIR sub"}, func(c *v1.Config) { c.WorkingDir = "/srv/sub" }},
		{"workdir expands", []string{"WORKDIR $HOME"}, func(c *v1.Config) { c.WorkingDir = "/root" }},
		{"volume json and words", []string{`VOLUME ["/data"]`, "VOLUME /a /b"}, func(c *v1.Config) {
			c.Volumes = map[string]struct{}{"/data": {}, "/a": {}, "/b": {}}
		}},
		{"stopsignal name", []string{"STOPSIGNAL SIGUSR1"}, func(c *v1.Config) { c.StopSignal = "SIGUSR1" }},
		{"stopsignal number", []string{"STOPSIGNAL 9"}, func(c *v1.Config) { c.StopSignal = "9" }},
		{"healthcheck", []string{"HEALTHCHECK --interval=5s CMD true"}, func(c *v1.Config) {
			c.Healthcheck = &v1.HealthConfig{Test: []string{"CMD-SHELL", "true"}, Interval: 5 * time.Second}
		}},
		{"lower-case instruction", []string{"user nobody"}, func(c *v1.Config) { c.User = "nobody" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := copyConfig(base)
			want := copyConfig(base)
			if tt.want == nil {
				cfg.Shell = []string{"/bin/bash", "-c"}
				want.Shell = cfg.Shell
				want.Cmd = []string{"/bin/bash", "-c", "echo hi"}
			} else {
				tt.want(&want)
			}
			if err := ApplyChanges(&cfg, tt.changes); err != nil {
				t.Fatalf("ApplyChanges(%q): %v", tt.changes, err)
			}
			if !reflect.DeepEqual(cfg, want) {
				t.Errorf("ApplyChanges(%q)\n got %+v\nwant %+v", tt.changes, cfg, want)
			}
		})
	}
}

func TestApplyChangesRejects(t *testing.T) {
	tests := []struct {
		name    string
		changes []string
	}{
		{"RUN is not a config change", []string{"RUN echo"}},
		{"FROM", []string{"FROM busybox"}},
		{"unknown instruction", []string{"FOO bar"}},
		{"empty", []string{""}},
		{"user needs one argument", []string{"USER"}},
		{"bad port", []string{"EXPOSE 99999"}},
		{"bad proto", []string{"EXPOSE 80/icmp"}},
		{"bad range", []string{"EXPOSE 90-80"}},
		{"bad signal", []string{"STOPSIGNAL SIGNOPE"}},
		{"one bad among good", []string{"USER x", "RUN y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := v1.Config{User: "keep", Env: []string{"A=1"}}
			err := ApplyChanges(&cfg, tt.changes)
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("ApplyChanges(%q) = %v, want an ErrInvalid", tt.changes, err)
			}
			if cfg.User != "keep" || !reflect.DeepEqual(cfg.Env, []string{"A=1"}) {
				t.Errorf("config changed by a failed ApplyChanges: %+v", cfg)
			}
		})
	}
}
