package e2e

// ps's selection and formatting flags, inspect, rename, wait, restart, top
// and container prune, as Docker's.

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRunPsFlags(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "hello-world")
		three := strings.TrimSpace(env.mustRun("create", "--name", "three", "busybox", "sh", "-c", "exit 3"))
		wantCode(env, 3, "start", "-a", "three")
		hello := strings.TrimSpace(env.mustRun("create", "--name", "hello", "hello-world"))
		env.mustRun("start", "-a", "hello")
		up := runD(t, env, "--name", "up", "busybox", "sleep", "100")
		long := strings.TrimSpace(strings.Repeat("long ", 10))
		made := strings.TrimSpace(env.mustRun("create", "--name", "made", "busybox", "echo", long))

		if out := env.mustRun("ps", "-q"); out != up[:12]+"\n" {
			t.Errorf("ps -q = %q, want the running one", out)
		}
		if out := env.mustRun("ps", "-aq"); strings.Join(lines(out), " ") != strings.Join([]string{made[:12], up[:12], hello[:12], three[:12]}, " ") {
			t.Errorf("ps -aq = %q, want newest first", out)
		}
		if out := env.mustRun("ps", "-lq"); out != made[:12]+"\n" {
			t.Errorf("ps -lq = %q, want the latest created", out)
		}
		if out := env.mustRun("ps", "-n", "2", "-q"); strings.Join(lines(out), " ") != made[:12]+" "+up[:12] {
			t.Errorf("ps -n 2 -q = %q", out)
		}
		out := env.mustRun("ps", "-a", "--no-trunc")
		if !strings.Contains(out, made) || !strings.Contains(out, `"echo `+long+`"`) {
			t.Errorf("ps --no-trunc lacks the full id or command:\n%s", out)
		}
		if out := env.mustRun("ps", "-a"); strings.Contains(out, made) || !strings.Contains(out, "…") {
			t.Errorf("ps without --no-trunc: ids and long commands are cut (…):\n%s", out)
		}
		for _, c := range []struct{ filter, want string }{
			{"status=exited", "hello three"},
			{"status=created", "made"},
			{"status=running", "up"},
			{"exited=3", "three"},
			{"name=hel", "hello"},
			{"name=^up$", "up"},
			{"id=" + three[:8], "three"},
			{"ancestor=hello-world", "hello"},
			{"ancestor=busybox", "made up three"},
			{"ancestor=" + fx.Busybox.ShortID(), "made up three"},
		} {
			if out := env.mustRun("ps", "-a", "-f", c.filter, "--format", "{{.Names}}"); strings.Join(lines(out), " ") != c.want {
				t.Errorf("ps -a -f %s = %q, want %q", c.filter, out, c.want)
			}
		}
		env.mustFail(125, "ps", "-f", "color=red")
		out = env.mustRun("ps", "--format", "table {{.Names}}\t{{.Image}}\t{{.Command}}")
		if ls := lines(out); len(ls) != 2 || strings.Join(columnRe.Split(ls[0], -1), "|") != "NAMES|IMAGE|COMMAND" ||
			strings.Join(columnRe.Split(ls[1], -1), "|") != `up|busybox|"sleep 100"` {
			t.Errorf("ps --format table:\n%s", out)
		}
		var row map[string]any
		if err := json.Unmarshal([]byte(env.mustRun("ps", "--format", "json")), &row); err != nil || row["Names"] != "up" || row["ID"] != up[:12] || row["State"] != "running" {
			t.Errorf("ps --format json: %v %v", row, err)
		}
		if out := env.mustRun("ps", "-s", "--format", "{{.Size}}"); !strings.Contains(out, "virtual") {
			t.Errorf("ps -s SIZE = %q, want Docker's 0B (virtual 1.2MB)", out)
		}
		env.mustRun("rm", "-f", "up")
	})
}

func TestRunInspect(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		id := runD(t, env, "--name", "insp", "-e", "K=V", "-w", "/tmp", "-l", "a=b", "busybox", "sleep", "100")
		var got []struct {
			ID    string `json:"Id"`
			Name  string
			Path  string
			Args  []string
			Image string
			State struct {
				Status        string
				Running       bool
				Pid, ExitCode int
				StartedAt     time.Time
				FinishedAt    string
				OOMKilled     bool
			}
			Config struct {
				Image      string
				Cmd        []string
				Env        []string
				WorkingDir string
				Labels     map[string]string
				Hostname   string
			}
			HostConfig struct{ NetworkMode string }
			Mounts     []any
		}
		if err := json.Unmarshal([]byte(env.mustRun("inspect", "insp")), &got); err != nil || len(got) != 1 {
			t.Fatalf("inspect is not a JSON array of one: %v", err)
		}
		c := got[0]
		if c.ID != id || c.Name != "/insp" || c.Path != "sleep" || strings.Join(c.Args, " ") != "100" || c.Image != fx.Busybox.ID {
			t.Errorf("inspect: id %s name %s path %s args %v image %s", c.ID, c.Name, c.Path, c.Args, c.Image)
		}
		if c.State.Status != "running" || !c.State.Running || c.State.Pid <= 0 || time.Since(c.State.StartedAt) > time.Minute {
			t.Errorf("inspect State: %+v", c.State)
		}
		if c.Config.Image != "busybox" || strings.Join(c.Config.Cmd, " ") != "sleep 100" || c.Config.WorkingDir != "/tmp" ||
			c.Config.Labels["a"] != "b" || c.Config.Hostname != id[:12] || !slices.Contains(c.Config.Env, "K=V") || !slices.Contains(c.Config.Env, pathEnv) {
			t.Errorf("inspect Config: %+v", c.Config)
		}
		if c.HostConfig.NetworkMode == "" || c.Mounts == nil {
			t.Errorf("inspect HostConfig %+v, Mounts %v (want [] not null)", c.HostConfig, c.Mounts)
		}
		if out := env.mustRun("inspect", "--format", "{{.Name}} {{.State.Status}} {{json .Config.Cmd}}", "insp"); out != "/insp running [\"sleep\",\"100\"]\n" {
			t.Errorf("inspect --format: %q", out)
		}
		if out := env.mustRun("container", "inspect", "-f", "{{.Id}}", id[:12]); out != id+"\n" {
			t.Errorf("container inspect -f by short id: %q", out)
		}
		env.mustRun("stop", "-t", "1", "insp")
		if out := inspectF(env, "{{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.State.ExitCode}}", "insp"); out != "exited false 0 137" {
			t.Errorf("after stop: %q", out)
		}
		fin, err := time.Parse(time.RFC3339Nano, inspectF(env, "{{.State.FinishedAt}}", "insp"))
		if err != nil || time.Since(fin) > time.Minute {
			t.Errorf("FinishedAt: %v %v", fin, err)
		}
	})
}

func TestRunRenameWaitRestart(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		id := runD(t, env, "--name", "before", "busybox", "sleep", "100")
		env.mustRun("create", "--name", "other", "busybox")
		env.mustRun("rename", "before", "after")
		if out := env.mustRun("ps", "--format", "{{.Names}}"); out != "after\n" {
			t.Errorf("ps after rename: %q", out)
		}
		if out := inspectF(env, "{{.Name}}", id); out != "/after" {
			t.Errorf("inspect name after rename: %q", out)
		}
		env.mustRun("create", "--name", "before", "busybox") // the old name is free
		res := env.mustFail(1, "rename", "after", "other")
		if !strings.Contains(res.Stderr, `"/other" is already in use`) {
			t.Errorf("rename to a taken name: %q", res.Stderr)
		}
		env.mustFail(1, "rename", "nosuch", "fresh")

		// restart: a new process, still Up; an exited one starts again.
		started := inspectF(env, "{{.State.StartedAt}}", "after")
		pid := inspectF(env, "{{.State.Pid}}", "after")
		if out := env.mustRun("restart", "-t", "1", "after"); out != "after\n" {
			t.Errorf("restart printed %q", out)
		}
		if s := statusOf(env, "after"); !upRe.MatchString(s) {
			t.Errorf("after restart: %q", s)
		}
		if inspectF(env, "{{.State.StartedAt}}", "after") == started || inspectF(env, "{{.State.Pid}}", "after") == pid {
			t.Error("restart did not start a new process")
		}
		// start of a running container is a no-op, as Docker's.
		pid = inspectF(env, "{{.State.Pid}}", "after")
		if out := env.mustRun("start", "after"); out != "after\n" || inspectF(env, "{{.State.Pid}}", "after") != pid {
			t.Errorf("start of a running container printed %q or restarted it", out)
		}
		env.mustRun("run", "--name", "once", "busybox", "echo", "once")
		env.mustRun("restart", "once")
		env.mustRun("wait", "once")
		if out := env.mustRun("logs", "once"); out != "once\nonce\n" {
			t.Errorf("restart of an exited container: logs %q", out)
		}

		// wait blocks until the exit and prints each code.
		runD(t, env, "--name", "w3", "busybox", "sh", "-c", "sleep 1; exit 3")
		start := time.Now()
		if out := env.mustRun("wait", "w3", "once"); out != "3\n0\n" {
			t.Errorf("wait printed %q, want 3 and 0", out)
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("wait returned after %s, before the container exited", d)
		}

		// top lists the container's processes as ps -ef does.
		out := env.mustRun("top", "after")
		if ls := lines(out); len(ls) != 2 || !strings.HasPrefix(ls[0], "UID") || !strings.Contains(ls[0], "PID") ||
			!strings.Contains(ls[0], "CMD") || !strings.HasSuffix(ls[1], "sleep 100") {
			t.Errorf("top:\n%s", out)
		}
		env.mustFail(1, "top", "once")
		env.mustRun("create", "--name", "ported", "-p", "8080:80", "busybox")
		// Like Docker, only a running container has published ports
		// (e2e/ports_test.go checks those).
		if out := env.mustRun("port", "ported"); out != "" {
			t.Errorf("port of a created container: %q", out)
		}
		env.mustFail(1, "port", "ported", "81")
		env.mustRun("rm", "-f", "after")

		// container prune removes the stopped ones only.
		keep := runD(t, env, "--name", "keep", "busybox", "sleep", "100")
		out = env.mustRun("container", "prune", "-f")
		if del := section(out, "Deleted Containers:"); len(del) != 5 || slices.Contains(del, keep) {
			t.Errorf("container prune deleted %v, want the 5 stopped ones:\n%s", del, out)
		}
		if ids := lines(env.mustRun("ps", "-aq", "--no-trunc")); strings.Join(ids, " ") != keep {
			t.Errorf("after container prune: %v", ids)
		}
		env.mustRun("rm", "-f", "keep")
	})
}
