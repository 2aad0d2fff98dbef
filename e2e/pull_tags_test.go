package e2e

// pull --all-tags: every tag of a repository, with Docker's output.

import (
	"sort"
	"strings"
	"testing"
)

func TestPullAllTags(t *testing.T) {
	t.Parallel()
	// A repository of its own: three tags, two of them the same image.
	for tag, f := range map[string]*Fixture{"1.0": fx.Busybox, "1.1": fx.Hello, "latest": fx.Hello} {
		if err := reg.push("library/tagged:"+tag, f.Image); err != nil {
			t.Fatal(err)
		}
	}
	forEachMode(t, func(t *testing.T, env *Env) {
		out := env.mustRun("pull", "--all-tags", "tagged")
		for _, want := range []string{"1.0: Pulling from library/tagged\n", "1.1: Pulling from library/tagged\n",
			"latest: Pulling from library/tagged\n", "Digest: " + fx.Busybox.Digest + "\n", "Digest: " + fx.Hello.Digest + "\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("pull -a output lacks %q:\n%s", want, out)
			}
		}
		if strings.Count(out, "Status: ") != 1 || !strings.HasSuffix(out, "Status: Downloaded newer image for tagged\ndocker.io/library/tagged\n") ||
			strings.Contains(out, "Using default tag") {
			t.Errorf("pull -a output:\n%s", out)
		}
		tags := strings.Fields(env.mustRun("images", "--format", "{{.Tag}}", "tagged"))
		sort.Strings(tags)
		if strings.Join(tags, " ") != "1.0 1.1 latest" {
			t.Errorf("tags after pull -a: %q", tags)
		}
		if got := inspectID(t, env, "tagged:1.0"); got != fx.Busybox.ID {
			t.Errorf("tagged:1.0 is %s, want busybox's %s", got, fx.Busybox.ID)
		}

		out = env.mustRun("pull", "-a", "tagged")
		if !strings.HasSuffix(out, "Status: Image is up to date for tagged\ndocker.io/library/tagged\n") {
			t.Errorf("second pull -a:\n%s", out)
		}
		if out := env.mustRun("pull", "-a", "-q", "tagged"); out != "docker.io/library/tagged\n" {
			t.Errorf("pull -a -q: %q", out)
		}

		for _, ref := range []string{"tagged:1.0", "tagged@" + fx.Hello.Digest} {
			res := env.mustFail(1, "pull", "-a", ref)
			if !strings.Contains(res.Stderr, "tag can't be used with --all-tags/-a") {
				t.Errorf("pull -a %s: %q", ref, res.Stderr)
			}
		}
		res := env.mustFail(125, "pull", "-a", "no-such-repo")
		if !strings.Contains(res.Stderr, "repository no-such-repo not found") {
			t.Errorf("pull -a of an unknown repository: %q", res.Stderr)
		}
	})
}
