package isolate

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// rootlessUsers are the unprivileged users the rootless half of the suite
// runs as: one with no /etc/subuid entry (a single mapping of itself to
// root) and one with ranges (newuidmap/newgidmap and the re-exec they
// imply); the e2e setup creates the latter.
var rootlessUsers = []struct{ name, user string }{
	{"single mapping", "skiffnosub"},
	{"subuid ranges", "skiffsub"},
}

// TestRootless re-runs the rootless tests as ordinary users: a copy of this
// test binary, started with each user's credentials.
func TestRootless(t *testing.T) {
	if os.Getenv("ISOLATE_ROOTLESS") != "" {
		rootlessCases(t)
		return
	}
	requireRoot(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755)
	bin := filepath.Join(dir, "isolate.test")
	data, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, ru := range rootlessUsers {
		t.Run(ru.name, func(t *testing.T) {
			u, err := user.Lookup(ru.user)
			if err != nil {
				t.Skipf("user %s not present (the e2e setup creates it): %v", ru.user, err)
			}
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			uids, gids := []string{"0:" + u.Uid + ":1"}, []string{"0:" + u.Gid + ":1"}
			if r := subIDRange("/etc/subuid", u.Username, u.Uid); r != "" {
				uids = append(uids, "1:"+r)
			}
			if r := subIDRange("/etc/subgid", u.Username, u.Uid); r != "" {
				gids = append(gids, "1:"+r)
			}
			cmd := exec.Command(bin, "-test.run=^TestRootless$", "-test.v", "-test.count=1")
			cmd.Env = []string{"ISOLATE_ROOTLESS=1", "PATH=/usr/bin:/bin", "TMPDIR=/tmp", "HOME=/tmp",
				"ISOLATE_UIDMAP=" + strings.Join(uids, ","), "ISOLATE_GIDMAP=" + strings.Join(gids, ",")}
			cmd.Dir = "/tmp"
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
			out, err := cmd.CombinedOutput()
			t.Logf("as %s (uid maps %s):\n%s", ru.user, uids, out)
			if err != nil {
				t.Fatalf("rootless tests failed: %v", err)
			}
			if !strings.Contains(string(out), "--- PASS: TestRootless/") {
				t.Fatal("rootless tests did not run")
			}
		})
	}
}

// subIDRange is "start:count" of the user's first /etc/subuid (subgid)
// entry, by name or uid.
func subIDRange(file, name, uid string) string {
	data, _ := os.ReadFile(file)
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) == 3 && (f[0] == name || f[0] == uid) {
			return f[1] + ":" + f[2]
		}
	}
	return ""
}

// idMapsFromEnv parses "inside:outside:count,..." as set by TestRootless.
func idMapsFromEnv(name string) []specs.LinuxIDMapping {
	var maps []specs.LinuxIDMapping
	for m := range strings.SplitSeq(os.Getenv(name), ",") {
		var in, out, n uint32
		if _, err := fmt.Sscanf(m, "%d:%d:%d", &in, &out, &n); err == nil {
			maps = append(maps, specs.LinuxIDMapping{ContainerID: in, HostID: out, Size: n})
		}
	}
	return maps
}

// supervisorInUserNS plays the rootless supervisor: living in the user
// namespace, it starts a container and execs into it.
func supervisorInUserNS(root string) int {
	// The spec asks for a user namespace mapped as the one we live in: the
	// container shares ours.
	c := &Container{ID: "userns-sup", Spec: rootlessSpec(root, "sleep", "1000")}
	p, err := Start(c, Stdio{})
	if err != nil {
		fmt.Println("start:", err)
		return 1
	}
	defer p.Wait()
	defer p.Signal(syscall.SIGKILL)
	r, w, _ := os.Pipe()
	proc := &specs.Process{Args: []string{"sh", "-c", "hostname; tr '\\0' ' ' < /proc/1/cmdline; echo; id -u"}, Env: []string{"PATH=/bin"}, Cwd: "/"}
	ep, err := Exec(c, p.Pid, proc, Stdio{Stdout: w, Stderr: w})
	w.Close()
	if err != nil {
		fmt.Println("exec:", err)
		return 1
	}
	out, _ := io.ReadAll(r)
	st, _ := ep.Wait()
	fmt.Printf("exec output %q code %d\n", out, st.Code)
	return 0
}

// rootlessSpec maps the user to root in a user namespace of its own, with
// its subordinate ids (if any) above.
func rootlessSpec(root string, args ...string) *specs.Spec {
	s := dockerSpec(root, args...)
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = idMapsFromEnv("ISOLATE_UIDMAP")
	s.Linux.GIDMappings = idMapsFromEnv("ISOLATE_GIDMAP")
	return s
}

// rootlessCases run as the unprivileged user.
func rootlessCases(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Fatal("ISOLATE_ROOTLESS set for root")
	}
	root := busyboxRootfs(t)
	roDir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		mod    func(*specs.Spec)
		stdout string
	}{
		{name: "echo", args: []string{"echo", "hi"}, stdout: "hi\n"},
		{name: "root inside", args: []string{"sh", "-c", "id -u; echo $$; hostname"}, stdout: "0\n1\nisotest\n"},
		{name: "unmapped groups dropped", args: []string{"id", "-G"}, stdout: "0\n",
			mod: func(s *specs.Spec) { s.Process.User.AdditionalGids = []uint32{0, 70000} }},
		{name: "read-only rootfs and paths", args: []string{"sh", "-c", "touch /x 2>/dev/null || echo ro; echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo sysro; ls /sys/firmware | wc -l"},
			mod: func(s *specs.Spec) { s.Root.Readonly = true }, stdout: "ro\nsysro\n0\n"},
		{name: "loopback", args: []string{"sh", "-c", "ip link show lo | grep -q UP && echo up"}, stdout: "up\n"},
		{name: "dev nodes", args: []string{"sh", "-c", "echo x > /dev/null && head -c 3 /dev/zero | wc -c"}, stdout: "3\n"},
		{name: "read-only bind", args: []string{"sh", "-c", "touch /ro/x 2>/dev/null || echo denied"},
			mod: func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/ro", Type: "bind", Source: roDir, Options: []string{"rbind", "ro"}})
			}, stdout: "denied\n"},
		{name: "host root not writable", args: []string{"sh", "-c", "touch /hostetc/x 2>/dev/null || echo denied"},
			mod: func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/hostetc", Type: "bind", Source: "/etc", Options: []string{"rbind"}})
			}, stdout: "denied\n"},
	}
	t.Run("exec from a supervisor in the user namespace", func(t *testing.T) {
		cmd := exec.Command("/proc/self/exe")
		cmd.Env = []string{"ISOLATE_USERNS_CHILD=" + root, "ISOLATE_UIDMAP=" + os.Getenv("ISOLATE_UIDMAP"), "ISOLATE_GIDMAP=" + os.Getenv("ISOLATE_GIDMAP")}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := StartInUserNS(cmd, idMapsFromEnv("ISOLATE_UIDMAP"), idMapsFromEnv("ISOLATE_GIDMAP"))
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%v: %s", err, out.String())
		}
		want := `exec output "isotest\nsleep 1000 \n0\n" code 0` + "\n"
		if out.String() != want {
			t.Errorf("got %q, want %q", out.String(), want)
		}
	})
	t.Run("limits without a cgroup", func(t *testing.T) {
		ok, why := CgroupsAvailable()
		spec := rootlessSpec(root, "true")
		spec.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptrTo(int64(10))}}
		r := run(t, newContainer(t, spec))
		if ok {
			if r.err != nil {
				t.Errorf("with %s: %v", why, r.err)
			}
		} else if r.err == nil || !strings.Contains(r.err.Error(), "resource limits need a cgroup: "+why) {
			t.Errorf("Start error = %v, want the reason %q", r.err, why)
		}
	})
	t.Run("overlay rootfs", func(t *testing.T) {
		dir := t.TempDir()
		upper, work, merged := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
		for _, d := range []string{upper, work, merged} {
			os.Mkdir(d, 0o755)
		}
		c := newContainer(t, rootlessSpec(merged, "sh", "-c", "echo new > /etc/written && cat /etc/hostfile-check"))
		c.Rootfs = &specs.Mount{Type: "overlay", Source: "overlay",
			Options: []string{"lowerdir=" + root, "upperdir=" + upper, "workdir=" + work}}
		r := run(t, c)
		if r.err != nil || r.status.Code != 0 || r.stdout != "in the container\n" {
			t.Fatalf("run: %v code %d out %q err %q", r.err, r.status.Code, r.stdout, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(upper, "etc/written")); err != nil {
			t.Error(err)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := rootlessSpec(root, tt.args...)
			if tt.mod != nil {
				tt.mod(spec)
			}
			r := run(t, newContainer(t, spec))
			if r.err != nil {
				t.Fatalf("Start: %v", r.err)
			}
			if r.status.Code != 0 || r.stdout != tt.stdout {
				t.Errorf("code %d stdout %q, want 0 %q (stderr %q)", r.status.Code, r.stdout, tt.stdout, r.stderr)
			}
		})
	}
}
