package e2e

// exec into running containers: through a real terminal (interactive_test.go's
// ttySession) and through pipes, its flags, exit codes and failures.

import (
	"strings"
	"testing"
	"time"
)

// startRedis runs the redis fixture detached and waits until it answers.
func startRedis(t *testing.T, env *Env, name string) {
	t.Helper()
	redisFixture(t)
	env.mustRun("run", "-d", "--name", name, "redis")
	eventually(t, 30*time.Second, "redis answers PING", func() bool {
		res := env.run("exec", name, "redis-cli", "ping")
		return res.Code == 0 && res.Stdout == "PONG\n"
	})
}

// TestRunExecRedisCli is `exec -it ID redis-cli` typed at a terminal, and
// `echo ping | skiff exec -i ID redis-cli` through a pipe.
func TestRunExecRedisCli(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		startRedis(t, env, "cache")
		s := env.startTTY(t, "exec", "-it", "cache", "redis-cli")
		s.expect("127.0.0.1:6379> ")
		s.send("ping\r")
		s.expect("PONG")
		s.send("set greeting hello\r")
		s.expect("OK")
		s.send("get greeting\r")
		s.expect("\"hello\"")
		s.send("quit\r")
		if code := s.wait(); code != 0 {
			t.Errorf("redis-cli exit code %d, want 0", code)
		}
		res := env.runInput(strings.NewReader("ping\n"), "exec", "-i", "cache", "redis-cli")
		if res.Code != 0 || res.Stdout != "PONG\n" {
			t.Errorf("echo ping | exec -i redis-cli: %s", res)
		}
		// The server kept running through it all, and has the key.
		if out := env.mustRun("exec", "cache", "redis-cli", "get", "greeting"); out != "hello\n" {
			t.Errorf("get greeting: %q", out)
		}
	})
}

// TestRunExecShell is `exec -it ID sh`: the process's own pty in the
// container's devpts, sized from the start and on resize, Ctrl-C, the exit
// code and the terminal restored.
func TestRunExecShell(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("run", "-d", "--name", "box", "busybox", "sleep", "1000")
		s := env.startTTY(t, "exec", "-it", "box", "sh")
		s.expect(prompt)
		s.send("echo hi there\r")
		s.expect("\nhi there\r\n")
		s.send("tty; ls -1 /dev/pts; echo \"TERM=$TERM\"; stty size\r")
		s.expect("\n/dev/pts/0\r\n0\r\nptmx\r\nTERM=xterm\r\n24 80\r\n")
		s.resize(40, 120)
		s.retry("stty size\r", "\n40 120\r\n")
		s.send("sh -c 'echo sleeping; exec sleep 100'\r")
		s.expect("sleeping\r\n")
		time.Sleep(200 * time.Millisecond)
		s.send("\x03")
		s.send("echo \"status=$?\"\r")
		s.expect("status=130")
		s.send("exit 4\r")
		if code := s.wait(); code != 4 {
			t.Errorf("exec -it sh: exit code %d, want 4", code)
		}
		// The container's init is untouched by the session.
		if st := strings.TrimSpace(env.mustRun("inspect", "-f", "{{.State.Status}}", "box")); st != "running" {
			t.Errorf("container %s after the exec session", st)
		}
	})
}

// execCase is one exec through pipes: its stdin, what it prints, its code.
type execCase struct {
	name   string
	stdin  string
	args   []string // after "exec"
	code   int
	stdout string
	stderr string
}

// TestRunExecStreams: exec through pipes, with Docker's flags and codes.
func TestRunExecStreams(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("run", "-d", "--name", "box", "busybox", "sleep", "1000")
		tests := []execCase{
			{name: "streams apart without -t", args: []string{"box", "sh", "-c", "echo out; echo err >&2"}, stdout: "out\n", stderr: "err\n"},
			{name: "one pty with -t", args: []string{"-t", "box", "sh", "-c", "echo out; echo err >&2"}, stdout: "out\r\nerr\r\n"},
			{name: "-t alone has no input", stdin: "typed\n", args: []string{"-t", "box", "sh", "-c", "tty; read -t 1 line; echo \"line=$line\""},
				stdout: "/dev/pts/0\r\nline=\r\n"},
			{name: "without -i no input", stdin: "typed\n", args: []string{"box", "sh", "-c", "read -t 1 line; echo \"line=$line\""}, stdout: "line=\n"},
			{name: "-i streams stdin and EOF closes it", stdin: "one\ntwo\n", args: []string{"-i", "box", "cat"}, stdout: "one\ntwo\n"},
			{name: "exit code", args: []string{"box", "sh", "-c", "exit 9"}, code: 9},
			{name: "env and workdir", args: []string{"-e", "FOO=bar", "-w", "/tmp", "box", "sh", "-c", "echo $FOO; pwd"},
				stdout: "bar\n/tmp\n"},
		}
		if env.Mode != "skiffnosub" { // a single-id map has no uid 1000
			tests = append(tests, execCase{name: "user", args: []string{"-u", "1000", "box", "sh", "-c", "id -u; id -g"}, stdout: "1000\n1000\n"})
		}
		for _, tt := range tests {
			res := env.runInput(strings.NewReader(tt.stdin), append([]string{"exec"}, tt.args...)...)
			if res.Code != tt.code || res.Stdout != tt.stdout || res.Stderr != tt.stderr {
				t.Errorf("%s: got %s\nwant exit %d stdout %q stderr %q", tt.name, res, tt.code, tt.stdout, tt.stderr)
			}
		}
		// -d returns at once and leaves the process running.
		env.mustRun("exec", "-d", "box", "sh", "-c", "sleep 1; echo done > /tmp/detached")
		eventually(t, 20*time.Second, "the detached exec wrote its file", func() bool {
			return env.run("exec", "box", "cat", "/tmp/detached").Stdout == "done\n"
		})
		// -dt: a detached process with a terminal of the container's own.
		env.mustRun("exec", "-dt", "box", "sh", "-c", "tty > /tmp/dt")
		eventually(t, 20*time.Second, "the detached exec -t wrote its tty", func() bool {
			return strings.HasPrefix(env.run("exec", "box", "cat", "/tmp/dt").Stdout, "/dev/pts/")
		})
	})
}

// TestRunExecFailures: Docker's codes when exec cannot run the command
// (126, 127) or cannot begin at all (1: a stopped container, no container,
// -it without a terminal).
func TestRunExecFailures(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		id := strings.TrimSpace(env.mustRun("run", "-d", "busybox", "sleep", "1000"))
		res := env.mustFail(127, "exec", id, "no-such-command")
		if !strings.Contains(res.Stderr, `exec: "no-such-command": executable file not found in $PATH`) {
			t.Errorf("127: %s", res)
		}
		res = env.mustFail(126, "exec", id, "/etc/passwd")
		if !strings.Contains(res.Stderr, "permission denied") {
			t.Errorf("126: %s", res)
		}
		res = env.mustFail(1, "exec", "-it", id, "sh")
		if !strings.Contains(res.Stderr, "the input device is not a TTY") {
			t.Errorf("-it from a pipe: %s", res)
		}
		res = env.mustFail(1, "exec", "no-such-container", "true")
		if !strings.Contains(res.Stderr, "No such container: no-such-container") {
			t.Errorf("no container: %s", res)
		}
		env.mustRun("stop", "-t", "0", id)
		res = env.mustFail(1, "exec", id, "true")
		if !strings.Contains(res.Stderr, "container "+id+" is not running") {
			t.Errorf("stopped container: %s", res)
		}
		// Typed at a terminal too, which must come back in cooked mode.
		s := env.startTTY(t, "exec", "-it", id, "sh")
		s.expect("container " + id + " is not running")
		if code := s.wait(); code != 1 {
			t.Errorf("exec -it into a stopped container: exit %d, want 1", code)
		}
	})
}

// TestRunPausedContainer: Docker's answers for a paused container. exec
// and attach refuse at once (exit 1) instead of joining a frozen process,
// rm without -f refuses, and stop, kill and rm -f thaw it as they must.
func TestRunPausedContainer(t *testing.T) {
	forEachMode(t, func(t *testing.T, env *Env) {
		id := strings.TrimSpace(env.mustRun("run", "-d", "--name", "frozen", "busybox", "sleep", "1000"))
		if res := env.run("pause", "frozen"); res.Code != 0 {
			if env.Mode != "root" && strings.Contains(res.Stderr, "cgroup") {
				t.Skip("no cgroup to freeze rootless on this host:", strings.TrimSpace(res.Stderr))
			}
			t.Fatalf("pause: %s", res)
		}
		env.Timeout = 20 * time.Second // a hang is the bug
		res := env.mustFail(1, "exec", "frozen", "true")
		if want := "Container frozen is paused, unpause the container before exec"; !strings.Contains(res.Stderr, want) {
			t.Errorf("exec by name: %q, want %q", res.Stderr, want)
		}
		res = env.mustFail(1, "exec", "-d", id[:12], "true")
		if want := "Container " + id[:12] + " is paused, unpause the container before exec"; !strings.Contains(res.Stderr, want) {
			t.Errorf("exec -d by short id: %q, want %q", res.Stderr, want)
		}
		s := env.startTTY(t, "exec", "-it", "frozen", "sh")
		s.expect("is paused, unpause the container before exec")
		if code := s.wait(); code != 1 {
			t.Errorf("exec -it into a paused container: exit %d, want 1", code)
		}
		res = env.mustFail(1, "attach", "frozen")
		if want := "cannot attach to a paused container, unpause it first"; !strings.Contains(res.Stderr, want) {
			t.Errorf("attach: %q, want %q", res.Stderr, want)
		}
		res = env.mustFail(1, "rm", "frozen")
		if want := `cannot remove container "/frozen": container is paused and must be unpaused first`; !strings.Contains(res.Stderr, want) {
			t.Errorf("rm: %q, want %q", res.Stderr, want)
		}
		if st := strings.TrimSpace(env.mustRun("inspect", "-f", "{{.State.Status}}", "frozen")); st != "paused" {
			t.Errorf("after the refusals the container is %q, want paused", st)
		}
		env.mustRun("unpause", "frozen")
		if out := env.mustRun("exec", "frozen", "echo", "thawed"); out != "thawed\n" {
			t.Errorf("exec after unpause: %q", out)
		}

		// kill and rm -f of a paused container work (Docker thaws it for
		// SIGKILL); stop is covered by TestRunPause.
		env.mustRun("pause", "frozen")
		env.mustRun("kill", "frozen")
		if st := strings.TrimSpace(env.mustRun("inspect", "-f", "{{.State.Status}}", "frozen")); st != "exited" {
			t.Errorf("kill of a paused container left it %q", st)
		}
		res = env.mustFail(1, "attach", "frozen")
		if want := "cannot attach to a stopped container, start it first"; !strings.Contains(res.Stderr, want) {
			t.Errorf("attach to a stopped container: %q, want %q", res.Stderr, want)
		}
		if res = env.mustFail(1, "attach", "nosuch"); !strings.Contains(res.Stderr, "No such container: nosuch") {
			t.Errorf("attach nosuch: %q", res.Stderr)
		}
		env.mustRun("rm", "frozen")
		env.mustRun("run", "-d", "--name", "frozen2", "busybox", "sleep", "1000")
		env.mustRun("pause", "frozen2")
		env.mustRun("rm", "-f", "frozen2")
		if out := strings.TrimSpace(env.mustRun("ps", "-aq", "-f", "name=frozen")); out != "" {
			t.Errorf("rm -f of a paused container left %q", out)
		}
	})
}
