package e2e

// cp, diff, export, pause and unpause: files in and out of created, running
// and exited containers (a hostile symlink in the container must not take
// cp outside it), the upper dir's changes, the flattened filesystem, and
// the freezer cgroup.

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunCopyInAndOut(t *testing.T) {
	withBusybox(t, func(t *testing.T, env *Env) {
		runD(t, env, "--name", "c1", "busybox", "sh", "-c",
			"mkdir -p /data/sub && echo inner > /data/sub/f && echo top > /data/g && ln -s ../../../../../ /data/up && ln -s /etc /data/etc && sleep 300")
		eventually(t, 5*time.Second, "container files", func() bool {
			return env.run("exec", "c1", "test", "-L", "/data/etc").Code == 0
		})
		// out: a file, a directory, its contents ("/."), a tar on stdout
		env.mustRun("cp", "c1:/data/g", env.Path("g.txt"))
		wantFile(t, env.Path("g.txt"), "top\n")
		env.mustRun("cp", "c1:/data", env.Path("d1"))
		wantFile(t, env.Path("d1/sub/f"), "inner\n")
		os.Mkdir(env.Path("d2"), 0o755)
		env.chown(env.Path("d2"))
		env.mustRun("cp", "c1:/data/.", env.Path("d2"))
		wantFile(t, env.Path("d2/sub/f"), "inner\n")
		env.mustRun("cp", "c1:/data", env.Path("d2"))
		wantFile(t, env.Path("d2/data/g"), "top\n")
		names := tarNames(t, env.mustRun("cp", "c1:/data/sub", "-"))
		if strings.Join(names, ",") != "sub/,sub/f" {
			t.Errorf("cp c1:/data/sub - lists %v, want sub/ and sub/f", names)
		}
		// in: a file into a directory, a directory, a tar from stdin
		host := env.WriteFile("in.txt", []byte("hello\n"))
		env.mustRun("cp", host, "c1:/data/")
		wantOut(t, env, "hello\n", "exec", "c1", "cat", "/data/in.txt")
		env.mustRun("cp", env.Path("d1"), "c1:/copied")
		wantOut(t, env, "inner\n", "exec", "c1", "cat", "/copied/sub/f")
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: "fromtar", Mode: 0o644, Size: 3, Typeflag: tar.TypeReg})
		tw.Write([]byte("tar"))
		tw.Close()
		res := env.runInput(&buf, "cp", "-", "c1:/data")
		if res.Code != 0 {
			t.Fatalf("cp - c1:/data: %s", res)
		}
		wantOut(t, env, "tar", "exec", "c1", "cat", "/data/fromtar")
		// escapes: symlinks resolve inside the container, never the host
		marker := "skiff-cp-escape-" + filepath.Base(env.Dir)
		env.run("cp", host, "c1:/data/up/tmp/"+marker)
		env.run("cp", host, "c1:/data/etc/"+marker)
		for _, p := range []string{"/tmp/" + marker, "/etc/" + marker} {
			if _, err := os.Stat(p); err == nil {
				os.Remove(p)
				t.Errorf("cp through a container symlink wrote %s on the host", p)
			}
		}
		wantOut(t, env, "hello\n", "exec", "c1", "cat", "/etc/"+marker)
		out := env.mustRun("cp", "c1:/data/up/etc/hostname", "-")
		if !strings.Contains(out, "hostname") {
			t.Errorf("cp of /data/up/etc/hostname gave %q", clip(out))
		}
		// stopped containers: the same both ways
		env.mustRun("kill", "c1")
		env.mustRun("cp", "c1:/data/in.txt", env.Path("after.txt"))
		wantFile(t, env.Path("after.txt"), "hello\n")
		env.mustRun("create", "--name", "c2", "busybox", "cat", "/made")
		env.mustRun("cp", host, "c2:/made")
		if got := env.mustRun("start", "-a", "c2"); got != "hello\n" {
			t.Errorf("created container sees %q in the copied file", got)
		}
		wantCode(env, 1, "cp", "c2:/nope", env.Path("x"))
	})
}

func TestRunDiffAndExport(t *testing.T) {
	withBusybox(t, func(t *testing.T, env *Env) {
		env.mustRun("run", "--name", "d1", "busybox", "sh", "-c", "mkdir /new && touch /new/file && rm /bin/ls && echo x >> /etc/passwd")
		got := env.mustRun("diff", "d1")
		want := "C /bin\nD /bin/ls\nC /etc\nC /etc/passwd\nA /new\nA /new/file\n"
		if got != want {
			t.Errorf("diff:\n%s\nwant:\n%s", got, want)
		}
		names := tarNames(t, env.mustRun("export", "d1"))
		has := map[string]bool{}
		for _, n := range names {
			has[n] = true
		}
		if !has["new/file"] || !has["bin/sh"] || has["bin/ls"] {
			t.Errorf("export lists %d entries, want new/file and bin/sh and no bin/ls", len(names))
		}
		env.mustRun("export", "-o", env.Path("d1.tar"), "d1")
		if fi, err := os.Stat(env.Path("d1.tar")); err != nil || fi.Size() == 0 {
			t.Errorf("export -o wrote nothing: %v", err)
		}
	})
}

func TestRunPause(t *testing.T) {
	env := newEnv(t)
	env.mustRun("pull", "-q", "busybox")
	runD(t, env, "--name", "p1", "busybox", "sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /count; sleep 0.05; done")
	count := func() string {
		return strings.TrimSpace(env.mustRun("exec", "p1", "cat", "/count"))
	}
	eventually(t, 5*time.Second, "counter", func() bool { return env.run("exec", "p1", "cat", "/count").Code == 0 })
	env.mustRun("pause", "p1")
	if st := env.mustRun("ps", "--format", "{{.Status}}", "-f", "name=p1"); !strings.Contains(st, "(Paused)") {
		t.Errorf("ps status %q, want (Paused)", st)
	}
	if p := env.mustRun("inspect", "-f", "{{.State.Paused}} {{.State.Status}}", "p1"); p != "true paused\n" {
		t.Errorf("inspect: %q", p)
	}
	a := countFromCp(t, env)
	time.Sleep(400 * time.Millisecond)
	if b := countFromCp(t, env); a != b {
		t.Errorf("counter moved while paused: %s -> %s", a, b)
	}
	wantCode(env, 1, "pause", "p1") // already paused
	env.mustRun("unpause", "p1")
	eventually(t, 5*time.Second, "counter to move again", func() bool { return count() != a })
	env.mustRun("pause", "p1")
	env.mustRun("stop", "-t", "1", "p1")
	if st := env.mustRun("inspect", "-f", "{{.State.Status}}", "p1"); st != "exited\n" {
		t.Errorf("stop of a paused container left it %q", st)
	}
	runD(t, env, "--name", "p2", "busybox", "sleep", "300")
	env.mustRun("pause", "p2")
	env.mustRun("kill", "p2")
	env.mustRun("rm", "p2")
}

func TestRunPauseRootlessNoCgroup(t *testing.T) {
	if cgroupV2() {
		t.Skip("a v2 host may delegate a cgroup to the user") // the VM suite covers v2
	}
	env := newEnvAs(t, users["skiffsub"])
	env.mustRun("pull", "-q", "busybox")
	runD(t, env, "--name", "p1", "busybox", "sleep", "300")
	res := wantCode(env, 1, "pause", "p1")
	if !strings.Contains(res.Stderr, "cannot pause container") || !strings.Contains(res.Stderr, "cgroup") {
		t.Errorf("pause without cgroups: %q", res.Stderr)
	}
	env.mustRun("rm", "-f", "p1")
}

// countFromCp reads the counter through cp (exec cannot join a frozen
// container).
func countFromCp(t *testing.T, env *Env) string {
	t.Helper()
	tr := tar.NewReader(strings.NewReader(env.mustRun("cp", "p1:/count", "-")))
	if _, err := tr.Next(); err != nil {
		t.Fatalf("cp p1:/count -: %v", err)
	}
	b, _ := io.ReadAll(tr)
	return strings.TrimSpace(string(b))
}

func tarNames(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(strings.NewReader(s))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		out = append(out, h.Name)
	}
}

func wantFile(t *testing.T, p, want string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil || string(b) != want {
		t.Errorf("%s: %q, %v; want %q", p, b, err, want)
	}
}

func wantOut(t *testing.T, env *Env, want string, args ...string) {
	t.Helper()
	if got := env.run(args...); got.Code != 0 || got.Stdout != want {
		t.Errorf("skiff %s: %s; want %q", shellJoin(args), got, want)
	}
}

// The prune commands apply --filter (until=, label=, label!=) as Docker
// does, and refuse a filter they do not know, before removing anything.
func TestRunBuildPruneFilters(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		names := func(args ...string) string {
			return strings.Join(strings.Fields(env.mustRun(args...)), " ")
		}
		env.mustRun("create", "--name", "old", "-l", "tier=a", "busybox")
		time.Sleep(1100 * time.Millisecond) // creation times are compared to the second
		cut := fmt.Sprint(time.Now().Unix())
		env.mustRun("create", "--name", "kept-b", "-l", "tier=b", "busybox")
		env.mustRun("create", "--name", "new-a", "-l", "tier=a", "busybox")
		for _, bad := range [][]string{
			{"container", "prune", "-f", "--filter", "name=old"},
			{"container", "prune", "-f", "--filter", "until=1h", "--filter", "until=2h"},
			{"system", "prune", "-f", "--volumes", "--filter", "until=1h"},
			{"image", "prune", "-f", "--filter", "dangling=maybe"},
			{"volume", "prune", "-f", "--filter", "until=1h"},
		} {
			env.mustFail(125, bad...)
		}
		if got := names("ps", "-a", "--format", "{{.Names}}"); got != "new-a kept-b old" {
			t.Fatalf("a refused prune removed containers: %q", got)
		}
		env.mustRun("container", "prune", "-f", "--filter", "until="+cut)
		if got := names("ps", "-a", "--format", "{{.Names}}"); got != "new-a kept-b" {
			t.Errorf("prune until=%s left %q", cut, got)
		}
		env.mustRun("container", "prune", "-f", "--filter", "label!=tier=b")
		if got := names("ps", "-a", "--format", "{{.Names}}"); got != "kept-b" {
			t.Errorf("prune label!=tier=b left %q", got)
		}
		env.mustRun("rm", "kept-b")

		for _, v := range []string{"1", "2"} {
			ctx := writeContext(t, env, "lctx"+v, map[string]string{"Dockerfile": "FROM busybox\nLABEL x=" + v + "\n"})
			env.mustRun("build", "-q", "-t", "labelled"+v, ctx)
		}
		env.mustRun("image", "prune", "-a", "-f", "--filter", "until=1h") // all are newer
		env.mustRun("image", "prune", "-f", "--filter", "dangling=false", "--filter", "label=x=1")
		if got := names("images", "--format", "{{.Repository}}"); got != "labelled2 busybox" {
			t.Errorf("image prune of label x=1 left %q", got)
		}

		env.mustRun("volume", "create", "-l", "keep=yes", "v-keep")
		env.mustRun("volume", "create", "v-go")
		env.mustRun("volume", "prune", "-a", "-f", "--filter", "label!=keep=yes")
		if got := names("volume", "ls", "-q"); got != "v-keep" {
			t.Errorf("volume prune label!=keep=yes left %q", got)
		}
	})
}
