package e2e

// events: what the lifecycle, image and volume commands append to the
// events log, read back with --since/--until and followed live.

import (
	"bytes"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunEvents(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		const format = "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}{{with .Actor.Attributes.exitCode}} {{.}}{{end}}"
		// A follower started first sees what happens from then on.
		follow := env.command(t.Context(), "events", "--format", format, "--filter", "type=container")
		var live syncBuffer
		follow.Stdout = &live
		if err := follow.Start(); err != nil {
			t.Fatal(err)
		}
		defer killGroup(follow, syscall.SIGKILL)
		time.Sleep(300 * time.Millisecond)           // it skips what the log held when it started
		since := time.Now().Format(time.RFC3339Nano) // after the set-up's pull

		wantCode(env, 3, "run", "--rm", "--name", "once", "-l", "team=a", "busybox", "sh", "-c", "exit 3")
		env.mustRun("run", "-d", "--name", "bg", "busybox", "sleep", "100")
		env.mustRun("exec", "bg", "true")
		env.mustRun("rename", "bg", "bg2")
		env.mustRun("stop", "-t", "1", "bg2")
		env.mustRun("rm", "bg2")
		env.mustRun("tag", "busybox", "evtag")
		env.mustRun("rmi", "evtag")
		env.mustRun("volume", "create", "evvol")
		env.mustRun("volume", "rm", "evvol")

		want := []string{
			"container create once", "container start once", "container die once 3", "container destroy once",
			"container create bg", "container start bg",
			"container exec_create: true bg", "container exec_start: true bg", "container exec_die bg 0",
			"container rename bg2",
			"container kill bg2", "container kill bg2", "container die bg2 137", "container stop bg2",
			"container destroy bg2",
		}
		past := lines(env.mustRun("events", "--since", since, "--until", "0s", "--format", format, "--filter", "type=container"))
		if strings.Join(past, "\n") != strings.Join(want, "\n") {
			t.Errorf("events --since --until:\n%s\nwant:\n%s", strings.Join(past, "\n"), strings.Join(want, "\n"))
		}
		eventually(t, 5*time.Second, "the follower saw every container event", func() bool {
			return strings.Join(lines(live.String()), "\n") == strings.Join(want, "\n")
		})
		if t.Failed() {
			t.Logf("follower printed:\n%s", live.String())
		}

		others := env.mustRun("events", "--since", since, "--until", "0s", "--format", "{{.Type}} {{.Action}} {{or .Actor.Attributes.name .Actor.ID}}", "-f", "type=image", "-f", "type=volume")
		if want := "image tag evtag:latest\nimage untag evtag:latest\nvolume create evvol\nvolume destroy evvol\n"; others != want {
			t.Errorf("image and volume events:\n%s\nwant:\n%s", others, want)
		}
		// A run that has to pull emits the pull, as pull itself does.
		env.mustRun("rmi", "busybox")
		env.mustRun("run", "--rm", "busybox", "true")
		if out := env.mustRun("events", "--since", since, "--until", "0s", "--format", "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}", "-f", "event=pull"); out != "pull busybox:latest busybox\n" {
			t.Errorf("pull event of run: %q", out)
		}
		// Filters: one key's values OR'ed, keys AND'ed; labels and names.
		if got := env.mustRun("events", "--since", since, "--until", "0s", "--format", "{{.Action}}", "-f", "label=team=a", "-f", "event=die", "-f", "event=destroy"); got != "die\ndestroy\n" {
			t.Errorf("label + event filters: %q", got)
		}
		if got := env.mustRun("events", "--since", since, "--until", "0s", "--format", "{{.Action}}", "-f", "container=once", "-f", "image=busybox:latest", "-f", "event=start"); got != "start\n" {
			t.Errorf("container + image + event filters: %q", got)
		}
		// The default line is Docker's: time, type, action, id, sorted attributes.
		line := lines(env.mustRun("events", "--since", since, "--until", "0s", "-f", "event=die", "-f", "container=once"))
		if len(line) != 1 || !strings.HasSuffix(line[0], " (exitCode=3, image=busybox, name=once, team=a)") || !strings.Contains(line[0], " container die ") {
			t.Errorf("default format: %q", line)
		}
		env.mustFail(125, "events", "-f", "bogus=1")
		env.mustFail(125, "events", "--since", "yesterday-ish")
	})
}
