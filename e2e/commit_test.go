package e2e

// commit: a container's filesystem changes (deletions as whiteouts) become
// an image layer, -c changes its config, and run uses it.

import (
	"regexp"
	"strings"
	"testing"
)

func TestRunCommit(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("run", "--name", "src", "busybox", "sh", "-c", "mkdir /data && echo y > /data/y && rm /bin/vi")
		id := strings.TrimSpace(env.mustRun("commit", "-c", `CMD ["cat","/data/y"]`, "-m", "the message", "-a", "someone", "src", "committed:v1"))
		if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(id) {
			t.Fatalf("commit printed %q, want the image id", id)
		}
		if got := env.mustRun("run", "--rm", "committed:v1"); got != "y\n" {
			t.Errorf("run committed:v1: %q, want \"y\\n\"", got)
		}
		if got := env.mustRun("run", "--rm", id, "sh", "-c", "test -e /bin/vi && echo present || echo deleted"); got != "deleted\n" {
			t.Errorf("a file the container deleted is %q in the image", strings.TrimSpace(got))
		}
		hist := env.mustRun("history", "--no-trunc", "committed:v1")
		if !strings.Contains(hist, "the message") {
			t.Errorf("history lacks the commit message:\n%s", hist)
		}
		env.mustFail(125, "commit", "no-such-container")
	})
}
