package isolate

import (
	"errors"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestRootfsDriverFallback: which driver mounts the rootfs when the ones
// before it fail, and which failures stop the chain.
func TestRootfsDriverFallback(t *testing.T) {
	mountErr := errors.New("fuse-overlayfs: exit status 1")
	tests := []struct {
		name    string
		opts    []string
		fail    map[string]error
		want    string
		tried   []string
		wantErr bool
	}{
		{"overlay works", nil, nil, DriverOverlay, []string{DriverOverlay}, false},
		{"old kernel rootless: EPERM", nil, map[string]error{DriverOverlay: unix.EPERM}, DriverFuseOverlayfs, []string{DriverOverlay, DriverFuseOverlayfs}, false},
		{"unknown option: EINVAL", nil, map[string]error{DriverOverlay: unix.EINVAL}, DriverFuseOverlayfs, []string{DriverOverlay, DriverFuseOverlayfs}, false},
		{"no overlay module: ENODEV, no fuse", []string{OptCopyDir + "/c/rootfs"},
			map[string]error{DriverOverlay: unix.ENODEV, DriverFuseOverlayfs: mountErr}, DriverVFS, []string{DriverOverlay, DriverFuseOverlayfs, DriverVFS}, false},
		{"no copy dir: no vfs", nil, map[string]error{DriverOverlay: unix.ENODEV, DriverFuseOverlayfs: mountErr}, "", []string{DriverOverlay, DriverFuseOverlayfs}, true},
		{"other overlay error stops", []string{OptCopyDir + "/c/rootfs"}, map[string]error{DriverOverlay: unix.ENOENT}, "", []string{DriverOverlay}, true},
		{"forced fuse does not fall back", []string{OptDriver + DriverFuseOverlayfs, OptCopyDir + "/c/rootfs"},
			map[string]error{DriverFuseOverlayfs: mountErr}, "", []string{DriverFuseOverlayfs}, true},
		{"forced vfs", []string{OptDriver + DriverVFS, OptCopyDir + "/c/rootfs"}, nil, DriverVFS, []string{DriverVFS}, false},
	}
	saved := rootfsMounters
	defer func() { rootfsMounters = saved }()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tried []string
			rootfsMounters = map[string]func(*rootfsPlan, string) error{}
			for _, d := range []string{DriverOverlay, DriverFuseOverlayfs, DriverVFS} {
				rootfsMounters[d] = func(r *rootfsPlan, _ string) error {
					if r.driver != "" && r.driver != d || len(r.mount.Options) != 1 {
						t.Errorf("%s got plan %+v", d, r)
					}
					tried = append(tried, d)
					return tt.fail[d]
				}
			}
			m := &specs.Mount{Type: "overlay", Options: append([]string{"lowerdir=/l"}, tt.opts...)}
			got, err := mountRootfs(m, "/nonexistent-root", false, 0)
			if got != tt.want || (err != nil) != tt.wantErr || !reflect.DeepEqual(tried, tt.tried) {
				t.Errorf("mountRootfs = %q, %v after %v; want %q (error %v) after %v", got, err, tried, tt.want, tt.wantErr, tt.tried)
			}
		})
	}
}
