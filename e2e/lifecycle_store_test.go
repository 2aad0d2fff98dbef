package e2e

// What the lifecycle leaves in the store: --rm, prune, many runs at once,
// and isolation between containers.

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// leftovers lists what is under <root>/containers and <runroot>/containers
// besides the (empty) names index.
func leftovers(t *testing.T, env *Env) []string {
	t.Helper()
	var out []string
	for _, d := range []string{filepath.Join(env.Root, "containers"), filepath.Join(env.RunRoot, "containers")} {
		ents, err := os.ReadDir(d)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range ents {
			p := filepath.Join(d, e.Name())
			if e.Name() == "names" || strings.HasSuffix(e.Name(), ".lock") {
				if sub, _ := os.ReadDir(p); len(sub) > 0 {
					out = append(out, p+"/"+sub[0].Name())
				}
				continue
			}
			out = append(out, p)
		}
	}
	return out
}

func TestRunRmLeavesNothing(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		env.mustRun("run", "--rm", "--name", "gone", "busybox", "sh", "-c", "echo x > /tmp/x")
		wantCode(env, 3, "run", "--rm", "busybox", "sh", "-c", "exit 3")
		env.mustFail(127, "run", "--rm", "busybox", "nosuchcmd")
		runD(t, env, "--rm", "--name", "bg", "busybox", "sleep", "0.3")
		eventually(t, 20*time.Second, "the -d --rm container removed itself", func() bool {
			return env.run("ps", "-aq").Stdout == ""
		})
		id := runD(t, env, "--rm", "busybox", "sleep", "100")
		env.mustRun("stop", "-t", "1", id)
		eventually(t, 20*time.Second, "a stopped --rm container removed", func() bool {
			return env.run("ps", "-aq").Stdout == ""
		})
		if left := leftovers(t, env); len(left) > 0 {
			t.Errorf("--rm left behind: %v", left)
		}
		if m := mountsUnder(env.Dir); len(m) > 0 {
			t.Errorf("--rm left mounts: %v", m)
		}
		env.mustRun("create", "--name", "gone", "busybox") // the name is free
	})
}

// TestRunParallelStore: 20 `run --rm` at once while `ps -a` loops; every ps
// succeeds and the store ends empty.
func TestRunParallelStore(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		const n = 20
		var wg sync.WaitGroup
		codes := make(chan Result, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes <- env.run("run", "--rm", "busybox", "sh", "-c", "echo hi")
			}()
		}
		stop := make(chan struct{})
		psDone := make(chan int)
		go func() {
			loops := 0
			for {
				select {
				case <-stop:
					psDone <- loops
					return
				default:
				}
				if res := env.run("ps", "-a"); res.Code != 0 {
					t.Errorf("ps -a during parallel runs: %s", res)
				}
				loops++
			}
		}()
		wg.Wait()
		close(stop)
		if loops := <-psDone; loops == 0 {
			t.Error("ps -a never ran")
		}
		close(codes)
		for r := range codes {
			if r.Code != 0 || r.Stdout != "hi\n" {
				t.Errorf("parallel run --rm: %s", r)
			}
		}
		if out := env.mustRun("ps", "-a", "-q"); out != "" {
			t.Errorf("store not empty after 20 run --rm: %q", out)
		}
		if left := leftovers(t, env); len(left) > 0 {
			t.Errorf("parallel --rm left behind: %v", left)
		}
	})
}

func TestRunIsolation(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		env.mustRun("run", "--name", "writer", "busybox", "sh", "-c", "echo secret > /tmp/f; echo secret > /etc/f")
		res := env.run("run", "--name", "reader", "busybox", "sh", "-c", "cat /tmp/f /etc/f")
		if res.Code == 0 || strings.Contains(res.Stdout, "secret") {
			t.Errorf("a file written in one container is seen in another: %s", res)
		}
		if out := env.mustRun("run", "--rm", "busybox", "sh", "-c", "echo $$"); out != "1\n" {
			t.Errorf("the container's shell is pid %q, want 1", out)
		}
		out := env.mustRun("run", "--rm", "busybox", "ps", "-o", "pid,comm")
		if ps := lines(out); len(ps) != 2 || strings.Fields(ps[1])[0] != "1" {
			t.Errorf("ps inside a container sees other processes:\n%s", out)
		}
		// Each container has its own hostname (its short id, as Docker's).
		for i := 0; i < 2; i++ {
			id := strings.TrimSpace(env.mustRun("create", "busybox", "hostname"))
			if out := env.mustRun("start", "-a", id); strings.TrimSpace(out) != id[:12] {
				t.Errorf("hostname %q, want %s", out, id[:12])
			}
		}
	})
}

func TestRunSystemPrune(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "hello-world")
		exited := strings.TrimSpace(env.mustRun("create", "--name", "old", "-v", "/anon", "busybox"))
		env.mustRun("run", "--name", "ran", "busybox", "true")
		ranID := inspectF(env, "{{.Id}}", "ran")
		up := runD(t, env, "--name", "up", "-v", "named:/data", "busybox", "sleep", "100")
		anon := inspectF(env, "{{range .Mounts}}{{.Name}}{{end}}", "old")
		if anon == "" {
			t.Fatal("no anonymous volume for -v /anon")
		}

		res := env.runInput(strings.NewReader("n\n"), "system", "prune")
		if !strings.Contains(res.Stdout+res.Stderr, "WARNING! This will remove:") || !strings.Contains(res.Stdout+res.Stderr, "[y/N]") {
			t.Errorf("system prune prompt: %s", res)
		}
		if n := len(lines(env.mustRun("ps", "-aq"))); n != 3 {
			t.Errorf("answering n removed containers: %d left", n)
		}

		out := env.mustRun("system", "prune", "-f")
		del := section(out, "Deleted Containers:")
		if strings.Join(sortedSet(del), " ") != strings.Join(sortedSet([]string{exited, ranID}), " ") {
			t.Errorf("system prune -f deleted %v, want the two stopped containers:\n%s", del, out)
		}
		if !strings.Contains(out, "Total reclaimed space: ") {
			t.Errorf("no total line:\n%s", out)
		}
		if ids := lines(env.mustRun("ps", "-aq", "--no-trunc")); strings.Join(ids, " ") != up {
			t.Errorf("after prune: %v, want only the running one", ids)
		}
		if vols := env.mustRun("volume", "ls", "-q"); !strings.Contains(vols, anon) {
			t.Errorf("prune without --volumes removed the anonymous volume: %q", vols)
		}

		out = env.mustRun("system", "prune", "-f", "-a", "--volumes")
		if vols := section(out, "Deleted Volumes:"); strings.Join(vols, " ") != anon {
			t.Errorf("prune --volumes deleted volumes %v, want the anonymous %s:\n%s", vols, anon, out)
		}
		imgs := section(out, "Deleted Images:")
		if !slices.Contains(imgs, "untagged: hello-world:latest") || !slices.Contains(imgs, "deleted: "+fx.Hello.ID) || slices.Contains(imgs, "deleted: "+fx.Busybox.ID) {
			t.Errorf("prune -a deleted images %v, want hello-world only (busybox is in use)", imgs)
		}
		if vols := lines(env.mustRun("volume", "ls", "-q")); strings.Join(vols, " ") != "named" {
			t.Errorf("volumes after prune --volumes: %v, want the named one kept", vols)
		}
		env.mustRun("rm", "-f", "up")
		out = env.mustRun("container", "prune", "-f")
		if !strings.Contains(out, "Total reclaimed space:") {
			t.Errorf("container prune with nothing to do:\n%s", out)
		}
	})
}

// section is the lines under a "Deleted ...:" header, up to a blank line.
func section(out, header string) []string {
	_, rest, ok := strings.Cut(out, header+"\n")
	if !ok {
		return nil
	}
	body, _, _ := strings.Cut(rest, "\n\n")
	return lines(body)
}
