package e2e

// stop, kill and the reconciling of a container whose supervisor died.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ignoreTerm is a container command that ignores SIGTERM (as pid 1 without
// a handler would anyway) and says when it is ready.
const ignoreTerm = `trap "" TERM; echo ready; while :; do sleep 0.1; done`

// waitLog waits until the container's log has want.
func waitLog(t *testing.T, env *Env, name, want string) {
	t.Helper()
	eventually(t, 20*time.Second, name+" logs "+want, func() bool {
		return strings.Contains(env.run("logs", name).Stdout, want)
	})
}

// timed runs skiff and returns how long it took; it must exit 0.
func timed(env *Env, args ...string) time.Duration {
	env.t.Helper()
	start := time.Now()
	env.mustRun(args...)
	return time.Since(start)
}

func TestRunStopTimeout(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		runD(t, env, "--name", "t2", "busybox", "sh", "-c", ignoreTerm)
		runD(t, env, "--name", "t10", "busybox", "sh", "-c", ignoreTerm)
		waitLog(t, env, "t2", "ready")
		waitLog(t, env, "t10", "ready")
		done := make(chan time.Duration, 1)
		go func() { done <- timed(env, "stop", "t10") }() // default: 10 s
		if d := timed(env, "stop", "-t", "2", "t2"); d < 1800*time.Millisecond || d > 6*time.Second {
			t.Errorf("stop -t 2 of a process ignoring SIGTERM took %s, want about 2s", d)
		}
		if d := <-done; d < 9500*time.Millisecond || d > 16*time.Second {
			t.Errorf("stop (default timeout) took %s, want about 10s", d)
		}
		for _, n := range []string{"t2", "t10"} {
			if s := statusOf(env, n); !strings.HasPrefix(s, "Exited (137) ") {
				t.Errorf("%s after stop: %q", n, s)
			}
		}
		// Stopping a stopped container succeeds at once, as Docker's.
		if out := env.mustRun("stop", "t2"); strings.TrimSpace(out) != "t2" {
			t.Errorf("stop of a stopped container printed %q", out)
		}
		// A process that handles SIGTERM stops at once with its own code.
		runD(t, env, "--name", "polite", "busybox", "sh", "-c", `trap "echo bye; exit 0" TERM; echo ready; while :; do sleep 0.1; done`)
		waitLog(t, env, "polite", "ready")
		if d := timed(env, "stop", "polite"); d > 5*time.Second {
			t.Errorf("stop of a process that exits on SIGTERM took %s", d)
		}
		if s := statusOf(env, "polite"); !strings.HasPrefix(s, "Exited (0) ") {
			t.Errorf("polite after stop: %q", s)
		}
		waitLog(t, env, "polite", "bye")
		// --stop-signal is what stop sends first.
		runD(t, env, "--name", "usr1", "--stop-signal", "USR1", "busybox", "sh", "-c", `trap "exit 7" USR1; echo ready; while :; do sleep 0.1; done`)
		waitLog(t, env, "usr1", "ready")
		env.mustRun("stop", "-t", "5", "usr1")
		if s := statusOf(env, "usr1"); !strings.HasPrefix(s, "Exited (7) ") {
			t.Errorf("--stop-signal USR1 then stop: %q", s)
		}
	})
}

func TestRunKill(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		runD(t, env, "--name", "killed", "busybox", "sleep", "100")
		if out := env.mustRun("kill", "killed"); strings.TrimSpace(out) != "killed" {
			t.Errorf("kill printed %q", out)
		}
		eventually(t, 10*time.Second, "killed exited", func() bool { return strings.HasPrefix(statusOf(env, "killed"), "Exited (137) ") })
		res := env.mustFail(1, "kill", "killed")
		if !strings.Contains(res.Stderr, "is not running") {
			t.Errorf("kill of a stopped container: %q", res.Stderr)
		}
		// kill -s delivers the named signal (the process decides what to do).
		runD(t, env, "--name", "handler", "busybox", "sh", "-c", `trap "echo got-usr1" USR1; trap "exit 143" TERM; echo ready; while :; do sleep 0.1; done`)
		waitLog(t, env, "handler", "ready")
		env.mustRun("kill", "-s", "USR1", "handler")
		waitLog(t, env, "handler", "got-usr1")
		if s := statusOf(env, "handler"); !upRe.MatchString(s) {
			t.Errorf("after kill -s USR1: %q", s)
		}
		env.mustRun("kill", "--signal", "SIGTERM", "handler")
		eventually(t, 10*time.Second, "handler exited 143", func() bool { return strings.HasPrefix(statusOf(env, "handler"), "Exited (143) ") })
		runD(t, env, "--name", "nine", "busybox", "sleep", "100")
		env.mustRun("kill", "-s", "9", "nine")
		eventually(t, 10*time.Second, "nine exited 137", func() bool { return strings.HasPrefix(statusOf(env, "nine"), "Exited (137) ") })
		runD(t, env, "--name", "bad", "busybox", "sleep", "100")
		env.mustFail(125, "kill", "-s", "NOSUCHSIG", "bad")
		env.mustRun("rm", "-f", "bad")
	})
}

// TestRunSupervisorKilled: kill -9 of a supervisor leaves a record saying
// running; every reader must see it exited instead, and nothing keeps running.
func TestRunSupervisorKilled(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		id := runD(t, env, "--name", "orphan", "busybox", "sleep", "100")
		if env.Mode == "root" && len(cgroupDirs(id)) == 0 {
			t.Errorf("a running root container has no cgroup named skiff/%s", id)
		}
		var rec struct {
			State struct{ Pid, SupervisorPid int }
		}
		data, err := os.ReadFile(filepath.Join(env.Root, "containers", id, "container.json"))
		if err == nil {
			err = json.Unmarshal(data, &rec)
		}
		if err != nil || rec.State.SupervisorPid == 0 || rec.State.Pid == 0 {
			t.Fatalf("container record: %v %+v", err, rec)
		}
		if err := syscall.Kill(rec.State.SupervisorPid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "supervisor gone", func() bool { return !pidAlive(rec.State.SupervisorPid) })
		s := statusOf(env, "orphan")
		if !strings.HasPrefix(s, "Exited (") {
			t.Errorf("ps -a after the supervisor's SIGKILL: %q, want Exited", s)
		}
		if out := env.mustRun("ps", "-q"); out != "" {
			t.Errorf("ps still lists it as running: %q", out)
		}
		if r := inspectF(env, "{{.State.Running}} {{.State.Status}}", "orphan"); r != "false exited" {
			t.Errorf("inspect: %q", r)
		}
		eventually(t, 10*time.Second, "the container's init killed", func() bool { return !pidAlive(rec.State.Pid) })
		// Reconcile also removed its cgroup.
		if left := cgroupDirs(id); len(left) > 0 {
			t.Errorf("cgroups of a reconciled container left: %v", left)
		}
		// The container is usable again: start runs it, rm removes it.
		env.mustRun("start", "orphan")
		if s := statusOf(env, "orphan"); !upRe.MatchString(s) {
			t.Errorf("restarted after reconcile: %q", s)
		}
		env.mustRun("rm", "-f", "orphan")
	})
}

// pidAlive reports whether pid exists and is not a zombie.
func pidAlive(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// cgroupDirs lists the root-owned cgroups of container id: v1
// (/sys/fs/cgroup/<controller>/skiff/<id>) and v2 (/sys/fs/cgroup/skiff/<id>).
func cgroupDirs(id string) []string {
	v1, _ := filepath.Glob("/sys/fs/cgroup/*/skiff/" + id)
	v2, _ := filepath.Glob("/sys/fs/cgroup/skiff/" + id)
	return append(v1, v2...)
}

// --restart: the supervisor brings the container back under its policy,
// until stop, kill or rm -f.
func TestRunRestartPolicy(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		state := func(name string) string {
			return inspectF(env, "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}", name)
		}
		// on-failure:2: two restarts, then it rests with its last code.
		wantCode(env, 3, "run", "--name", "fail", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo ran; exit 3")
		eventually(t, 10*time.Second, "two restarts, then exited", func() bool { return state("fail") == "exited 3 2" })
		if out := env.mustRun("logs", "fail"); out != "ran\nran\nran\n" {
			t.Errorf("logs over the restarts: %q", out)
		}
		if got := inspectF(env, "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", "fail"); got != "on-failure:2" {
			t.Errorf("inspect RestartPolicy %q", got)
		}
		// on-failure: a clean exit is not restarted.
		env.mustRun("run", "--name", "clean", "--restart", "on-failure", "busybox", "true")
		time.Sleep(300 * time.Millisecond)
		if got := state("clean"); got != "exited 0 0" {
			t.Errorf("on-failure after exit 0: %s", got)
		}
		// always: restarted after each exit, until stop; start brings it back.
		env.mustRun("run", "-d", "--name", "always", "--restart", "always", "busybox", "sh", "-c", "sleep 0.2")
		eventually(t, 10*time.Second, "restarted twice", func() bool {
			n, _ := strconv.Atoi(inspectF(env, "{{.RestartCount}}", "always"))
			return n >= 2
		})
		env.mustRun("stop", "-t", "1", "always")
		after := state("always")
		time.Sleep(600 * time.Millisecond)
		if got := state("always"); !strings.HasPrefix(got, "exited ") || got != after {
			t.Errorf("after stop: %s, then %s; want it to stay exited", after, got)
		}
		env.mustRun("start", "always")
		if got := inspectF(env, "{{.State.Status}}", "always"); got != "running" && got != "restarting" {
			t.Errorf("start of a stopped always-container: %s", got)
		}
		// kill ends unless-stopped too; rm -f takes one that is between runs.
		env.mustRun("run", "-d", "--name", "us", "--restart", "unless-stopped", "busybox", "sleep", "100")
		env.mustRun("kill", "us")
		time.Sleep(600 * time.Millisecond)
		if got := state("us"); got != "exited 137 0" {
			t.Errorf("after kill: %s", got)
		}
		env.mustRun("rm", "-f", "always")
		// update --restart applies at the next exit.
		env.mustRun("run", "-d", "--name", "upd", "busybox", "sh", "-c", "sleep 0.5; exit 4")
		env.mustRun("update", "--restart", "on-failure:1", "upd")
		eventually(t, 10*time.Second, "one restart under the updated policy", func() bool { return state("upd") == "exited 4 1" })
		// A --rm container takes no policy, and rm -f of a running one
		// (which removes itself as it dies) is a plain success.
		env.mustRun("run", "-d", "--rm", "--name", "auto", "busybox", "sleep", "100")
		env.mustFail(125, "update", "--restart", "always", "auto")
		if res := env.run("rm", "-f", "auto"); res.Code != 0 || res.Stdout != "auto\n" || res.Stderr != "" {
			t.Errorf("rm -f of a running --rm container: %s", res)
		}
		env.mustFail(125, "run", "--rm", "--restart", "always", "busybox", "true")
		env.mustFail(125, "run", "--restart", "sometimes", "busybox", "true")
		env.mustFail(125, "run", "--restart", "always:2", "busybox", "true")
	})
}
