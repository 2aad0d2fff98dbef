package container

import (
	"errors"
	"testing"

	"github.com/skiff-dev/skiff/store"
)

func TestParseDevice(t *testing.T) {
	tests := []struct {
		in      string
		want    DeviceMapping
		wantErr string
	}{
		{"/dev/null", DeviceMapping{"/dev/null", "/dev/null", "rwm"}, ""},
		{"/dev/null:/dev/xnull", DeviceMapping{"/dev/null", "/dev/xnull", "rwm"}, ""},
		{"/dev/null:r", DeviceMapping{"/dev/null", "/dev/null", "r"}, ""},
		{"/dev/null:/dev/xnull:rw", DeviceMapping{"/dev/null", "/dev/xnull", "rw"}, ""},
		{"/dev/null:/dev/xnull:rwx", DeviceMapping{}, "invalid device specification: /dev/null:/dev/xnull:rwx"},
		{"/dev/null:rel", DeviceMapping{}, "invalid device specification: /dev/null:rel"},
		{"a:b:c:d", DeviceMapping{}, "invalid device specification: a:b:c:d"},
		{"/dev/nosuch", DeviceMapping{}, `error gathering device information while adding custom device "/dev/nosuch": no such file or directory`},
		{"/etc/passwd", DeviceMapping{}, `error gathering device information while adding custom device "/etc/passwd": not a device node`},
	}
	for _, tt := range tests {
		got, err := ParseDevice(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr || !errors.Is(err, store.ErrInvalid) {
				t.Errorf("ParseDevice(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDevice(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestValidateSysctl(t *testing.T) {
	tests := []struct {
		kv, network string
		ok          bool
	}{
		{"net.ipv4.ip_forward=1", "default", true},
		{"net.ipv4.ip_forward=1", "host", false},
		{"net.ipv4.ip_forward=1", "container:web", false},
		{"kernel.shmmax=100", "container:web", true},
		{"kernel.shmmax=100", "default", true},
		{"kernel.msgmax=100", "host", true},
		{"fs.mqueue.msg_max=20", "default", true},
		{"kernel.panic=1", "default", false},
		{"vm.swappiness=1", "default", false},
		{"nonsense", "default", false},
	}
	for _, tt := range tests {
		_, _, err := ValidateSysctl(tt.kv, tt.network)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateSysctl(%q, %s) = %v, want ok=%v", tt.kv, tt.network, err, tt.ok)
		}
	}
}

func TestParseUlimit(t *testing.T) {
	u, err := ParseUlimit("nofile=512:1024")
	if err != nil || u.Name != "nofile" || u.Soft != 512 || u.Hard != 1024 {
		t.Errorf("nofile=512:1024: %+v, %v", u, err)
	}
	for _, bad := range []string{"nofile=2048:1024", "bogus=1", "nofile"} {
		if _, err := ParseUlimit(bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ParseUlimit(%q) = %v, want an invalid-argument error", bad, err)
		}
	}
}

func TestCgroupsPath(t *testing.T) {
	c := &Container{ID: "abc"}
	if p := CgroupsPath(c); p != "/skiff/abc" {
		t.Errorf("default: %s", p)
	}
	c.HostConfig.CgroupParent = "mine/sub"
	if p := CgroupsPath(c); p != "/mine/sub/abc" {
		t.Errorf("--cgroup-parent mine/sub: %s", p)
	}
}
