package e2e

// run/create options as Docker's: environment, working dir, user,
// entrypoint, hostname, labels, mounts, volumes, networks, cidfile.

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRunEnvOptions(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		file := env.WriteFile("env.list", []byte("# comment\nFROMFILE=yes\nLIST=a,b\n\nOVER=file\n"))
		env.Vars = append(env.Vars, "PASSED=through")
		out := env.mustRun("run", "--rm", "-e", "A=1,2", "--env", "OVER=flag", "-e", "PASSED", "-e", "UNSET_HERE",
			"--env-file", file, "busybox", "sh", "-c", `echo "$A|$FROMFILE|$LIST|$OVER|$PASSED|${UNSET_HERE-unset}|$PATH"`)
		if want := "1,2|yes|a,b|flag|through|unset|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"; out != want {
			t.Errorf("environment: %q, want %q", out, want)
		}
		res := env.mustFail(125, "run", "--rm", "--env-file", env.Path("missing.env"), "busybox", "true")
		if !strings.Contains(res.Stderr, "missing.env") || !strings.Contains(res.Stderr, "no such file or directory") {
			t.Errorf("missing env file: %q", res.Stderr)
		}
		if out := env.mustRun("ps", "-aq"); out != "" {
			t.Errorf("a rejected run left a container: %q", out)
		}
	})
}

func TestRunProcessOptions(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		if out := env.mustRun("run", "--rm", "-w", "/made/here", "busybox", "pwd"); out != "/made/here\n" {
			t.Errorf("-w: %q", out)
		}
		env.mustFail(125, "run", "--rm", "-w", "relative", "busybox", "pwd")
		for _, c := range []struct{ user, want string }{
			{"app", "1000 1000 app"},
			{"1000:0", "1000 0 app"},
			{"nobody:app", "65534 1000 nobody"},
			{"4242", "4242 0 4242"}, // busybox id -un prints an unknown uid as a number
			{"root", "0 0 root"},
		} {
			res := env.run("run", "--rm", "-u", c.user, "busybox", "sh", "-c", "echo $(id -u) $(id -g) $(id -un 2>/dev/null)")
			if env.Mode == "skiffnosub" && c.user != "root" {
				// Only uid/gid 0 is mapped without /etc/subuid: other ids
				// cannot exist in the container (podman fails the same way).
				if res.Code != 125 || len(errorLines(res.Stderr)) != 1 {
					t.Errorf("-u %s with a single id mapping: %s", c.user, res)
				}
				continue
			}
			if res.Code != 0 || strings.TrimSpace(res.Stdout) != c.want {
				t.Errorf("-u %s: %s\nwant %q", c.user, res, c.want)
			}
		}
		res := env.mustFail(125, "run", "--rm", "-u", "nosuchuser", "busybox", "true")
		if !strings.Contains(res.Stderr, "nosuchuser") {
			t.Errorf("-u nosuchuser: %q", res.Stderr)
		}
		// skiff forks its init stage with a larger timer slack
		// (isolate/timerslack.go): the container must get its caller's.
		if mine, err := os.ReadFile("/proc/self/timerslack_ns"); err != nil {
			t.Error(err)
		} else if out := env.mustRun("run", "--rm", "busybox", "cat", "/proc/self/timerslack_ns"); out != string(mine) {
			t.Errorf("the container's timer slack: %q, the caller's %q", out, mine)
		}
		if out := env.mustRun("run", "--rm", "--entrypoint", "echo", "busybox", "via", "entrypoint"); out != "via entrypoint\n" {
			t.Errorf("--entrypoint: %q", out)
		}
		if out := env.mustRun("run", "--rm", "-h", "myhost", "busybox", "sh", "-c", "hostname; cat /etc/hostname; grep -c myhost /etc/hosts"); out != "myhost\nmyhost\n1\n" {
			t.Errorf("-h myhost: %q", out)
		}
		env.mustRun("create", "--name", "labelled", "-l", "tier=web", "--label", "team=a,b", "busybox")
		env.mustRun("create", "--name", "plain", "busybox")
		if out := env.mustRun("ps", "-a", "-f", "label=tier=web", "--format", "{{.Names}}"); out != "labelled\n" {
			t.Errorf("ps -f label=tier=web: %q", out)
		}
		if out := env.mustRun("ps", "-a", "-f", "label=team", "--format", "{{.Names}} {{.Label \"team\"}}"); out != "labelled a,b\n" {
			t.Errorf("ps -f label=team: %q", out)
		}
		if out := inspectF(env, "{{json .Config.Labels}}", "labelled"); out != `{"team":"a,b","tier":"web"}` {
			t.Errorf("labels in inspect: %s", out)
		}
	})
}

func TestRunMountOptions(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		host := env.Path("shared")
		if err := os.Mkdir(host, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := env.chown(host); err != nil {
			t.Fatal(err)
		}
		env.WriteFile("shared/in", []byte("from host\n"))
		out := env.mustRun("run", "--rm", "-v", host+":/mnt", "busybox", "sh", "-c", "cat /mnt/in; echo from ctr > /mnt/out")
		if out != "from host\n" {
			t.Errorf("bind mount read: %q", out)
		}
		if data, err := os.ReadFile(filepath.Join(host, "out")); err != nil || string(data) != "from ctr\n" {
			t.Errorf("bind mount write: %q %v", data, err)
		}
		res := env.run("run", "--rm", "-v", host+":/mnt:ro", "busybox", "sh", "-c", "cat /mnt/in; echo no > /mnt/ro")
		if res.Code == 0 || res.Stdout != "from host\n" || !strings.Contains(res.Stderr, "Read-only file system") {
			t.Errorf(":ro bind: %s", res)
		}
		env.mustFail(125, "run", "--rm", "-v", host+":relative", "busybox", "true")
		env.mustFail(125, "run", "--rm", "-v", host+":/mnt:bogus", "busybox", "true")

		// Named volumes outlive their containers.
		env.mustRun("run", "--rm", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f")
		if out := env.mustRun("run", "--rm", "-v", "data:/data:ro", "busybox", "cat", "/data/f"); out != "kept\n" {
			t.Errorf("named volume: %q", out)
		}
		if out := env.mustRun("volume", "ls", "-q"); out != "data\n" {
			t.Errorf("volume ls -q: %q", out)
		}

		out = env.mustRun("run", "--rm", "--tmpfs", "/scratch", "busybox", "sh", "-c", "grep ' /scratch ' /proc/mounts | cut -d' ' -f3; echo x > /scratch/x && cat /scratch/x")
		if out != "tmpfs\nx\n" {
			t.Errorf("--tmpfs: %q", out)
		}
		res = env.run("run", "--rm", "--read-only", "--tmpfs", "/tmp", "busybox", "sh", "-c", "echo ok > /tmp/ok && cat /tmp/ok; touch /etc/nope")
		if res.Code == 0 || res.Stdout != "ok\n" || !strings.Contains(res.Stderr, "Read-only file system") {
			t.Errorf("--read-only: %s", res)
		}
	})
}

func TestRunNetworkOptions(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		res := env.run("run", "--rm", "busybox", "ping", "-c", "1", "-W", "2", "127.0.0.1")
		if res.Code != 0 || !strings.Contains(res.Stdout, "1 packets received") {
			t.Errorf("ping 127.0.0.1 in the default network: %s", res)
		}
		// Root: a private namespace with loopback only. Rootless may add its
		// user-mode network's one interface (pasta/slirp4netns), as podman.
		want := "lo"
		if env.Mode != "root" {
			want = "eth0 lo|lo|tap0 lo"
		}
		if out := env.mustRun("run", "--rm", "busybox", "ls", "/sys/class/net"); !slices.Contains(strings.Split(want, "|"), strings.Join(lines(out), " ")) {
			t.Errorf("default network interfaces: %q, want %s", out, want)
		}
		if out := env.mustRun("run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"); strings.Join(lines(out), " ") != "lo" {
			t.Errorf("--network none interfaces: %q", out)
		}
		// Other tests (podman's bridge, pasta) add and remove host
		// interfaces meanwhile: the container must see every one that
		// exists both before and after its run.
		before := hostInterfaces(t)
		out := env.mustRun("run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net")
		after := hostInterfaces(t)
		seen := map[string]bool{}
		for _, l := range lines(out) {
			seen[l] = true
		}
		for name := range before {
			if after[name] && !seen[name] {
				t.Errorf("--network host sees %q, not the host's %s", out, name)
			}
		}
		if len(seen) < 2 {
			t.Errorf("--network host sees only %q", out)
		}
		env.mustFail(125, "run", "--rm", "--network", "nosuchnet", "busybox", "true")
	})
}

func TestRunCidfile(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		cid := env.Path("cid")
		id := runD(t, env, "--cidfile", cid, "busybox", "sleep", "100")
		if data, err := os.ReadFile(cid); err != nil || string(data) != id {
			t.Errorf("cidfile holds %q (%v), want %s", data, err, id)
		}
		res := env.mustFail(125, "run", "-d", "--cidfile", cid, "busybox", "true")
		if !strings.Contains(res.Stderr, "container ID file found") {
			t.Errorf("existing cidfile: %q", res.Stderr)
		}
		env.mustRun("rm", "-f", id)
	})
}

// hostInterfaces lists the host's network interfaces.
func hostInterfaces(t *testing.T) map[string]bool {
	t.Helper()
	ents, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, e := range ents {
		m[e.Name()] = true
	}
	return m
}

// A new named volume takes the image's content at its mount point with
// owners and modes, its root included, as Docker does (redis' /data).
func TestRunBuildVolumeFillOwnership(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		run := "RUN mkdir /data && echo seeded > /data/f && chmod 750 /data && chmod 600 /data/f"
		want := "/data 1000:1001 750\n/data/f 1002:1003 600\nseeded\n"
		if env.Mode == "skiffnosub" { // a single-id map has only root: modes only
			want = "/data 0:0 750\n/data/f 0:0 600\nseeded\n"
		} else {
			run += " && chown 1000:1001 /data && chown 1002:1003 /data/f"
		}
		ctx := writeContext(t, env, "volctx", map[string]string{"Dockerfile": "FROM busybox\n" + run + "\n"})
		env.mustRun("build", "-q", "-t", "owned", ctx)
		out := env.mustRun("run", "--rm", "-v", "fill:/data", "owned", "sh", "-c", "stat -c '%n %u:%g %a' /data /data/f; cat /data/f")
		if out != want {
			t.Errorf("volume filled from the image:\n%s\nwant\n%s", out, want)
		}
	})
}

// --add-host, --dns*, --group-add and the host's PID, IPC and UTS
// namespaces (--pid/--ipc/--uts host).
func TestRunHostOptions(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		out := env.mustRun("run", "--rm", "--add-host", "db:10.1.2.3", "--add-host", "v6=::1",
			"--dns", "192.0.2.53", "--dns-search", "example.com", "--dns-option", "ndots:2",
			"busybox", "sh", "-c", "tail -n 2 /etc/hosts; grep -v '^#' /etc/resolv.conf")
		if want := "10.1.2.3\tdb\n::1\tv6\nsearch example.com\nnameserver 192.0.2.53\noptions ndots:2\n"; out != want {
			t.Errorf("hosts and resolv.conf:\n%s\nwant:\n%s", out, want)
		}
		if env.Mode != "skiffnosub" { // a single-id map has no uid 1000 or group 10
			if out := env.mustRun("run", "--rm", "-u", "1000", "--group-add", "10", "--group-add", "1234", "busybox", "id"); out != "uid=1000(app) gid=1000(app) groups=10,1234\n" {
				t.Errorf("--group-add: %q", out)
			}
		}
		const countProcs = "ls /proc | grep -c '^[0-9]'"
		private, _ := strconv.Atoi(strings.TrimSpace(env.mustRun("run", "--rm", "busybox", "sh", "-c", countProcs)))
		shared, _ := strconv.Atoi(strings.TrimSpace(env.mustRun("run", "--rm", "--pid", "host", "busybox", "sh", "-c", countProcs)))
		if private > 3 || shared < 10 {
			t.Errorf("processes seen: %d in a private PID namespace, %d with --pid host", private, shared)
		}
		host, _ := os.Hostname()
		if out := env.mustRun("run", "--rm", "--uts", "host", "busybox", "hostname"); out != host+"\n" {
			t.Errorf("--uts host: hostname %q, want %q", out, host)
		}
		shm := filepath.Join("/dev/shm", "skiff-e2e-"+env.Mode+"-"+strconv.Itoa(os.Getpid()))
		if err := os.WriteFile(shm, []byte("shared\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(shm)
		if out := env.mustRun("run", "--rm", "--ipc", "host", "busybox", "cat", shm); out != "shared\n" {
			t.Errorf("--ipc host: %q", out)
		}
		env.mustFail(1, "run", "--rm", "busybox", "cat", shm) // a private /dev/shm
		got := inspectF(env, "{{.HostConfig.IpcMode}}", strings.TrimSpace(env.mustRun("create", "busybox", "true")))
		if got != "private" {
			t.Errorf("default IpcMode %q", got)
		}
		for _, bad := range [][]string{{"--ipc", "bogus"}, {"--pid", "container:x"}, {"--add-host", "nocolon"},
			{"--dns", "not-an-ip"}, {"--uts", "host", "-h", "x"}} {
			env.mustFail(125, append(append([]string{"run", "--rm"}, bad...), "busybox", "true")...)
		}
	})
}

// --mount: Docker's long form of -v and --tmpfs.
func TestRunMountFlag(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		host := writeContext(t, env, "mnt", map[string]string{"f": "from host\n"})
		res := env.run("run", "--rm", "--mount", "type=bind,source="+host+",target=/m,readonly",
			"--mount", "source=mvol,target=/v", "--mount", "type=tmpfs,destination=/t,tmpfs-mode=1770",
			"busybox", "sh", "-c", "cat /m/f; echo kept > /v/k; stat -c %a /t; grep -c ' /t tmpfs ' /proc/mounts; touch /m/no")
		if res.Code == 0 || res.Stdout != "from host\n1770\n1\n" || !strings.Contains(res.Stderr, "Read-only file system") {
			t.Errorf("--mount bind (ro), volume and tmpfs: %s", res)
		}
		if out := env.mustRun("run", "--rm", "-v", "mvol:/v", "busybox", "cat", "/v/k"); out != "kept\n" {
			t.Errorf("--mount's named volume: %q", out)
		}
		env.mustFail(125, "run", "--rm", "--mount", "type=bind,source="+env.Path("missing")+",target=/m", "busybox", "true")
		env.mustFail(125, "run", "--rm", "--mount", "type=bind,target=/m", "busybox", "true")
	})
}

// --init: skiff's init as PID 1 forwards signals, reaps orphans and passes
// the command's status through.
func TestRunInit(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		out := env.mustRun("run", "--rm", "--init", "busybox", "sh", "-c",
			"(sleep 0.2 &); sleep 0.6; ps -o pid,stat,comm | awk '$1 == 1 {print $3} $2 ~ /Z/ {print \"zombie\", $3}'")
		if out != "docker-init\n" {
			t.Errorf("PID 1 and zombies with --init: %q", out)
		}
		wantCode(env, 7, "run", "--rm", "--init", "busybox", "sh", "-c", "exit 7")
		wantCode(env, 127, "run", "--rm", "--init", "busybox", "no-such-command")
		// SIGTERM reaches the command (sh as PID 1 would ignore it).
		id := strings.TrimSpace(env.mustRun("run", "-d", "--init", "busybox", "sh", "-c", "echo up; sleep 100"))
		eventually(t, 5*time.Second, "the command started", func() bool { return env.mustRun("logs", id) == "up\n" })
		start := time.Now()
		env.mustRun("stop", id)
		if code := inspectF(env, "{{.State.ExitCode}} {{.HostConfig.Init}}", id); code != "143 true" || time.Since(start) > 5*time.Second {
			t.Errorf("stop of an --init container: %s after %s, want 143 at once", code, time.Since(start))
		}
	})
}

// --volumes-from: another container's volumes and binds, at its paths.
func TestRunVolumesFrom(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		host := writeContext(t, env, "shared", map[string]string{"h": "bound\n"})
		env.mustRun("create", "--name", "store", "-v", "dvol:/data", "-v", host+":/bound:ro", "-v", "/anon", "--tmpfs", "/scratch", "busybox", "true")
		out := env.mustRun("run", "--rm", "--volumes-from", "store", "busybox", "sh", "-c",
			"echo shared > /data/f; echo a > /anon/a; cat /bound/h; grep -c ' /scratch ' /proc/mounts; true")
		if out != "bound\n0\n" {
			t.Errorf("--volumes-from: %q (want the bind, and no tmpfs)", out)
		}
		if out := env.mustRun("run", "--rm", "--volumes-from", "store:ro", "busybox", "sh", "-c", "cat /data/f /anon/a; touch /data/g 2>&1; true"); !strings.HasPrefix(out, "shared\na\n") || !strings.Contains(out, "Read-only file system") {
			t.Errorf("--volumes-from store:ro: %q", out)
		}
		if got := inspectF(env, "{{json .HostConfig.VolumesFrom}}", strings.TrimSpace(env.mustRun("create", "--volumes-from", "store", "busybox", "true"))); got != `["store"]` {
			t.Errorf("inspect VolumesFrom %s", got)
		}
		env.mustFail(125, "run", "--rm", "--volumes-from", "nosuch", "busybox", "true")
		env.mustFail(125, "run", "--rm", "--volumes-from", "store:rx", "busybox", "true")
	})
}

// --log-driver and --log-opt: json-file's rotation, and none.
func TestRunLogOptions(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		env.mustRun("run", "--name", "rot", "--log-opt", "max-size=1k", "--log-opt", "max-file=2", "busybox", "seq", "1", "300")
		out := lines(env.mustRun("logs", "rot"))
		if len(out) == 0 || len(out) >= 300 || out[len(out)-1] != "300" {
			t.Errorf("logs of a rotated log: %d lines, ending %q; want the newest ones only", len(out), out[len(out)-1:])
		}
		if got := inspectF(env, "{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config \"max-size\"}}", "rot"); got != "json-file 1k" {
			t.Errorf("inspect LogConfig: %q", got)
		}
		env.mustRun("run", "--name", "quiet", "--log-driver", "none", "busybox", "echo", "hi")
		if res := wantCode(env, 1, "logs", "quiet"); !strings.Contains(res.Stderr, "configured logging driver does not support reading") {
			t.Errorf("logs with --log-driver none: %s", res)
		}
		env.mustFail(125, "run", "--rm", "--log-driver", "syslog", "busybox", "true")
		env.mustFail(125, "run", "--rm", "--log-opt", "max-size=lots", "busybox", "true")
	})
}

// Healthchecks from --health-* and from the image's HEALTHCHECK: status in
// inspect and ps, a timeout, events, and --no-healthcheck.
func TestRunBuildHealthcheck(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		health := func(name string) string { return inspectF(env, "{{.State.Health.Status}}", name) }
		env.mustRun("run", "-d", "--name", "hc", "--health-cmd", "test -f /ok && echo fine",
			"--health-interval", "100ms", "--health-retries", "2", "busybox", "sleep", "100")
		if got := health("hc"); got != "starting" {
			t.Errorf("health at start: %q", got)
		}
		eventually(t, 10*time.Second, "unhealthy after 2 failures", func() bool { return health("hc") == "unhealthy" })
		env.mustRun("exec", "hc", "touch", "/ok")
		eventually(t, 10*time.Second, "healthy once the test passes", func() bool { return health("hc") == "healthy" })
		if out := env.mustRun("ps", "--filter", "name=hc", "--format", "{{.Status}}"); !strings.HasSuffix(out, " (healthy)\n") {
			t.Errorf("ps status: %q", out)
		}
		if out := env.mustRun("events", "--since", "1m", "--until", "0s", "-f", "event=health_status", "-f", "container=hc", "--format", "{{.Action}}"); out != "health_status: unhealthy\nhealth_status: healthy\n" {
			t.Errorf("health events: %q", out)
		}
		env.mustRun("run", "-d", "--name", "slow", "--health-cmd", "sleep 5", "--health-interval", "100ms",
			"--health-timeout", "200ms", "--health-retries", "1", "busybox", "sleep", "100")
		eventually(t, 10*time.Second, "a hung check fails", func() bool { return health("slow") == "unhealthy" })
		if got := inspectF(env, "{{(index .State.Health.Log 0).ExitCode}} {{(index .State.Health.Log 0).Output}}", "slow"); got != "-1 Health check exceeded timeout (200ms)" {
			t.Errorf("timed-out check: %q", got)
		}
		// Each result has its end time; this one ran its 200 ms.
		got := inspectF(env, "{{with index .State.Health.Log 0}}{{(.End.Sub .Start).Milliseconds}}{{end}}", "slow")
		if ms, err := strconv.Atoi(got); err != nil || ms < 200 || ms > 5000 {
			t.Errorf("timed-out check's End - Start: %q ms, want 200 to 5000", got)
		}
		for filter, want := range map[string]string{"health=unhealthy": "slow\n", "health=healthy": "hc\n", "since=hc": "slow\n", "before=slow": "hc\n"} {
			if got := env.mustRun("ps", "-a", "--filter", filter, "--format", "{{.Names}}"); got != want {
				t.Errorf("ps --filter %s: %q, want %q", filter, got, want)
			}
		}
		// The image's HEALTHCHECK, and --no-healthcheck over it.
		ctx := writeContext(t, env, "hcctx", map[string]string{"Dockerfile": "FROM busybox\nHEALTHCHECK --interval=100ms CMD true\n"})
		env.mustRun("build", "-q", "-t", "checked", ctx)
		env.mustRun("run", "-d", "--name", "img", "checked", "sleep", "100")
		eventually(t, 10*time.Second, "the image's check passes", func() bool { return health("img") == "healthy" })
		env.mustRun("run", "-d", "--name", "off", "--no-healthcheck", "checked", "sleep", "100")
		if got := inspectF(env, "{{if .State.Health}}has health{{else}}none{{end}}", "off"); got != "none" {
			t.Errorf("--no-healthcheck: %s", got)
		}
		env.mustFail(125, "run", "--rm", "--no-healthcheck", "--health-cmd", "true", "busybox", "true")
		env.mustRun("rm", "-f", "hc", "slow", "img", "off")
	})
}

// --network container:NAME joins a running container's network namespace
// (root only: rootless containers each own a user namespace).
func TestRunNetworkContainer(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		env.mustRun("run", "-d", "--name", "web", "-h", "webhost", "busybox", "sh", "-c", "nc -l -p 8080 -e echo hello-from-web; sleep 100")
		if env.Mode != "root" {
			if res := env.mustFail(125, "run", "--rm", "--network", "container:web", "busybox", "true"); !strings.Contains(res.Stderr, "not supported rootless") {
				t.Errorf("rootless --network container: %s", res)
			}
			return
		}
		var out string
		eventually(t, 10*time.Second, "the joined container reaches web's port on loopback", func() bool {
			out = env.run("run", "--rm", "--network", "container:web", "busybox", "sh", "-c", "hostname; nc 127.0.0.1 8080").Stdout
			return strings.HasSuffix(out, "hello-from-web\n")
		})
		if out != "webhost\nhello-from-web\n" {
			t.Errorf("joined container printed %q", out)
		}
		if got := inspectF(env, "{{.HostConfig.NetworkMode}}", strings.TrimSpace(env.mustRun("create", "--network", "container:web", "busybox", "true"))); got != "container:"+inspectF(env, "{{.Id}}", "web") {
			t.Errorf("NetworkMode %q", got)
		}
		env.mustFail(125, "run", "--rm", "--network", "container:web", "-p", "80:80", "busybox", "true")
		env.mustFail(125, "run", "--rm", "--network", "container:web", "-h", "other", "busybox", "true")
		env.mustFail(125, "run", "--rm", "--network", "container:nosuch", "busybox", "true")
		env.mustRun("stop", "-t", "0", "web")
		env.mustFail(125, "run", "--rm", "--network", "container:web", "busybox", "true")
	})
}

// --rm takes the container's anonymous volumes with it, as Docker does,
// never a named one; so does a --rm container whose start fails.
func TestRunRmAnonymousVolumes(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		env.mustRun("run", "--rm", "-v", "/anon", "-v", "kept:/kept", "busybox", "touch", "/anon/f", "/kept/f")
		if got := env.mustRun("volume", "ls", "-q"); got != "kept\n" {
			t.Errorf("volumes after run --rm: %q, want the named one only", got)
		}
		env.mustFail(127, "run", "--rm", "-v", "/anon2", "busybox", "nosuchcmd")
		if got := env.mustRun("volume", "ls", "-q"); got != "kept\n" {
			t.Errorf("volumes after a failed run --rm: %q, want the named one only", got)
		}
	})
}
