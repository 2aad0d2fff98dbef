package container

import (
	"errors"
	"testing"

	"github.com/skiff-dev/skiff/store"
)

func TestParseMountFlag(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		in   string
		want MountFlag // zero: invalid
	}{
		{"type=bind,source=" + dir + ",target=/m", MountFlag{Bind: dir + ":/m"}},
		{"type=bind,src=" + dir + ",dst=/m,readonly", MountFlag{Bind: dir + ":/m:ro"}},
		{"type=bind,src=" + dir + ",dst=/m,ro=false,bind-propagation=rshared", MountFlag{Bind: dir + ":/m:rshared"}},
		{`"type=bind","src=` + dir + `",dst=/m`, MountFlag{Bind: dir + ":/m"}}, // CSV quoting
		{"src=data,dst=/data", MountFlag{Bind: "data:/data"}},                  // type=volume by default
		{"type=volume,target=/anon", MountFlag{Bind: "/anon"}},
		{"type=volume,src=data,dst=/d,volume-nocopy", MountFlag{Bind: "data:/d:nocopy"}},
		{"type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1777", MountFlag{TmpfsDst: "/t", TmpfsOpts: "size=67108864,mode=1777"}},
		{"type=tmpfs,dst=/t,readonly", MountFlag{TmpfsDst: "/t", TmpfsOpts: "ro"}},
		{"type=bind,src=/does/not/exist,dst=/m", MountFlag{}},
		{"type=bind,src=relative,dst=/m", MountFlag{}},
		{"type=bind,dst=/m", MountFlag{}},
		{"type=tmpfs,src=x,dst=/t", MountFlag{}},
		{"type=tmpfs,dst=/t,tmpfs-mode=999", MountFlag{}},
		{"type=volume,dst=/anon,ro", MountFlag{}},
		{"type=nfs,dst=/m", MountFlag{}},
		{"src=data", MountFlag{}},
		{"src=data,dst=relative", MountFlag{}},
		{"src=data,dst=/d,colour=red", MountFlag{}},
	}
	for _, tt := range tests {
		got, err := ParseMountFlag(tt.in)
		if tt.want == (MountFlag{}) {
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("ParseMountFlag(%q) = %+v, %v; want invalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseMountFlag(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}
