package container

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/skiff-dev/skiff/store"
)

func TestMergeImageConfig(t *testing.T) {
	img := &v1.Config{
		Entrypoint: []string{"/entry"}, Cmd: []string{"default"},
		Env: []string{"PATH=/img/bin", "A=img"}, WorkingDir: "/app", User: "daemon",
		StopSignal: "SIGQUIT", Labels: map[string]string{"l": "img", "k": "img"},
	}
	tests := []struct {
		name          string
		user          Config
		entrypointSet bool
		wantEntry     []string
		wantCmd       []string
	}{
		{"image defaults", Config{}, false, []string{"/entry"}, []string{"default"}},
		{"args replace cmd", Config{Cmd: []string{"x", "y"}}, false, []string{"/entry"}, []string{"x", "y"}},
		{"entrypoint drops image cmd", Config{Entrypoint: []string{"/bin/sh"}}, true, []string{"/bin/sh"}, nil},
		{"entrypoint with args", Config{Entrypoint: []string{"/bin/sh"}, Cmd: []string{"-c", "true"}}, true, []string{"/bin/sh"}, []string{"-c", "true"}},
		{"empty entrypoint clears", Config{Entrypoint: []string{""}, Cmd: []string{"ls"}}, true, nil, []string{"ls"}},
	}
	for _, tt := range tests {
		c := tt.user
		MergeImageConfig(&c, img, tt.entrypointSet)
		if !reflect.DeepEqual(c.Entrypoint, tt.wantEntry) || !reflect.DeepEqual(c.Cmd, tt.wantCmd) {
			t.Errorf("%s: entrypoint %q cmd %q, want %q %q", tt.name, c.Entrypoint, c.Cmd, tt.wantEntry, tt.wantCmd)
		}
	}
	c := Config{Env: []string{"A=user", "B=2"}, User: "1000", Labels: map[string]string{"l": "user"}}
	MergeImageConfig(&c, img, false)
	if want := []string{"PATH=/img/bin", "A=user", "B=2"}; !reflect.DeepEqual(c.Env, want) {
		t.Errorf("env = %q, want %q", c.Env, want)
	}
	if c.User != "1000" || c.WorkingDir != "/app" || c.StopSignal != "SIGQUIT" {
		t.Errorf("user/workdir/stopsignal = %q %q %q", c.User, c.WorkingDir, c.StopSignal)
	}
	if c.Labels["l"] != "user" || c.Labels["k"] != "img" {
		t.Errorf("labels = %v", c.Labels)
	}
}

// layers writes files into numbered layer dirs: files[i] is layer i (base first).
func layers(t *testing.T, files ...map[string]string) Rootfs {
	t.Helper()
	var r Rootfs
	for i, fs := range files {
		d := filepath.Join(t.TempDir(), "layer", string(rune('a'+i)))
		for name, data := range fs {
			p := filepath.Join(d, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		os.MkdirAll(d, 0o755)
		r.LowerDirs = append(r.LowerDirs, d)
	}
	return r
}

func TestResolveUser(t *testing.T) {
	base := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
		"etc/group":  "root:x:0:\nalice:x:1000:\nwheel:x:10:alice,bob\nstaff:x:50:\n",
	}
	// The top layer replaces passwd: bob exists only there.
	top := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n",
	}
	r := layers(t, base, top)
	tests := []struct {
		spec    string
		uid     uint32
		gid     uint32
		groups  []uint32
		home    string
		errText string
	}{
		{"", 0, 0, nil, "/root", ""},
		{"root", 0, 0, nil, "/root", ""},
		{"alice", 1000, 1000, []uint32{10}, "/home/alice", ""},
		{"bob", 1001, 1001, []uint32{10}, "/home/bob", ""},
		{"1000", 1000, 1000, []uint32{10}, "/home/alice", ""},
		{"alice:staff", 1000, 50, nil, "/home/alice", ""},
		{"alice:77", 1000, 77, nil, "/home/alice", ""},
		{"4242", 4242, 0, nil, "/", ""},
		{"4242:4343", 4242, 4343, nil, "/", ""},
		{"carol", 0, 0, nil, "", "unable to find user carol: no matching entries in passwd file"},
		{"alice:nogroup", 0, 0, nil, "", "unable to find group nogroup: no matching entries in group file"},
	}
	for _, tt := range tests {
		u, err := ResolveUser(r, tt.spec)
		if tt.errText != "" {
			if err == nil || err.Error() != tt.errText || !errors.Is(err, store.ErrInvalid) {
				t.Errorf("ResolveUser(%q) err = %v, want %q", tt.spec, err, tt.errText)
			}
			continue
		}
		if err != nil {
			t.Errorf("ResolveUser(%q): %v", tt.spec, err)
			continue
		}
		if u.UID != tt.uid || u.GID != tt.gid || !slices.Equal(u.AdditionalGids, tt.groups) || u.Home != tt.home {
			t.Errorf("ResolveUser(%q) = %+v, want %d:%d %v %s", tt.spec, u, tt.uid, tt.gid, tt.groups, tt.home)
		}
	}
	// Without /etc/passwd, numeric ids still work and names do not.
	empty := layers(t, map[string]string{"bin/x": ""})
	if u, err := ResolveUser(empty, "12:34"); err != nil || u.UID != 12 || u.GID != 34 {
		t.Errorf("numeric user without passwd = %+v, %v", u, err)
	}
	if _, err := ResolveUser(empty, "alice"); err == nil {
		t.Error("named user without passwd resolved")
	}
}

func TestParseVolume(t *testing.T) {
	tests := []struct {
		spec    string
		want    Mount
		errText string
	}{
		{"/src:/dst", Mount{Type: MountBind, Source: "/src", Destination: "/dst", RW: true}, ""},
		{"/src:/dst:ro", Mount{Type: MountBind, Source: "/src", Destination: "/dst", Mode: "ro"}, ""},
		{"/src:/dst:rw,rshared", Mount{Type: MountBind, Source: "/src", Destination: "/dst", Mode: "rw,rshared", RW: true}, ""},
		{"data:/var/lib/data", Mount{Type: MountVolume, Name: "data", Destination: "/var/lib/data", RW: true}, ""},
		{"/anon", Mount{Type: MountVolume, Destination: "/anon", RW: true}, ""},
		{"/src:dst", Mount{}, "invalid volume specification: '/src:dst': mount path must be absolute"},
		{"/src:/", Mount{}, "destination can't be '/'"},
		{"/a:/b:ro:x", Mount{}, "invalid volume specification: '/a:/b:ro:x'"},
		{"/a:/b:bogus", Mount{}, "invalid mode: bogus"},
		{"./rel:/b", Mount{}, `"./rel" includes invalid characters for a local volume name`},
		{":/b", Mount{}, "invalid volume specification"},
		{"", Mount{}, "invalid volume specification"},
	}
	for _, tt := range tests {
		got, err := ParseVolume(tt.spec)
		if tt.errText != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errText) || !errors.Is(err, store.ErrInvalid) {
				t.Errorf("ParseVolume(%q) err = %v, want %q", tt.spec, err, tt.errText)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseVolume(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
		}
	}
}

func TestCapabilities(t *testing.T) {
	tests := []struct {
		h        HostConfig
		has, not []string
		err      bool
	}{
		{HostConfig{}, []string{"CAP_CHOWN", "CAP_KILL"}, []string{"CAP_SYS_ADMIN", "CAP_NET_ADMIN"}, false},
		{HostConfig{CapAdd: []string{"net_admin"}, CapDrop: []string{"CAP_CHOWN"}}, []string{"CAP_NET_ADMIN"}, []string{"CAP_CHOWN"}, false},
		{HostConfig{CapDrop: []string{"ALL"}, CapAdd: []string{"KILL"}}, []string{"CAP_KILL"}, []string{"CAP_CHOWN"}, false},
		{HostConfig{CapAdd: []string{"ALL"}}, []string{"CAP_SYS_ADMIN"}, nil, false},
		{HostConfig{Privileged: true}, []string{"CAP_SYS_ADMIN", "CAP_BPF"}, nil, false},
		{HostConfig{CapAdd: []string{"NOPE"}}, nil, nil, true},
	}
	for i, tt := range tests {
		caps, err := Capabilities(tt.h)
		if (err != nil) != tt.err {
			t.Errorf("%d: err = %v", i, err)
			continue
		}
		for _, c := range tt.has {
			if !slices.Contains(caps, c) {
				t.Errorf("%d: %s missing from %v", i, c, caps)
			}
		}
		for _, c := range tt.not {
			if slices.Contains(caps, c) {
				t.Errorf("%d: %s present in %v", i, c, caps)
			}
		}
	}
}

func TestBuildSpec(t *testing.T) {
	dir := t.TempDir()
	r := layers(t, map[string]string{"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nweb:x:33:33::/var/www:/bin/sh\n"})
	r.MergedDir = filepath.Join(dir, "merged")
	c := &Container{
		ID:     hexID("feed"),
		Rootfs: r,
		Config: Config{
			Hostname: "feed00000000", Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{"echo hi"},
			Env: []string{"PATH=/custom", "X=1"}, Tty: true, User: "web",
		},
		HostConfig: HostConfig{
			NetworkMode: "host", ReadonlyRootfs: true, Tmpfs: map[string]string{"/run": "size=1m"},
			SecurityOpt: []string{"no-new-privileges"},
		},
		Mounts: []Mount{{Type: MountBind, Source: "/srv", Destination: "/data", Mode: "ro"}},
	}
	SetUserdataPaths(c, dir)
	s, err := BuildSpec(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/bin/sh", "-c", "echo hi"}; !slices.Equal(s.Process.Args, want) {
		t.Errorf("args = %q", s.Process.Args)
	}
	wantEnv := []string{"PATH=/custom", "HOSTNAME=feed00000000", "TERM=xterm", "X=1", "HOME=/var/www"}
	if !slices.Equal(s.Process.Env, wantEnv) {
		t.Errorf("env = %q, want %q", s.Process.Env, wantEnv)
	}
	if s.Process.User.UID != 33 || s.Process.User.GID != 33 || s.Process.Cwd != "/" || !s.Process.Terminal {
		t.Errorf("user %+v cwd %q terminal %v", s.Process.User, s.Process.Cwd, s.Process.Terminal)
	}
	if !s.Root.Readonly || s.Root.Path != r.MergedDir || s.Hostname != "feed00000000" || !s.Process.NoNewPrivileges {
		t.Errorf("root %+v hostname %q nnp %v", s.Root, s.Hostname, s.Process.NoNewPrivileges)
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == "network" {
			t.Error("--network host still has a network namespace")
		}
	}
	mounts := map[string][]string{}
	for _, m := range s.Mounts {
		mounts[m.Destination] = m.Options
	}
	if o := mounts["/data"]; !slices.Contains(o, "ro") || !slices.Contains(o, "rbind") {
		t.Errorf("/data options %v", o)
	}
	if o := mounts["/run"]; !slices.Contains(o, "size=1m") || !slices.Contains(o, "noexec") {
		t.Errorf("/run options %v", o)
	}
	for _, p := range []string{"/proc", "/dev", "/dev/pts", "/sys", "/dev/shm", "/dev/mqueue", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"} {
		if _, ok := mounts[p]; !ok {
			t.Errorf("mount %s missing", p)
		}
	}
	if data, err := os.ReadFile(c.HostnamePath); err != nil || string(data) != "feed00000000\n" {
		t.Errorf("hostname file %q %v", data, err)
	}
	// No command at all is an error.
	c.Config.Entrypoint, c.Config.Cmd = nil, nil
	if _, err := BuildSpec(c, nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty command: %v", err)
	}
}

func TestRootfsMountOrder(t *testing.T) {
	c := &Container{}
	PlanRootfs(c, []string{"/l/base", "/l/mid", "/l/top"}, "/c", "/r")
	m := RootfsMount(c)
	if m.Options[0] != "lowerdir=/l/top:/l/mid:/l/base" || m.Options[1] != "upperdir=/c/overlay/upper" || m.Destination != "/r/merged" {
		t.Errorf("overlay mount %+v", m)
	}
}

func TestFilterResolvConf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nameserver 127.0.0.53\noptions edns0\n", "options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{"search lan\nnameserver 10.0.0.1\nnameserver ::1\n", "search lan\nnameserver 10.0.0.1\n"},
	}
	for _, tt := range tests {
		if got := string(filterResolvConf([]byte(tt.in))); got != tt.want {
			t.Errorf("filterResolvConf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
