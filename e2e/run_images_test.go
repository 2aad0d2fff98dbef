package e2e

// Image checks that need `run`: what a pulled, loaded or imported image looks
// like from inside a container. Named TestRun... so a failure here points at
// the container side once the image tests pass.

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestRunHelloWorld(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		res := env.run("run", "--rm", "hello-world")
		if res.Code != 0 || !strings.Contains(res.Stdout, "Hello from Docker!") {
			t.Errorf("run --rm hello-world: exit %d\nstdout %q\nstderr %q", res.Code, res.Stdout, res.Stderr)
		}
		if !strings.Contains(res.Stderr+res.Stdout, "Unable to find image 'hello-world:latest' locally") {
			t.Errorf("run of a missing image does not say it pulls it:\n%s", res.Stderr)
		}
	})
}

// TestRunLayersContent: whiteouts hide files and directories, an opaque dir
// hides the lower layers' entries, hardlinks share an inode, owners and
// modes survive.
func TestRunLayersContent(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "layers")
		owner := "1000:1000"
		if env.Mode == "skiffnosub" { // one id mapped: other owners collapse to root, as podman's ignore_chown_errors
			owner = "0:0"
		}
		want := layersWant(owner)
		if got := env.mustRun("run", "--rm", "layers", "sh", "-c", layersScript); strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(want), " ") {
			t.Errorf("inside layers:\n%s\nwant:\n%s", got, want)
		}
	})
}

// layersScript prints what TestRunLayersContent checks inside the layers
// image; TestHarnessLayersScript checks it against a flattened copy.
const layersScript = `cat /data/keep
test -e /data/remove-me && echo remove-me-present
test -e /data/dir-removed && echo dir-removed-present
ls /data/opaque
stat -c %h /data/links/orig
[ "$(stat -c %i /data/links/orig)" = "$(stat -c %i /data/links/link)" ] && echo same-inode
[ "$(stat -c %i /data/links/orig)" = "$(stat -c %i /data/links2/link2)" ] && echo same-inode2
readlink /data/sym
stat -c '%u:%g %a' /data/owned
wc -c < /data/big`

func layersWant(owner string) string {
	return "keep\nc\n3\nsame-inode\nsame-inode2\nkeep\n" + owner + " 640\n2097152\n"
}

func TestRunMultiPlatform(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "multiarch")
		if got := env.mustRun("run", "--rm", "multiarch", "cat", "/platform"); strings.TrimSpace(got) != "linux/"+runtime.GOARCH {
			t.Errorf("/platform says %q, want linux/%s", got, runtime.GOARCH)
		}
	})
}

// TestRunImportedLoaded: an imported rootfs and a loaded archive both run.
func TestRunImportedLoaded(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("import", "-c", `CMD ["sh"]`, fx.BusyboxRootfs, "imported:v1")
		if got := env.mustRun("run", "--rm", "imported:v1", "echo", "imported ok"); strings.TrimSpace(got) != "imported ok" {
			t.Errorf("run of an imported image printed %q", got)
		}
		env.mustRun("pull", "-q", "busybox")
		archive := env.Path("bb.tar")
		env.mustRun("save", "-o", archive, "busybox")
		fresh := newEnvAs(t, env.User)
		f, err := os.Open(archive)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if res := fresh.runInput(f, "load"); res.Code != 0 {
			t.Fatalf("load: %s", res.Stderr)
		}
		if got := fresh.mustRun("run", "--rm", "busybox", "id", "-un"); strings.TrimSpace(got) != "root" {
			t.Errorf("run of a loaded image: id -un = %q", got)
		}
		// With a single mapping (skiffnosub) uid 1000 does not exist in the
		// user namespace, so only the other modes can switch to it.
		if env.Mode != "skiffnosub" {
			if got := fresh.mustRun("run", "--rm", "-u", "app", "busybox", "id"); !strings.Contains(got, "uid=1000(app) gid=1000(app)") {
				t.Errorf("run -u app: id = %q", got)
			}
		}
	})
}

// TestRunPullRacingRmi: after pulls raced rmis of an image sharing the base
// layer, the image's files are all there.
func TestRunPullRacingRmi(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		racePullRmi(t, env)
		if got := env.mustRun("run", "--rm", "layers", "sh", "-c", "cat /data/keep; ls /bin/busybox"); got != "keep\n/bin/busybox\n" {
			t.Errorf("inside layers: %q", got)
		}
	})
}
