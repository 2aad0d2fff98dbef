package isolate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestMain doubles as the re-executed init stage, as skiff's main does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == InitArg {
		Init()
	}
	if root := os.Getenv("ISOLATE_USERNS_CHILD"); root != "" {
		UserNSReady()
		os.Exit(supervisorInUserNS(root))
	}
	os.Exit(m.Run())
}

var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// busyboxRootfs makes a directory holding /bin/busybox and its applets.
func busyboxRootfs(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "tmp", "root"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("needs /bin/busybox (busybox-static)")
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet != "busybox" {
			os.Symlink("busybox", filepath.Join(dir, "bin", applet))
		}
	}
	os.WriteFile(filepath.Join(dir, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "etc/hostfile-check"), []byte("in the container\n"), 0o644)
	return dir
}

// dockerSpec is a spec shaped like Docker's defaults.
func dockerSpec(root string, args ...string) *specs.Spec {
	return &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: root},
		Process: &specs.Process{
			Args: args,
			Env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"},
			Cwd:  "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding: defaultCaps, Effective: defaultCaps, Permitted: defaultCaps,
			},
			Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1024}},
		},
		Hostname: "isotest",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.MountNamespace},
				{Type: specs.IPCNamespace}, {Type: specs.UTSNamespace}, {Type: specs.CgroupNamespace},
			},
			MaskedPaths:   []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware", "/proc/scsi"},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
}

type result struct {
	stdout, stderr string
	status         ExitStatus
	err            error // from Start
}

var seq int

func newContainer(t *testing.T, spec *specs.Spec) *Container {
	seq++
	id := fmt.Sprintf("isotest-%d-%d", os.Getpid(), seq)
	c := &Container{ID: id, Spec: spec, StateDir: t.TempDir()}
	t.Cleanup(func() {
		if err := Cleanup(c); err != nil {
			t.Errorf("Cleanup: %v", err)
		}
	})
	return c
}

// run starts c, waits for it and collects its output.
func run(t *testing.T, c *Container) result {
	t.Helper()
	outR, outW, _ := os.Pipe()
	errR, errW, _ := os.Pipe()
	p, err := Start(c, Stdio{Stdout: outW, Stderr: errW})
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return result{err: err}
	}
	done := make(chan [2]string)
	go func() {
		var o, e bytes.Buffer
		ch := make(chan struct{})
		go func() { e.ReadFrom(errR); close(ch) }()
		o.ReadFrom(outR)
		<-ch
		done <- [2]string{o.String(), e.String()}
	}()
	st, err := p.Wait()
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	out := <-done
	return result{stdout: out[0], stderr: out[1], status: st}
}

// hardNofile is this process's hard RLIMIT_NOFILE (what a container may get
// at most).
func hardNofile() uint64 {
	var l syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
	return l.Max
}

func requireRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the isolate suite runs as root (rootless runs are a separate target)")
	}
}

func TestRun(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	hostOnly := filepath.Join(t.TempDir(), "host-only")
	os.WriteFile(hostOnly, []byte("x"), 0o644)
	roDir, rwDir := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(roDir, "f"), []byte("from host\n"), 0o644)

	tests := []struct {
		name    string
		args    []string
		mod     func(*specs.Spec)
		stdout  string // exact, unless contains is set
		contain bool
		code    int
		errIs   error
		errMsg  string
		check   func(t *testing.T)
	}{
		{name: "echo", args: []string{"echo", "hi", "there"}, stdout: "hi there\n"},
		{name: "exit code", args: []string{"sh", "-c", "exit 3"}, code: 3},
		{name: "command not found", args: []string{"nosuchcmd"}, errIs: ErrCommandNotFound,
			errMsg: `exec: "nosuchcmd": executable file not found in $PATH`},
		{name: "absolute path not found", args: []string{"/nope/x"}, errIs: ErrCommandNotFound},
		{name: "cannot invoke a directory", args: []string{"/etc"}, errIs: ErrCannotInvoke},
		{name: "cannot invoke a non-executable", args: []string{"/etc/passwd"}, errIs: ErrCannotInvoke},
		{name: "pid 1", args: []string{"sh", "-c", "echo $$"}, stdout: "1\n"},
		{name: "hostname", args: []string{"hostname"}, stdout: "isotest\n"},
		{name: "loopback up", args: []string{"sh", "-c", "ip link show lo | grep -q UP && ping -c 1 -W 2 127.0.0.1 >/dev/null && echo ok"}, stdout: "ok\n"},
		{name: "proc mounted, sys read-only", args: []string{"sh", "-c", "cat /proc/1/comm; grep ' /sys sysfs ro,' /proc/mounts >/dev/null && echo sysro; touch /sys/x 2>/dev/null || echo denied"},
			stdout: "sh\nsysro\ndenied\n"},
		{name: "host files invisible", args: []string{"sh", "-c", "test -e " + hostOnly + " && echo visible; cat /etc/hostfile-check"}, stdout: "in the container\n"},
		{name: "read-only bind", args: []string{"sh", "-c", "cat /ro/f; touch /ro/x 2>/dev/null || echo denied; touch /rw/y && echo wrote"},
			mod: func(s *specs.Spec) {
				s.Mounts = append(s.Mounts,
					specs.Mount{Destination: "/ro", Type: "bind", Source: roDir, Options: []string{"rbind", "ro"}},
					specs.Mount{Destination: "/rw", Type: "bind", Source: rwDir, Options: []string{"rbind"}})
			},
			stdout: "from host\ndenied\nwrote\n",
			check: func(t *testing.T) {
				if _, err := os.Stat(filepath.Join(rwDir, "y")); err != nil {
					t.Errorf("write through rw bind not on host: %v", err)
				}
				if _, err := os.Stat(filepath.Join(roDir, "x")); err == nil {
					t.Error("write through ro bind reached the host")
				}
			}},
		{name: "read-only rootfs", args: []string{"sh", "-c", "touch /x 2>/dev/null || echo denied"},
			mod: func(s *specs.Spec) { s.Root.Readonly = true }, stdout: "denied\n"},
		{name: "default capabilities", args: []string{"sh", "-c", "grep -E '^Cap(Eff|Bnd)' /proc/self/status"},
			stdout: "CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n"},
		{name: "no capabilities for a user", args: []string{"sh", "-c", "id -u; id -g; id -G; grep CapEff /proc/self/status"},
			mod: func(s *specs.Spec) {
				s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 27}}
				s.Process.Capabilities.Effective = nil
				s.Process.Capabilities.Permitted = nil
			},
			stdout: "1000\n1000\n1000 27\nCapEff:\t0000000000000000\n"},
		{name: "rlimit", args: []string{"sh", "-c", "ulimit -n"}, stdout: "1024\n"},
		{name: "rlimit clamped to the hard limit", args: []string{"sh", "-c", "ulimit -Hn"},
			mod: func(s *specs.Spec) {
				s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1 << 40, Hard: 1 << 40}}
			},
			stdout: fmt.Sprintf("%d\n", hardNofile())},
		{name: "masked and read-only paths", args: []string{"sh", "-c", "wc -c < /proc/timer_list; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo denied"},
			stdout: "0\n0\ndenied\n"},
		{name: "cwd and env", args: []string{"sh", "-c", "pwd; echo $FOO"},
			mod:    func(s *specs.Spec) { s.Process.Cwd = "/work/dir"; s.Process.Env = append(s.Process.Env, "FOO=bar") },
			stdout: "/work/dir\nbar\n"},
		{name: "dev nodes", args: []string{"sh", "-c", "ls /dev | sort | tr '\\n' ' '; head -c 4 /dev/zero | wc -c"},
			stdout: "console", contain: true},
		{name: "device rules (v1 devices cgroup)", args: []string{"sh", "-c", "head -c 1 /dev/zero | wc -c; head -c 1 /dev/urandom 2>&1 >/dev/null | grep -c 'not permitted'"},
			mod:    func(s *specs.Spec) { s.Linux.Resources = &specs.LinuxResources{Devices: noUrandomRead()} },
			stdout: "1\n1\n"},
		{name: "pids limit", args: []string{"cat", "/sys/fs/cgroup/pids/pids.max"},
			mod: func(s *specs.Spec) {
				n := int64(7)
				s.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &n}}
			},
			stdout: "7\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := dockerSpec(root, tt.args...)
			if tt.mod != nil {
				tt.mod(spec)
			}
			if tt.name == "dev nodes" {
				tt.stdout = "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero 4\n"
			}
			r := run(t, newContainer(t, spec))
			if tt.errIs != nil {
				if !errors.Is(r.err, tt.errIs) {
					t.Fatalf("Start error = %v, want %v", r.err, tt.errIs)
				}
				if tt.errMsg != "" && r.err.Error() != tt.errMsg {
					t.Errorf("message = %q, want %q", r.err, tt.errMsg)
				}
				return
			}
			if r.err != nil {
				t.Fatalf("Start: %v", r.err)
			}
			if r.status.Code != tt.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", r.status.Code, tt.code, r.stderr)
			}
			if r.stdout != tt.stdout {
				t.Errorf("stdout = %q, want %q (stderr %q)", r.stdout, tt.stdout, r.stderr)
			}
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
}

// startLong starts a container that keeps running until killed.
func startLong(t *testing.T, spec *specs.Spec) (*Container, *Process) {
	t.Helper()
	c := newContainer(t, spec)
	p, err := Start(c, Stdio{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { p.Signal(syscall.SIGKILL); p.Wait() })
	return c, p
}

func TestExec(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	spec := dockerSpec(root, "sleep", "1000")
	profile, err := seccomp.GetDefaultProfile(spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.Linux.Seccomp = profile
	c, p := startLong(t, spec)
	tests := []struct {
		name   string
		proc   specs.Process
		stdout string
		code   int
		errIs  error
	}{
		{name: "pid ns and hostname", proc: specs.Process{Args: []string{"sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; hostname; test $$ -ne 1 && echo notone"}},
			stdout: "sleep 1000 isotest\nnotone\n"},
		{name: "same mounts", proc: specs.Process{Args: []string{"sh", "-c", "cat /etc/hostfile-check; grep -c ' /proc proc' /proc/mounts"}},
			stdout: "in the container\n1\n"},
		{name: "user and cwd", proc: specs.Process{Args: []string{"sh", "-c", "id -u; pwd"}, Cwd: "/tmp", User: specs.User{UID: 1000, GID: 1000}},
			stdout: "1000\n/tmp\n"},
		{name: "exit code", proc: specs.Process{Args: []string{"sh", "-c", "exit 5"}}, code: 5},
		{name: "not found", proc: specs.Process{Args: []string{"nosuchcmd"}}, errIs: ErrCommandNotFound},
		{name: "the container's capabilities and seccomp", proc: specs.Process{Args: []string{"sh", "-c", "grep -E '^(CapEff|Seccomp):' /proc/self/status"}},
			stdout: "CapEff:\t00000000a80425fb\nSeccomp:\t2\n"},
		{name: "its own capabilities", proc: specs.Process{Args: []string{"sh", "-c", "grep -E '^CapEff:' /proc/self/status"},
			Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL"}}},
			stdout: "CapEff:\t0000000000000020\n"},
		{name: "in the cgroup", proc: specs.Process{Args: []string{"sh", "-c", "cat /proc/self/cgroup | grep -c ':pids:/$'"}},
			stdout: "1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proc := tt.proc
			proc.Env = []string{"PATH=/bin"}
			if proc.Cwd == "" {
				proc.Cwd = "/"
			}
			outR, outW, _ := os.Pipe()
			ep, err := Exec(c, p.Pid, &proc, Stdio{Stdout: outW, Stderr: outW})
			outW.Close()
			if tt.errIs != nil {
				outR.Close()
				if !errors.Is(err, tt.errIs) {
					t.Fatalf("Exec error = %v, want %v", err, tt.errIs)
				}
				return
			}
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			var out bytes.Buffer
			out.ReadFrom(outR)
			st, err := ep.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if st.Code != tt.code || out.String() != tt.stdout {
				t.Errorf("got code %d output %q, want %d %q", st.Code, out.String(), tt.code, tt.stdout)
			}
		})
	}
}

// TestExecWithoutProc: the exec stage finds its binary in the host's mount
// namespace, so a container without /proc can still be exec'd into; and
// no descriptor of ours leaks into the process.
func TestExecWithoutProc(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	spec := dockerSpec(root, "sleep", "1000")
	spec.Mounts = nil
	spec.Linux.MaskedPaths, spec.Linux.ReadonlyPaths = nil, nil
	c, p := startLong(t, spec)
	outR, outW, _ := os.Pipe()
	proc := &specs.Process{Args: []string{"sh", "-c", "ls /proc | wc -l"}, Env: []string{"PATH=/bin"}, Cwd: "/"}
	ep, err := Exec(c, p.Pid, proc, Stdio{Stdout: outW})
	outW.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	out.ReadFrom(outR)
	if st, err := ep.Wait(); err != nil || st.Code != 0 || out.String() != "0\n" {
		t.Errorf("exec: %+v %v %q", st, err, out.String())
	}
}

func TestNoLeakedFds(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	tests := []struct {
		name string
		mod  func(*specs.Spec)
	}{
		{"start", func(*specs.Spec) {}},
		{"re-exec in a user namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: 100001, Size: 1000}}
			s.Linux.GIDMappings = s.Linux.UIDMappings
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testExternalIDMaps = tt.name != "start"
			defer func() { testExternalIDMaps = false }()
			spec := dockerSpec(root, "ls", "/proc/self/fd")
			tt.mod(spec)
			r := run(t, newContainer(t, spec))
			if r.err != nil || r.stdout != "0\n1\n2\n3\n" { // 3: ls's own directory
				t.Errorf("fds: %q %v %q", r.stdout, r.err, r.stderr)
			}
		})
	}
}

func TestSignal(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	tests := []struct {
		name string
		args []string
		sig  syscall.Signal
		code int
	}{
		{"trapped TERM", []string{"sh", "-c", "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done"}, syscall.SIGTERM, 7},
		{"KILL", []string{"sh", "-c", "echo ready; sleep 1000"}, syscall.SIGKILL, 137},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newContainer(t, dockerSpec(root, tt.args...))
			outR, outW, _ := os.Pipe()
			p, err := Start(c, Stdio{Stdout: outW})
			outW.Close()
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 6)
			outR.Read(buf) // "ready": the trap is installed
			if err := p.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			st, err := p.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if st.Code != tt.code {
				t.Errorf("code = %d, want %d", st.Code, tt.code)
			}
		})
	}
}

func TestOverlayRootfs(t *testing.T) {
	requireRoot(t)
	lower := busyboxRootfs(t)
	dir := t.TempDir()
	upper, work, merged := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
	for _, d := range []string{upper, work, merged} {
		os.Mkdir(d, 0o755)
	}
	spec := dockerSpec(merged, "sh", "-c", "echo new > /etc/written; cat /etc/hostfile-check")
	c := newContainer(t, spec)
	c.Rootfs = &specs.Mount{Type: "overlay", Source: "overlay",
		Options: []string{"lowerdir=" + lower, "upperdir=" + upper, "workdir=" + work}}
	r := run(t, c)
	if r.err != nil || r.status.Code != 0 || r.stdout != "in the container\n" {
		t.Fatalf("run: %v code %d out %q err %q", r.err, r.status.Code, r.stdout, r.stderr)
	}
	if data, err := os.ReadFile(filepath.Join(upper, "etc/written")); err != nil || string(data) != "new\n" {
		t.Errorf("upper dir: %q %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(lower, "etc/written")); err == nil {
		t.Error("write reached the lower dir")
	}
	if entries, _ := os.ReadDir(merged); len(entries) != 0 {
		t.Error("overlay visible on the host's mount point")
	}
}

func TestCgroupLifecycle(t *testing.T) {
	requireRoot(t)
	if ok, why := CgroupsAvailable(); !ok {
		t.Fatalf("cgroups unavailable as root: %s", why)
	}
	root := busyboxRootfs(t)
	limit := int64(32 << 20)
	spec := dockerSpec(root, "tail", "/dev/zero") // buffers a line that never ends
	spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &limit}}
	c := newContainer(t, spec)
	g := cgroupFor(c)
	done := make(chan result, 1)
	go func() { done <- run(t, c) }()
	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("memory hog was not OOM-killed")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !r.status.OOMKilled || r.status.Code != 137 {
		t.Errorf("status = %+v, want OOMKilled and 137", r.status)
	}
	if err := Cleanup(c); err != nil {
		t.Fatal(err)
	}
	for _, dir := range g.dirs {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s left behind", dir)
		}
	}
}

func TestStartTime(t *testing.T) {
	a, err := StartTime(os.Getpid())
	if err != nil || a == 0 {
		t.Fatalf("StartTime(self) = %d, %v", a, err)
	}
	if _, err := StartTime(1 << 30); err == nil {
		t.Error("StartTime of a missing pid did not fail")
	}
}

func TestShortenLowerdirs(t *testing.T) {
	dir := t.TempDir()
	var lowers []string
	for i := range 60 {
		d := filepath.Join(dir, "layers", fmt.Sprintf("sha256-%064d", i), "fs")
		lowers = append(lowers, d)
	}
	data := "lowerdir=" + strings.Join(lowers, ":") + ",upperdir=/u,workdir=/w"
	os.MkdirAll(filepath.Join(dir, "layers"), 0o755)
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	got := shortenLowerdirs(data)
	if len(got) >= len(data) || !strings.HasPrefix(got, "lowerdir=sha256-") || !strings.HasSuffix(got, ",upperdir=/u,workdir=/w") {
		t.Errorf("shortened to %q", got)
	}
	if cwd, _ := os.Getwd(); cwd != filepath.Join(dir, "layers") {
		t.Errorf("cwd = %s", cwd)
	}
}

// BenchmarkRunTrue: Start + Wait + Cleanup of `true` (the core of
// `skiff run --rm busybox true`).
func BenchmarkRunTrue(b *testing.B) {
	root := busyboxRootfs(b)
	var tStart, tWait, tClean time.Duration
	defer func() {
		n := time.Duration(b.N)
		b.Logf("start %v wait %v cleanup %v", tStart/n, tWait/n, tClean/n)
	}()
	for b.Loop() {
		t0 := time.Now()
		seq++
		c := &Container{ID: fmt.Sprintf("isobench-%d-%d", os.Getpid(), seq), Spec: dockerSpec(root, "true")}
		p, err := Start(c, Stdio{})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := p.Wait(); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := Cleanup(c); err != nil {
			b.Fatal(err)
		}
		tStart += t1.Sub(t0)
		tWait += t2.Sub(t1)
		tClean += time.Since(t2)
	}
}

// TestMultiRangeUserNS covers the rootless multi-range route (maps written
// after the clone, then a re-exec to gain capabilities), run as root with
// the maps written directly instead of by newuidmap. As rootless, the
// caller's own id is the one mapped to 0.
func TestMultiRangeUserNS(t *testing.T) {
	requireRoot(t)
	testExternalIDMaps = true
	defer func() { testExternalIDMaps = false }()
	root := busyboxRootfs(t)
	spec := dockerSpec(root, "sh", "-c", "cat /proc/self/uid_map | tr -s ' ' | tr '\\n' ';'; id -u; grep CapEff /proc/self/status")
	spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: 100001, Size: 1000}}
	spec.Linux.GIDMappings = spec.Linux.UIDMappings
	spec.Linux.Resources = nil
	r := run(t, newContainer(t, spec))
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := " 0 0 1; 1 100001 1000;0\nCapEff:\t00000000a80425fb\n"
	if r.stdout != want {
		t.Errorf("stdout %q, want %q (stderr %q)", r.stdout, want, r.stderr)
	}
}

// Prepare runs before the child has its config, Started after, both with
// its pid; a failing Started kills the child and fails the start.
func TestStartHooks(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	t.Run("order", func(t *testing.T) {
		c := newContainer(t, dockerSpec(root, "/bin/true"))
		var calls []string
		var pids []int
		c.Prepare = func(pid int) error { calls, pids = append(calls, "prepare"), append(pids, pid); return nil }
		c.Started = func(pid int) error { calls, pids = append(calls, "started"), append(pids, pid); return nil }
		r := run(t, c)
		if r.err != nil || r.status.Code != 0 {
			t.Fatalf("start: %v, status %+v, stderr %q", r.err, r.status, r.stderr)
		}
		if strings.Join(calls, ",") != "prepare,started" || pids[0] <= 0 || pids[0] != pids[1] {
			t.Fatalf("hooks ran %v with pids %v; want prepare then started, one pid", calls, pids)
		}
	})
	t.Run("started fails", func(t *testing.T) {
		c := newContainer(t, dockerSpec(root, "/bin/sleep", "100"))
		var pid int
		c.Started = func(p int) error { pid = p; return errors.New("no socket for you") }
		r := run(t, c)
		if r.err == nil || !strings.Contains(r.err.Error(), "no socket for you") {
			t.Fatalf("start error %v, want the hook's", r.err)
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("the child (pid %d) is still there after a failed start: kill 0 gave %v", pid, err)
		}
	})
}

// The init stage is forked with a large timer slack (timerslack.go); the
// container's process gets the slack of the thread that started it.
func TestTimerSlackRestored(t *testing.T) {
	requireRoot(t)
	root := busyboxRootfs(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	old, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	const mine = 123457
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, mine, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0)
	r := run(t, newContainer(t, dockerSpec(root, "/bin/cat", "/proc/self/timerslack_ns")))
	if r.err != nil || r.status.Code != 0 {
		t.Fatalf("start: %v, status %+v, stderr %q", r.err, r.status, r.stderr)
	}
	if got := strings.TrimSpace(r.stdout); got != fmt.Sprint(mine) {
		t.Fatalf("the container's timer slack is %s ns, want its starter's %d", got, mine)
	}
}
