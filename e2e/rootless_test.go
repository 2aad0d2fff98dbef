package e2e

// Rootless: storage under $XDG_DATA_HOME/skiff and $XDG_RUNTIME_DIR/skiff,
// private to the user; the user namespace (skiffsub: its subordinate
// ranges, skiffnosub: itself only); container root is the user on the host;
// unshare, info, limits without a cgroup, and networking through pasta.

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rootlessModes are the unprivileged users.
var rootlessModes = []string{"skiffsub", "skiffnosub"}

// forEachRootless runs fn as each unprivileged user, in parallel.
func forEachRootless(t *testing.T, fn func(t *testing.T, env *Env)) {
	t.Helper()
	forModes(t, rootlessModes, fn)
}

func init() {
	// pasta opens /dev/net/tun inside the container's network namespace,
	// where the host's root-owned node is "nobody"'s: a rootless user can
	// only open it if everyone may (Debian ships it 0666; this host 0600).
	if fi, err := os.Stat("/dev/net/tun"); err == nil && fi.Mode().Perm() != 0o666 && os.Geteuid() == 0 {
		os.Chmod("/dev/net/tun", 0o666)
	}
}

func TestRootlessDefaultStore(t *testing.T) {
	t.Parallel()
	for _, mode := range rootlessModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			env := newEnvAs(t, users[mode])
			env.DefaultRoots = true
			env.mustRun("pull", "-q", "busybox")
			if _, err := os.Stat(env.Root); err != nil {
				t.Fatalf("no store at $XDG_DATA_HOME/skiff: %v", err)
			}
			checkStoreOwnership(t, env)
			if got := strings.TrimSpace(env.mustRun("images", "-q")); got != fx.Busybox.ShortID() {
				t.Errorf("images -q = %q", got)
			}
			// Another user's skiff cannot read this store, even with every
			// directory above it open: the store's own 0700 keeps it private.
			for _, d := range []string{env.Dir, env.Path("data")} {
				if err := os.Chmod(d, 0o711); err != nil {
					t.Fatal(err)
				}
			}
			other := newEnvAs(t, users[otherMode(mode)])
			other.DefaultRoots = true
			if got := strings.TrimSpace(other.mustRun("images", "-q")); got != "" {
				t.Errorf("%s's own store lists %q", other.Mode, got)
			}
			other.DefaultRoots = false
			other.Root = env.Root
			if res := other.run("images", "-q"); res.Code == 0 && strings.Contains(res.Stdout, fx.Busybox.ShortID()) {
				t.Errorf("%s listed %s's images: %q", other.Mode, mode, res.Stdout)
			}
			ls := exec.Command("/bin/ls", env.Root)
			ls.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
				Uid: uint32(other.User.Uid), Gid: uint32(other.User.Gid), Groups: []uint32{}}}
			if out, err := ls.CombinedOutput(); err == nil {
				t.Errorf("%s can list %s's store: %s", other.Mode, mode, out)
			}
		})
	}
}

func otherMode(m string) string {
	if m == "skiffsub" {
		return "skiffnosub"
	}
	return "skiffsub"
}

// ownerInImage is what a file chowned to 1000:1000 in an image shows inside
// a container: itself with subordinate ids, root with a single mapping (the
// chown cannot be done, as podman's ignore_chown_errors).
func ownerInImage(env *Env) string {
	if env.User != nil && env.User.SubCount == 0 {
		return "0:0"
	}
	return "1000:1000"
}

// TestRunRootlessCommands: pull, run, exec, commit, build, save, load, rm -f
// and system prune as each unprivileged user; owners survive every step and
// nothing in the store belongs to host root, nor survives the prune.
func TestRunRootlessCommands(t *testing.T) {
	t.Parallel()
	forEachRootless(t, func(t *testing.T, env *Env) {
		sub := env.User.SubCount > 0
		want := ownerInImage(env)
		env.mustRun("pull", "-q", "busybox")
		user := "0"
		if sub {
			user = "1000" // a container process the user's own uid does not own
		}
		env.mustRun("run", "-d", "--name", "sleeper", "-u", user, "busybox", "sleep", "1000")
		if got := strings.TrimSpace(env.mustRun("exec", "sleeper", "id", "-u")); got != user {
			t.Errorf("exec id -u = %q, want %s", got, user)
		}
		env.mustRun("exec", "-u", "0", "sleeper", "sh", "-c", "echo made > /made; chown 1000:1000 /made || true")
		env.mustRun("commit", "sleeper", "committed:v1")
		if got := strings.TrimSpace(env.mustRun("run", "--rm", "committed:v1", "stat", "-c", "%u:%g", "/made")); got != want {
			t.Errorf("committed /made owner %s, want %s", got, want)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(env.mustRun("inspect", "-f", "{{.State.Pid}}", "sleeper")))
		env.mustRun("rm", "-f", "sleeper")
		if pid > 0 {
			eventually(t, 5*time.Second, "the removed container's process to exit", func() bool {
				_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
				return err != nil
			})
		}

		ctx := writeContext(t, env, "ctx", map[string]string{
			"Dockerfile": "FROM busybox\nRUN touch /built && (chown 1000:1000 /built || true)\n"})
		env.mustRun("build", "-t", "built", ctx)
		if got := strings.TrimSpace(env.mustRun("run", "--rm", "built", "stat", "-c", "%u:%g", "/built")); got != want {
			t.Errorf("built /built owner %s, want %s", got, want)
		}

		archive := env.Path("committed.tar")
		env.mustRun("save", "-o", archive, "committed:v1")
		fresh := newEnvAs(t, env.User)
		fresh.mustRun("load", "-i", archive)
		if got := strings.TrimSpace(fresh.mustRun("run", "--rm", "committed:v1", "stat", "-c", "%u:%g", "/made")); got != want {
			t.Errorf("loaded /made owner %s, want %s", got, want)
		}
		checkStoreOwnership(t, env)
		checkStoreOwnership(t, fresh)

		// A directory only the container's uid 1000 may enter still counts.
		env.mustRun("run", "--name", "stopped", "busybox", "sh", "-c",
			"mkdir -p /s/d && echo hello > /s/d/f && (chown -R 1000:1000 /s || true) && chmod 700 /s")
		if got := strings.TrimSpace(env.mustRun("inspect", "-s", "-f", "{{.SizeRw}}", "stopped")); got == "0" || got == "" {
			t.Errorf("inspect -s SizeRw = %q, want the 6 bytes written", got)
		}
		env.mustRun("system", "prune", "-af")
		if got := env.mustRun("ps", "-aq"); strings.TrimSpace(got) != "" {
			t.Errorf("containers left after system prune: %q", got)
		}
		if got := env.mustRun("images", "-q"); strings.TrimSpace(got) != "" {
			t.Errorf("images left after system prune -a: %q", got)
		}
		if sub {
			if left := subOwned(env); len(left) > 0 {
				t.Errorf("files owned by subordinate ids survive system prune -a: %v", left)
			}
		}
		checkStoreOwnership(t, env)
	})
}

// subOwned lists (some) files in env's store owned by its subordinate ids.
func subOwned(env *Env) []string {
	var out []string
	lo, hi := uint32(env.User.SubStart), uint32(env.User.SubStart+env.User.SubCount)
	filepath.Walk(env.Root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && len(out) < 5 {
			if uid := fi.Sys().(*syscall.Stat_t).Uid; uid >= lo && uid < hi {
				out = append(out, p)
			}
		}
		return nil
	})
	return out
}

// TestRunRootlessBindMounts: container root is the user on the host. It
// cannot write to a root-owned directory, bound read-only or read-write,
// and what it creates in the user's own directory belongs to the user.
func TestRunRootlessBindMounts(t *testing.T) {
	t.Parallel()
	forEachRootless(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "busybox")
		rootDir := env.Path("rootdir")
		if err := os.Mkdir(rootDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(rootDir, "f"), []byte("root's\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, spec := range []string{rootDir + ":/mnt:ro", rootDir + ":/mnt"} {
			res := env.run("run", "--rm", "-v", spec, "busybox", "sh", "-c", "cat /mnt/f; echo x > /mnt/f; touch /mnt/new")
			if res.Code == 0 {
				t.Errorf("-v %s: container root wrote to a root-owned directory\n%s", spec, res)
			}
			if !strings.Contains(res.Stdout, "root's") {
				t.Errorf("-v %s: cannot read the root-owned file: %s", spec, res)
			}
			if !strings.Contains(res.Stderr, "Read-only file system") && !strings.Contains(res.Stderr, "Permission denied") {
				t.Errorf("-v %s: want EROFS or EACCES, got %q", spec, res.Stderr)
			}
			if data, _ := os.ReadFile(filepath.Join(rootDir, "f")); string(data) != "root's\n" {
				t.Errorf("-v %s: the root-owned file changed: %q", spec, data)
			}
			if _, err := os.Stat(filepath.Join(rootDir, "new")); err == nil {
				t.Errorf("-v %s: a file appeared in the root-owned directory", spec)
			}
		}
		userDir := env.Path("userdir")
		if err := os.Mkdir(userDir, 0o755); err != nil {
			t.Fatal(err)
		}
		env.chown(userDir)
		env.mustRun("run", "--rm", "-v", userDir+":/w", "busybox", "sh", "-c", "echo hi > /w/made")
		fi, err := os.Stat(filepath.Join(userDir, "made"))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != env.User.Uid || int(st.Gid) != env.User.Gid {
			t.Errorf("file made by container root is %d:%d on the host, want the user's %d:%d", st.Uid, st.Gid, env.User.Uid, env.User.Gid)
		}
	})
}

// TestRootlessUnshare: unshare runs a command as root of the user
// namespace, mapped as podman unshare maps it; root is refused.
func TestRootlessUnshare(t *testing.T) {
	t.Parallel()
	forEachRootless(t, func(t *testing.T, env *Env) {
		want := fmt.Sprintf("0 %d 1", env.User.Uid)
		if env.User.SubCount > 0 {
			want += fmt.Sprintf(" 1 %d %d", env.User.SubStart, env.User.SubCount)
		}
		if got := strings.Join(strings.Fields(env.mustRun("unshare", "cat", "/proc/self/uid_map")), " "); got != want {
			t.Errorf("unshare cat /proc/self/uid_map = %q, want %q", got, want)
		}
		if got := strings.TrimSpace(env.mustRun("unshare", "sh", "-c", "id -u; echo $SKIFF_ROOT")); got != "0\n"+env.Root {
			t.Errorf("unshare id -u; echo $SKIFF_ROOT = %q", got)
		}
		if res := env.run("unshare", "sh", "-c", "exit 7"); res.Code != 7 {
			t.Errorf("unshare sh -c 'exit 7' exited %d", res.Code)
		}
		env.mustFail(127, "unshare", "no-such-command")
	})
	t.Run("root", func(t *testing.T) {
		t.Parallel()
		res := newEnv(t).mustFail(125, "unshare", "true")
		if !strings.Contains(res.Stderr, "please use unshare with rootless") {
			t.Errorf("stderr %q", res.Stderr)
		}
	})
}

// TestRootlessInfo: info tells rootless mode, the id maps, overlay with
// userxattr and whether containers get a cgroup; without one, limits fail
// with one clear line instead of being ignored.
func TestRootlessInfo(t *testing.T) {
	t.Parallel()
	forEachRootless(t, func(t *testing.T, env *Env) {
		out := env.mustRun("info")
		maps := fmt.Sprintf("0:%d:1", env.User.Uid)
		if env.User.SubCount > 0 {
			maps += fmt.Sprintf(" 1:%d:%d", env.User.SubStart, env.User.SubCount)
		}
		for _, want := range []string{"Rootless:", "UID Map:", "Storage Driver:", "userxattr:", "Cgroups:"} {
			if !strings.Contains(out, want) {
				t.Errorf("info lacks %q:\n%s", want, out)
			}
		}
		if field(out, "Rootless") != "true" || field(out, "UID Map") != maps || field(out, "userxattr") != "true" {
			t.Errorf("info: Rootless %q, UID Map %q (want %q), userxattr %q", field(out, "Rootless"), field(out, "UID Map"), maps, field(out, "userxattr"))
		}
		if !strings.HasPrefix(field(out, "Cgroups"), "unavailable") {
			return // a delegated cgroup: limits apply (limits_test covers them)
		}
		env.mustRun("pull", "-q", "busybox")
		for _, flag := range [][]string{{"--memory", "64m"}, {"--cpus", "1"}, {"--pids-limit", "10"}} {
			res := env.mustFail(125, append(append([]string{"run", "--rm"}, flag...), "busybox", "true")...)
			if !strings.Contains(res.Stderr, "need a cgroup") {
				t.Errorf("run %s: %q, want the reason (no cgroup)", flag[0], res.Stderr)
			}
		}
	})
}

// field is the value of "Key: value" in info's output.
func field(out, key string) string {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestRunRootlessNetwork: with pasta or slirp4netns installed (pasta
// preferred; SKIFF_ROOTLESS_NETWORK_CMD picks one) a rootless container
// reaches a TCP server on the host through its default gateway (both map
// it to the host); --network none, or neither tool, means loopback only.
// There is no outside network here, so the server is the test's own.
func TestRunRootlessNetwork(t *testing.T) {
	t.Parallel()
	defaultGateway(t) // pasta copies the host's routes: it needs a default one
	ln, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // after the parallel subtests, unlike defer
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello from the host\n"))
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	// The server speaks first and closes; the client keeps its side open
	// meanwhile (pasta releases before 2023-06 lose the server's FIN after
	// a client's half-close).
	script := fmt.Sprintf("set -- $(ip route | grep ^default); sleep 3 | nc -w 5 \"${3:-192.0.2.1}\" %d", port)
	var tools []string
	for _, tool := range []string{"pasta", "slirp4netns"} {
		if _, err := exec.LookPath(tool); err == nil {
			tools = append(tools, tool)
		}
	}
	forEachRootless(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "busybox")
		if len(tools) == 0 {
			if res := env.run("run", "--rm", "busybox", "sh", "-c", script); res.Code == 0 {
				t.Errorf("without pasta or slirp4netns, the container reached the host:\n%s", res)
			}
		}
		for _, tool := range tools {
			env.Vars = []string{"SKIFF_ROOTLESS_NETWORK_CMD=" + tool}
			res := env.run("run", "--rm", "busybox", "sh", "-c", script)
			if got := strings.TrimSpace(res.Stdout); got != "hello from the host" {
				t.Errorf("with %s, the container did not reach the host's server on port %d:\n%s", tool, port, res)
			}
			res = env.run("run", "--rm", "--network", "none", "busybox", "sh", "-c", script)
			if res.Code == 0 {
				t.Errorf("--network none reached the host (%s installed):\n%s", tool, res)
			}
		}
		if out := env.mustRun("run", "--rm", "--network", "none", "busybox", "ip", "-o", "link"); strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("--network none has more than loopback:\n%s", out)
		}
	})
}

// defaultGateway reads the host's IPv4 default gateway from /proc/net/route.
func defaultGateway(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("/proc/net/route")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) > 2 && f[1] == "00000000" {
			v, err := strconv.ParseUint(f[2], 16, 32)
			if err == nil && v != 0 {
				return net.IPv4(byte(v), byte(v>>8), byte(v>>16), byte(v>>24)).String()
			}
		}
	}
	t.Fatal("no IPv4 default route: pasta needs one to copy")
	return ""
}
