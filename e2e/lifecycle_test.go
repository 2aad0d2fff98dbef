package e2e

// The container lifecycle as a Docker beginner's course walks it: run,
// ps, create/start, logs, rm, exit codes, and the errors users hit. Other
// lifecycle topics: lifecycle_stop_test.go (stop, kill, reconcile),
// lifecycle_store_test.go (--rm, prune, concurrency, isolation),
// lifecycle_options_test.go (run options), lifecycle_ps_test.go (ps,
// inspect, rename, wait, restart, top).

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	idRe       = regexp.MustCompile(`^[0-9a-f]{64}$`)
	genNameRe  = regexp.MustCompile(`^[a-z]+_[a-z]+[0-9]*$`)
	ago        = `(Less than a second|[0-9]+ seconds?|About a minute)`
	upRe       = regexp.MustCompile(`^Up ` + ago + `$`)
	exited0Re  = regexp.MustCompile(`^Exited \(0\) ` + ago + ` ago$`)
	createdAgo = regexp.MustCompile(`^` + ago + ` ago$`)
)

// withBusybox pulls busybox into env first.
func withBusybox(t *testing.T, fn func(t *testing.T, env *Env)) {
	t.Helper()
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "busybox")
		fn(t, env)
	})
}

// wantCode runs skiff and fails the test unless it exits with code.
func wantCode(env *Env, code int, args ...string) Result {
	env.t.Helper()
	res := env.run(args...)
	if res.Code != code {
		env.t.Errorf("skiff %s: exit %d, want %d\nstderr: %s", shellJoin(args), res.Code, code, strings.TrimSpace(res.Stderr))
	}
	return res
}

// runD starts a detached container and returns its id.
func runD(t *testing.T, env *Env, args ...string) string {
	t.Helper()
	id := strings.TrimSpace(env.mustRun(append([]string{"run", "-d"}, args...)...))
	if !idRe.MatchString(id) {
		t.Fatalf("run -d printed %q, want a 64-hex id", id)
	}
	return id
}

// inspectF is `inspect --format f name`, trimmed.
func inspectF(env *Env, f, name string) string {
	env.t.Helper()
	return strings.TrimSpace(env.mustRun("inspect", "--format", f, name))
}

// statusOf is the STATUS column of one container.
func statusOf(env *Env, name string) string {
	env.t.Helper()
	return strings.TrimSpace(env.mustRun("ps", "-a", "--filter", "name=^"+name+"$", "--format", "{{.Status}}"))
}

func TestRunCourseBasics(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		res := env.run("run", "hello-world")
		if res.Code != 0 || res.Stdout != helloText {
			t.Errorf("run hello-world: exit %d, stdout %q, want Docker's text", res.Code, res.Stdout)
		}
		res = env.mustFail(127, "run", "hello-world", "ls")
		if !strings.Contains(res.Stderr, `exec: "ls": executable file not found in $PATH`) {
			t.Errorf("run hello-world ls: stderr %q, want Docker's executable file not found", res.Stderr)
		}
		env.mustRun("pull", "-q", "busybox")
		if out := env.mustRun("run", "busybox", "ls"); strings.Join(lines(out), " ") != "bin dev etc home proc root sys tmp usr var" {
			t.Errorf("run busybox ls printed %q", out)
		}
		if out := env.mustRun("run", "busybox", "echo", "hi", "there"); out != "hi there\n" {
			t.Errorf("run busybox echo hi there printed %q", out)
		}
		// 4 containers now: hello-world (exited), hello-world ls (created: its
		// start failed, as Docker shows it), ls and echo (exited).
		names := lines(env.mustRun("ps", "-a", "--format", "{{.Names}}"))
		if len(names) != 4 {
			t.Fatalf("ps -a lists %d containers, want 4: %v", len(names), names)
		}
		for _, n := range names {
			if !genNameRe.MatchString(n) {
				t.Errorf("generated name %q is not Docker's adjective_surname", n)
			}
		}
		statuses := lines(env.mustRun("ps", "-a", "--format", "{{.Status}}"))
		want := []*regexp.Regexp{exited0Re, exited0Re, regexp.MustCompile(`^Created$`), exited0Re} // newest first
		for i, s := range statuses {
			if i < len(want) && !want[i].MatchString(s) {
				t.Errorf("ps -a row %d status %q, want %s", i, s, want[i])
			}
		}
		if out := env.mustRun("ps"); len(lines(out)) != 1 {
			t.Errorf("ps with nothing running:\n%s", out)
		}
	})
}

func TestRunPsColumns(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		env.mustRun("create", "--name", "made", "busybox", "echo", "x")
		runD(t, env, "--name", "up", "busybox", "sleep", "100")
		env.mustRun("run", "--name", "done", "busybox", "true")
		time.Sleep(1100 * time.Millisecond) // "1 second", not "Less than a second"
		out := env.mustRun("ps", "-a")
		ls := lines(out)
		if len(ls) != 4 {
			t.Fatalf("ps -a:\n%s", out)
		}
		if got := strings.Join(columnRe.Split(ls[0], -1), "|"); got != "CONTAINER ID|IMAGE|COMMAND|CREATED|STATUS|PORTS|NAMES" {
			t.Errorf("ps header %q", got)
		}
		// Columns are aligned: each header starts where its values do.
		col := strings.Index(ls[0], "STATUS")
		for _, row := range ls[1:] {
			if len(row) <= col || row[col-1] != ' ' || row[col] == ' ' {
				t.Errorf("STATUS column not aligned at %d:\n%s", col, out)
			}
			cols := columnRe.Split(row, -1)
			if len(cols[0]) != 12 || cols[1] != "busybox" || !createdAgo.MatchString(cols[3]) {
				t.Errorf("ps row %q: want a 12-hex id, IMAGE busybox, CREATED n ago", row)
			}
		}
		if !strings.Contains(out, `"sleep 100"`) || !strings.Contains(out, `"echo x"`) {
			t.Errorf("COMMAND column not quoted as Docker's:\n%s", out)
		}
		if s := statusOf(env, "up"); !upRe.MatchString(s) || s == "Up Less than a second" {
			t.Errorf("running status %q, want Up N second(s)", s)
		}
		if s := statusOf(env, "done"); !exited0Re.MatchString(s) || strings.HasPrefix(s, "Exited (0) Less") {
			t.Errorf("exited status %q, want Exited (0) N second(s) ago", s)
		}
		if s := statusOf(env, "made"); s != "Created" {
			t.Errorf("created status %q", s)
		}
		if names := lines(env.mustRun("ps", "--format", "{{.Names}}")); strings.Join(names, " ") != "up" {
			t.Errorf("ps (running only) lists %v", names)
		}
		env.mustRun("rm", "-f", "up")
	})
}

func TestRunCreateStart(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		id := strings.TrimSpace(env.mustRun("create", "--name", "ctr1", "busybox", "sh", "-c", "echo run; echo oops >&2"))
		if !idRe.MatchString(id) {
			t.Fatalf("create printed %q", id)
		}
		if s := statusOf(env, "ctr1"); s != "Created" {
			t.Errorf("after create: %q", s)
		}
		res := env.run("start", "-a", "ctr1")
		if res.Code != 0 || res.Stdout != "run\n" || !strings.Contains(res.Stderr, "oops") {
			t.Errorf("start -a: %s", res)
		}
		// start -a again runs the same command again; logs keep both runs.
		if out := env.mustRun("start", "-a", id[:12]); out != "run\n" {
			t.Errorf("second start -a printed %q", out)
		}
		res = env.run("logs", "ctr1")
		if res.Code != 0 || res.Stdout != "run\nrun\n" || res.Stderr != "oops\noops\n" {
			t.Errorf("logs across two runs (stdout and stderr apart): %s", res)
		}
		if s := statusOf(env, "ctr1"); !exited0Re.MatchString(s) {
			t.Errorf("after start -a: %q", s)
		}
		// start without -a prints the name and returns.
		if out := env.mustRun("start", "ctr1"); strings.TrimSpace(out) != "ctr1" {
			t.Errorf("start printed %q", out)
		}
		env.mustRun("wait", "ctr1")
		if out := env.mustRun("logs", "ctr1"); out != "run\nrun\nrun\n" {
			t.Errorf("logs after a third run: %q", out)
		}
	})
}

func TestRunLogsOptions(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		env.mustRun("run", "--name", "logger", "busybox", "sh", "-c", "echo a; echo b; echo e >&2; sleep 1.2; echo c")
		res := env.run("logs", "logger")
		if res.Stdout != "a\nb\nc\n" || res.Stderr != "e\n" {
			t.Errorf("logs after exit: %s", res)
		}
		if out := env.mustRun("logs", "--tail", "1", "logger"); out != "c\n" {
			t.Errorf("logs --tail 1 = %q", out)
		}
		if out := env.mustRun("logs", "--tail", "0", "logger"); out != "" {
			t.Errorf("logs --tail 0 = %q", out)
		}
		stamped := lines(env.mustRun("logs", "-t", "logger"))
		var cStamp string
		for _, l := range stamped {
			ts, text, _ := strings.Cut(l, " ")
			if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
				t.Errorf("logs -t line %q: no RFC3339Nano stamp: %v", l, err)
			}
			if text == "c" {
				cStamp = ts
			}
		}
		if len(stamped) != 3 || cStamp == "" {
			t.Fatalf("logs -t: %q", stamped)
		}
		if out := env.mustRun("logs", "--since", cStamp, "logger"); out != "c\n" {
			t.Errorf("logs --since %s = %q", cStamp, out)
		}
		if res := env.run("logs", "--until", cStamp, "logger"); res.Stdout != "a\nb\nc\n" {
			t.Errorf("logs --until %s (inclusive): %q", cStamp, res.Stdout)
		}
		if out := env.mustRun("logs", "--since", "1h", "logger"); out != "a\nb\nc\n" {
			t.Errorf("logs --since 1h = %q", out)
		}
	})
}

// TestRunExitCodes: the container's own code, 126, 127, 128+signal.
func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		if res := wantCode(env, 3, "run", "--rm", "busybox", "sh", "-c", "exit 3"); res.Stderr != "" {
			t.Errorf("exit 3 printed an error: %q", res.Stderr)
		}
		env.mustFail(127, "run", "--rm", "busybox", "nosuchcmd")
		res := env.mustFail(126, "run", "--rm", "busybox", "/etc/passwd")
		if !strings.Contains(res.Stderr, "permission denied") {
			t.Errorf("126 error: %q", res.Stderr)
		}
		env.mustFail(125, "run", "--rm", "--nosuchflag", "busybox")
		wantCode(env, 3, "run", "--name", "three", "busybox", "sh", "-c", "exit 3")
		if s := statusOf(env, "three"); !strings.HasPrefix(s, "Exited (3) ") {
			t.Errorf("status %q", s)
		}
		if code := inspectF(env, "{{.State.ExitCode}}", "three"); code != "3" {
			t.Errorf("State.ExitCode %s", code)
		}
		// A foreground run whose container is killed exits 128+9.
		runRes := make(chan Result, 1)
		go func() { runRes <- env.run("run", "--name", "fg", "busybox", "sleep", "60") }()
		eventually(t, 20*time.Second, "fg running", func() bool { return env.run("inspect", "--format", "{{.State.Running}}", "fg").Stdout == "true\n" })
		env.mustRun("kill", "fg")
		select {
		case r := <-runRes:
			if r.Code != 137 {
				t.Errorf("foreground run of a killed container exited %d, want 137", r.Code)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("foreground run did not return after kill")
		}
		if s := statusOf(env, "fg"); !strings.HasPrefix(s, "Exited (137) ") {
			t.Errorf("killed container status %q", s)
		}
	})
}

// TestRunErrors: what users get wrong, answered in one line with Docker's
// words and exit codes; the store stays as it was.
func TestRunErrors(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		for _, verb := range [][]string{{"rm"}, {"stop"}, {"kill"}, {"restart"}, {"wait"}, {"port"}, {"top"}, {"logs"}} {
			res := env.mustFail(1, append(verb, "nosuch")...)
			if !strings.Contains(res.Stderr, "No such container: nosuch") {
				t.Errorf("%s nosuch: %q", strings.Join(verb, " "), res.Stderr)
			}
		}
		// As Docker's: start adds "failed to start containers: nosuch"; rm -f
		// says it but succeeds.
		if res := wantCode(env, 1, "start", "nosuch"); !strings.Contains(res.Stderr, "No such container: nosuch") {
			t.Errorf("start nosuch: %q", res.Stderr)
		}
		if res := wantCode(env, 0, "rm", "-f", "nosuch"); !strings.Contains(res.Stderr, "No such container: nosuch") {
			t.Errorf("rm -f nosuch: %q", res.Stderr)
		}
		if res := env.mustFail(1, "inspect", "nosuch"); !strings.Contains(res.Stderr, "No such object: nosuch") {
			t.Errorf("inspect nosuch: %q", res.Stderr)
		}
		id := strings.TrimSpace(env.mustRun("create", "--name", "taken", "busybox"))
		res := env.mustFail(125, "create", "--name", "taken", "busybox")
		if !strings.Contains(res.Stderr, `The container name "/taken" is already in use by container "`+id+`"`) {
			t.Errorf("name conflict: %q", res.Stderr)
		}
		env.mustFail(125, "run", "--name", "taken", "busybox", "true")
		runD(t, env, "--name", "busy", "busybox", "sleep", "100")
		res = env.mustFail(1, "rm", "busy")
		if want := `cannot remove container "/busy": container is running: stop the container before removing or force remove`; !strings.Contains(res.Stderr, want) {
			t.Errorf("rm of a running container: %q", res.Stderr)
		}
		if s := statusOf(env, "busy"); !upRe.MatchString(s) {
			t.Errorf("after a refused rm: %q", s)
		}
		// rm with several names removes what it can and fails for the rest.
		res = env.run("rm", "taken", "nosuch")
		if res.Code != 1 || strings.TrimSpace(res.Stdout) != "taken" || !strings.Contains(res.Stderr, "No such container: nosuch") {
			t.Errorf("rm taken nosuch: %s", res)
		}
		// An ambiguous id prefix names no container.
		var a, b string
		for i := 0; i < 64 && (a == "" || b == ""); i++ {
			id := strings.TrimSpace(env.mustRun("create", "busybox"))
			for _, other := range lines(env.mustRun("ps", "-aq", "--no-trunc")) {
				if other != id && other[0] == id[0] {
					a, b = id, other
				}
			}
		}
		if a == "" {
			t.Fatal("no two ids share a first digit")
		}
		res = env.mustFail(1, "rm", a[:1])
		if !strings.Contains(strings.ToLower(res.Stderr), "multiple") && !strings.Contains(res.Stderr, "more than one") {
			t.Errorf("ambiguous prefix %s: %q", a[:1], res.Stderr)
		}
		env.mustRun("inspect", a, b) // both still there
		env.mustRun("rm", "-f", "busy")
		p := uniquePrefix(a, lines(env.mustRun("ps", "-aq", "--no-trunc")))
		if out := env.mustRun("rm", p); strings.TrimSpace(out) != p {
			t.Errorf("rm by a unique prefix printed %q", out)
		}
	})
}

// uniquePrefix is the shortest prefix of id that no other of ids has.
func uniquePrefix(id string, ids []string) string {
	n := 1
	for _, o := range ids {
		for o != id && n < len(id) && strings.HasPrefix(o, id[:n]) {
			n++
		}
	}
	return id[:n]
}

func TestRunRmForce(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		id := runD(t, env, "--name", "runner", "busybox", "sleep", "100")
		start := time.Now()
		if out := env.mustRun("rm", "-f", "runner"); strings.TrimSpace(out) != "runner" {
			t.Errorf("rm -f printed %q", out)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("rm -f took %s (it kills, it does not stop)", d)
		}
		if out := env.mustRun("ps", "-aq"); out != "" {
			t.Errorf("ps -aq after rm -f: %q", out)
		}
		env.mustFail(1, "inspect", id)
		// The name is free again.
		env.mustRun("run", "--rm", "--name", "runner", "busybox", "true")
	})
}
