package e2e

// save, load, import and push: images leave the store and come back intact.

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestSaveLoad: save -o and save to stdout, load -i and load from stdin, one
// image and several, docker-archive and oci-archive; ids survive.
func TestSaveLoad(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "busybox")
		env.mustRun("pull", "-q", "hello-world")
		one, both, oci := env.Path("busybox.tar"), env.Path("both.tar"), env.Path("oci.tar")
		env.mustRun("save", "-o", one, "busybox")
		env.mustRun("save", "-o", both, "busybox", "hello-world:latest")
		env.mustRun("save", "--format", "oci-archive", "-o", oci, "busybox")

		// save with no -o writes the archive to stdout.
		stdout, err := os.Create(env.Path("stdout.tar"))
		if err != nil {
			t.Fatal(err)
		}
		cmd := env.command(t.Context(), "save", "busybox")
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Errorf("save busybox > file: %v %s", err, stderr.String())
		}
		stdout.Close()

		env.mustRun("rmi", "busybox")
		if out := env.mustRun("load", "-i", one); !strings.Contains(out, "Loaded image: busybox:latest") {
			t.Errorf("load -i printed %q", out)
		}
		if got := inspectID(t, env, "busybox"); got != fx.Busybox.ID {
			t.Errorf("loaded id %s, want %s", got, fx.Busybox.ID)
		}

		for name, archive := range map[string]string{"both": both, "stdout": env.Path("stdout.tar"), "oci": oci} {
			fresh := newEnvAs(t, env.User)
			f, err := os.Open(archive)
			if err != nil {
				t.Fatal(err)
			}
			res := fresh.runInput(f, "load")
			f.Close()
			if res.Code != 0 || !strings.Contains(res.Stdout, "Loaded image") {
				t.Errorf("%s: load < archive: exit %d, stdout %q, stderr %q", name, res.Code, res.Stdout, res.Stderr)
				continue
			}
			if got := inspectID(t, fresh, "busybox:latest"); got != fx.Busybox.ID {
				t.Errorf("%s: loaded busybox id %s, want %s", name, got, fx.Busybox.ID)
			}
			if name == "both" {
				if got := inspectID(t, fresh, "hello-world"); got != fx.Hello.ID {
					t.Errorf("loaded hello-world id %s, want %s", got, fx.Hello.ID)
				}
			}
		}
		if res := env.run("load", "-i", env.Path("missing.tar")); res.Code == 0 {
			t.Errorf("load of a missing file succeeded")
		}
		garbage := env.WriteFile("garbage.tar", []byte("not a tar archive\n"))
		before := env.mustRun("images", "-a", "-q", "--no-trunc")
		env.mustFail(125, "load", "-i", garbage)
		if after := env.mustRun("images", "-a", "-q", "--no-trunc"); after != before {
			t.Errorf("a failed load changed images:\nbefore %q\nafter  %q", before, after)
		}
	})
}

var imageIDLine = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// TestImport: a rootfs tarball (file or stdin) becomes an image; -c applies
// Dockerfile changes.
func TestImport(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		id := strings.TrimSpace(env.mustRun("import", fx.BusyboxRootfs, "imported:v1"))
		if !imageIDLine.MatchString(id) {
			t.Errorf("import printed %q, want sha256:<64 hex>", id)
		}
		if got := lines(env.mustRun("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")); len(got) != 1 || got[0] != "imported:v1 "+strings.TrimPrefix(id, "sha256:")[:min(12, len(id))] {
			t.Errorf("images after import = %q (id %s)", got, id)
		}
		f, err := os.Open(fx.BusyboxRootfs)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		res := env.runInput(f, "import", "-c", "ENV FOO=bar", "-c", `CMD ["sh"]`, "-", "fromstdin")
		if res.Code != 0 || !imageIDLine.MatchString(strings.TrimSpace(res.Stdout)) {
			t.Fatalf("import - : exit %d stdout %q stderr %q", res.Code, res.Stdout, res.Stderr)
		}
		env.mustRun("image", "inspect", "fromstdin:latest")
		if got := strings.TrimSpace(env.mustRun("image", "inspect", "--format", "{{json .Config.Cmd}} {{json .Config.Env}}", "fromstdin")); !strings.Contains(got, `["sh"]`) || !strings.Contains(got, "FOO=bar") {
			t.Errorf("import -c changes not applied: %s", got)
		}
		env.mustFail(125, "import", env.Path("missing.tar"), "x:y")
	})
}

// TestPush: push to the registry under a new name, then pull it into a fresh
// store; the image id survives and the manifest is on the registry.
func TestPush(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "busybox")
		ref := reg.ref("e2e/pushed-" + env.Mode + ":v1")
		env.mustRun("tag", "busybox", ref)
		out := env.mustRun("push", ref)
		if !strings.Contains(out, "v1: digest: sha256:") {
			t.Errorf("push output lacks Docker's digest line:\n%s", out)
		}
		// Docker records the pushed manifest digest in RepoDigests.
		if m := regexp.MustCompile(`v1: digest: (sha256:[0-9a-f]{64})`).FindStringSubmatch(out); m != nil {
			want := strings.TrimSuffix(ref, ":v1") + "@" + m[1]
			if got := env.mustRun("image", "inspect", "--format", "{{json .RepoDigests}}", ref); !strings.Contains(got, want) {
				t.Errorf("RepoDigests after push = %s, want %s in it", got, want)
			}
		}
		r, err := reg.parse("e2e/pushed-" + env.Mode + ":v1")
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(r)
		if err != nil {
			t.Fatalf("pushed image not on the registry: %v", err)
		}
		if id, _ := img.ConfigName(); id.String() != fx.Busybox.ID {
			t.Errorf("pushed config %s, want %s", id, fx.Busybox.ID)
		}

		// A docker.io name goes where registries.conf says.
		env.mustRun("tag", "busybox", "e2e/pushed2-"+env.Mode)
		env.mustRun("push", "e2e/pushed2-"+env.Mode)

		fresh := newEnvAs(t, env.User)
		fresh.mustRun("pull", "-q", ref)
		if got := inspectID(t, fresh, ref); got != fx.Busybox.ID {
			t.Errorf("pulled back %s, want %s", got, fx.Busybox.ID)
		}
		fresh.mustRun("pull", "-q", "e2e/pushed2-"+env.Mode)
		if got := inspectID(t, fresh, "e2e/pushed2-"+env.Mode); got != fx.Busybox.ID {
			t.Errorf("pulled back %s, want %s", got, fx.Busybox.ID)
		}
		fresh.mustFail(125, "push", "nosuch:image")
	})
}
