package e2e

// pull, with Docker's output and failure modes as the spec.

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	l := lines(s)
	if len(l) == 0 {
		return ""
	}
	return l[len(l)-1]
}

// inspectID returns `image inspect --format {{.Id}} ref`.
func inspectID(t *testing.T, env *Env, ref string) string {
	t.Helper()
	return strings.TrimSpace(env.mustRun("image", "inspect", "--format", "{{.Id}}", ref))
}

// TestPull: `pull busybox` says what Docker says, and pulling again is a no-op.
func TestPull(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		out := env.mustRun("pull", "busybox")
		for _, want := range []string{
			"Using default tag: latest",
			"latest: Pulling from library/busybox",
			"Digest: " + fx.Busybox.Digest,
			"Status: Downloaded newer image for busybox:latest",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("pull output lacks %q:\n%s", want, out)
			}
		}
		if got := lastLine(out); got != "docker.io/library/busybox:latest" {
			t.Errorf("last line of pull = %q, want docker.io/library/busybox:latest", got)
		}
		layer, _ := fx.busyboxLayer.Digest()
		for _, want := range []string{layer.Hex[:12] + ": Pulling fs layer", layer.Hex[:12] + ": Pull complete"} {
			if !strings.Contains(out, want) {
				t.Errorf("pull output lacks %q:\n%s", want, out)
			}
		}
		if strings.ContainsAny(out, "\r\x1b") {
			t.Errorf("pull drew progress bars though stdout is not a terminal: %q", out)
		}
		if got := inspectID(t, env, "busybox"); got != fx.Busybox.ID {
			t.Errorf("image id %s, want %s", got, fx.Busybox.ID)
		}
		out = env.mustRun("pull", "busybox")
		if !strings.Contains(out, "Status: Image is up to date for busybox:latest") {
			t.Errorf("second pull does not say the image is up to date:\n%s", out)
		}
		if got := lastLine(out); got != "docker.io/library/busybox:latest" {
			t.Errorf("last line of second pull = %q", got)
		}
	})
}

// TestPullQuiet: -q prints the full reference and nothing else.
func TestPullQuiet(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		res := env.run("pull", "-q", "hello-world")
		if res.Code != 0 || res.Stdout != "docker.io/library/hello-world:latest\n" {
			t.Errorf("pull -q: exit %d, stdout %q, want only docker.io/library/hello-world:latest\nstderr: %s", res.Code, res.Stdout, res.Stderr)
		}
		if got := inspectID(t, env, "hello-world:latest"); got != fx.Hello.ID {
			t.Errorf("image id %s, want %s", got, fx.Hello.ID)
		}
	})
}

// TestPullByDigest: a digest reference pulls that manifest; the image has a
// repo digest and no tag.
func TestPullByDigest(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		ref := "busybox@" + fx.Busybox.Digest
		out := env.mustRun("pull", ref)
		if got, want := lastLine(out), "docker.io/library/"+ref; got != want {
			t.Errorf("last line %q, want %q", got, want)
		}
		if !strings.Contains(out, "Status: Downloaded newer image for "+ref) {
			t.Errorf("pull output lacks the status line:\n%s", out)
		}
		if got := inspectID(t, env, ref); got != fx.Busybox.ID {
			t.Errorf("image id %s, want %s", got, fx.Busybox.ID)
		}
		if got := strings.TrimSpace(env.mustRun("image", "inspect", "--format", "{{json .RepoDigests}}", fx.Busybox.ID)); !strings.Contains(got, ref) {
			t.Errorf("RepoDigests %s lacks %s", got, ref)
		}
		tags := strings.TrimSpace(env.mustRun("image", "inspect", "--format", "{{json .RepoTags}}", ref))
		if tags != "[]" && tags != "null" {
			t.Errorf("a pull by digest tagged the image: RepoTags %s", tags)
		}
	})
}

// TestPullNoRedownload: pulling again fetches no blob, and a layer already in
// the store (busybox's, under another image) is not fetched again.
func TestPullNoRedownload(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		bbRepo, layersRepo := "e2e/uptodate-"+env.Mode, "e2e/shared-"+env.Mode
		if err := reg.push(bbRepo+":latest", fx.Busybox.Image); err != nil {
			t.Fatal(err)
		}
		if err := reg.push(layersRepo+":latest", fx.Layers.Image); err != nil {
			t.Fatal(err)
		}
		env.mustRun("pull", bbRepo)
		if reg.blobGets(bbRepo) == 0 {
			t.Fatalf("the first pull of %s fetched no blob from the registry", bbRepo)
		}
		n := reg.blobGets(bbRepo)
		out := env.mustRun("pull", bbRepo)
		if got := reg.blobGets(bbRepo) - n; got != 0 {
			t.Errorf("pulling an up-to-date image fetched %d blobs", got)
		}
		if !strings.Contains(out, "Status: Image is up to date for "+bbRepo+":latest") {
			t.Errorf("second pull output lacks the up-to-date status:\n%s", out)
		}
		env.mustRun("pull", layersRepo)
		base, _ := fx.busyboxLayer.Digest()
		if got := reg.blobGetsOf(layersRepo, base.String()); got != 0 {
			t.Errorf("a layer already in the store was downloaded again (%d times)", got)
		}
		if got := inspectID(t, env, layersRepo); got != fx.Layers.ID {
			t.Errorf("image id %s, want %s", got, fx.Layers.ID)
		}
	})
}

// TestPullMultiLayer: whiteouts, an opaque dir and hardlinks pull; the
// layers are the image's diff ids, base first.
func TestPullMultiLayer(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "layers")
		var got []string
		js := env.mustRun("image", "inspect", "--format", "{{json .RootFS.Layers}}", "layers")
		if err := json.Unmarshal([]byte(js), &got); err != nil {
			t.Fatalf("RootFS.Layers %q: %v", js, err)
		}
		if strings.Join(got, " ") != strings.Join(fx.Layers.DiffIDs, " ") {
			t.Errorf("RootFS.Layers = %v, want %v", got, fx.Layers.DiffIDs)
		}
		checkStoreOwnership(t, env)
	})
}

// checkStoreOwnership: a store is private to its user (0700 root dir owned by
// them) and, rootless, nothing in it belongs to host root.
func checkStoreOwnership(t *testing.T, env *Env) {
	t.Helper()
	uid := 0
	if env.User != nil {
		uid = env.User.Uid
	}
	fi, err := os.Stat(env.Root)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != uid || fi.Mode().Perm() != 0o700 {
		t.Errorf("store root %s: owner %d mode %o, want owner %d mode 700", env.Root, st.Uid, fi.Mode().Perm(), uid)
	}
	if env.User == nil {
		return
	}
	var rootOwned []string
	filepath.Walk(env.Root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Sys().(*syscall.Stat_t).Uid == 0 && len(rootOwned) < 5 {
			rootOwned = append(rootOwned, p)
		}
		return nil
	})
	if len(rootOwned) > 0 {
		t.Errorf("files in %s's store owned by host root: %v", env.Mode, rootOwned)
	}
}

// TestPullMultiPlatform: an index resolves to the host's platform;
// --platform picks another; a platform the index lacks is an error.
func TestPullMultiPlatform(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		host := fx.Multiarch.Platforms["linux/"+runtime.GOARCH]
		if host == nil {
			t.Fatalf("no fixture for linux/%s", runtime.GOARCH)
		}
		env.mustRun("pull", "-q", "multiarch")
		if got := inspectID(t, env, "multiarch"); got != host.ID {
			t.Errorf("pulled %s, want the linux/%s image %s", got, runtime.GOARCH, host.ID)
		}
		if got := strings.TrimSpace(env.mustRun("image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", "multiarch")); got != "linux/"+runtime.GOARCH {
			t.Errorf("platform %s, want linux/%s", got, runtime.GOARCH)
		}
		env.mustRun("pull", "-q", "--platform", "linux/arm64", "multiarch")
		if got, want := inspectID(t, env, "multiarch"), fx.Multiarch.Platforms["linux/arm64"].ID; got != want {
			t.Errorf("--platform linux/arm64 pulled %s, want %s", got, want)
		}
		if got := strings.TrimSpace(env.mustRun("image", "inspect", "--format", "{{.Architecture}}", "multiarch")); got != "arm64" {
			t.Errorf("Architecture %s, want arm64", got)
		}
		env.mustFail(125, "pull", "--platform", "linux/s390x", "multiarch")
	})
}

// TestPullBroken: a blob that lies about its digest, a truncated or corrupt
// gzip stream and a connection cut mid-blob all fail with exit 125 and one
// line, leave `images` unchanged, and do not wedge the store.
func TestPullBroken(t *testing.T) {
	t.Parallel()
	cases := map[string]*Fixture{"baddigest": fx.BadDigest, "truncated": fx.Truncated, "badgzip": fx.BadGzip, "shortblob": fx.ShortBlob}
	for _, name := range sortedKeys(cases) {
		f := cases[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			forEachMode(t, func(t *testing.T, env *Env) {
				before := env.mustRun("images", "-a", "-q", "--no-trunc")
				env.mustFail(125, "pull", f.Short)
				if after := env.mustRun("images", "-a", "-q", "--no-trunc"); after != before {
					t.Errorf("a failed pull changed images:\nbefore %q\nafter  %q", before, after)
				}
				env.mustRun("pull", "-q", "busybox")
				env.mustFail(125, "pull", f.Short)
			})
		})
	}
}

// TestPullErrors: bad references and unreachable, unknown or blocked
// registries fail with exit 125 and one line naming the problem.
func TestPullErrors(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		for _, c := range []struct{ ref, says string }{
			{"busybox:nope", "nope"},
			{"nosuchrepo", "nosuchrepo"},
			{"Bad::ref", "invalid reference format"},
			{"blocked.test/library/busybox", "blocked"},
			{"127.0.0.1:1/library/busybox", "127.0.0.1:1"},
			{"busybox@sha256:" + strings.Repeat("0", 64), "sha256:" + strings.Repeat("0", 64)},
		} {
			res := env.mustFail(125, "pull", c.ref)
			if !strings.Contains(res.Stderr, c.says) {
				t.Errorf("pull %s: error %q does not mention %q", c.ref, strings.TrimSpace(res.Stderr), c.says)
			}
		}
		if got := env.mustRun("images", "-q"); got != "" {
			t.Errorf("failed pulls left images: %q", got)
		}
		// The controls: prefix mapping works, and blocked.test's location
		// serves busybox, so blocked.test failed for being blocked.
		local := strings.Replace(reg.ref("library/busybox"), "127.0.0.1", "localhost", 1)
		for _, ref := range []string{"alias.test/library/busybox", local} {
			env.mustRun("pull", "-q", ref)
			if got := inspectID(t, env, ref); got != fx.Busybox.ID {
				t.Errorf("%s pulled %s, want %s", ref, got, fx.Busybox.ID)
			}
		}
	})
}

// TestPullConcurrent: four pulls of one image at once, with `images` running
// meanwhile, all succeed and leave one image.
func TestPullConcurrent(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		var wg sync.WaitGroup
		results := make([]Result, 4)
		for i := range results {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = env.run("pull", "-q", "layers") }()
		}
		done := make(chan struct{})
		var listing []Result
		go func() {
			defer close(done)
			for i := 0; i < 20; i++ {
				listing = append(listing, env.run("images"))
			}
		}()
		wg.Wait()
		<-done
		for _, r := range results {
			if r.Code != 0 {
				t.Errorf("concurrent pull: exit %d: %s", r.Code, r.Stderr)
			}
		}
		for _, r := range listing {
			if r.Code != 0 {
				t.Errorf("images during pulls: exit %d: %s", r.Code, r.Stderr)
			}
		}
		if ids := lines(env.mustRun("images", "-q", "--no-trunc")); len(ids) != 1 || ids[0] != fx.Layers.ID {
			t.Errorf("after 4 pulls images -q = %v, want [%s]", ids, fx.Layers.ID)
		}
		if got := inspectID(t, env, "layers"); got != fx.Layers.ID {
			t.Errorf("image id %s", got)
		}
	})
}

// TestPullKilled: a pull killed with SIGKILL mid-blob leaves no image, and the
// next pull completes it.
func TestPullKilled(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		repo := "e2e/slow-" + env.Mode
		if err := reg.push(repo+":latest", fx.slowImage); err != nil {
			t.Fatal(err)
		}
		flowing := reg.throttle(repo)
		cmd := env.command(t.Context(), "pull", repo)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-flowing:
			killGroup(cmd, syscall.SIGKILL)
			<-exited
		case err := <-exited:
			t.Fatalf("pull ended (%v) before the layer was half through", err)
		case <-time.After(time.Minute):
			killGroup(cmd, syscall.SIGKILL)
			t.Fatal("the pull never started downloading the layer")
		}
		if got := env.mustRun("images", "-q"); got != "" {
			t.Errorf("a killed pull left an image: %q", got)
		}
		env.mustRun("pull", "-q", repo)
		id, _ := fx.slowImage.ConfigName()
		if got := inspectID(t, env, repo); got != id.String() {
			t.Errorf("image id %s, want %s", got, id)
		}
	})
}

// racePullRmi pulls layers while removing busybox, whose base layer layers
// shares, a few times over; every command must succeed or fail cleanly.
func racePullRmi(t *testing.T, env *Env) {
	t.Helper()
	for i := 0; i < 3; i++ {
		env.mustRun("pull", "-q", "busybox")
		var wg sync.WaitGroup
		var pull, rmi Result
		wg.Add(2)
		go func() { defer wg.Done(); pull = env.run("pull", "-q", "layers") }()
		go func() { defer wg.Done(); rmi = env.run("rmi", "busybox") }()
		wg.Wait()
		if pull.Code != 0 {
			t.Errorf("pull racing rmi: %s", pull)
		}
		if rmi.Code != 0 {
			t.Errorf("rmi racing pull: %s", rmi)
		}
		env.mustRun("rmi", "layers")
	}
	env.mustRun("pull", "-q", "layers")
}

// TestPullRacingRmi: the store stays consistent when an rmi deletes a layer
// a concurrent pull is about to reuse.
func TestPullRacingRmi(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		racePullRmi(t, env)
		if got := inspectID(t, env, "layers"); got != fx.Layers.ID {
			t.Errorf("image id %s", got)
		}
		if ids := lines(env.mustRun("images", "-a", "-q", "--no-trunc")); len(ids) != 1 || ids[0] != fx.Layers.ID {
			t.Errorf("images -a -q = %v, want only layers", ids)
		}
		env.mustRun("save", "-o", env.Path("layers.tar"), "layers")
	})
}

// TestPullTerminal: on a terminal, pull draws live progress (cursor or
// carriage-return updates) and still ends with Docker's status lines.
func TestPullTerminal(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		cmd := env.command(t.Context(), "pull", "layers")
		cmd.SysProcAttr.Setpgid = false // the pty makes it a session leader instead
		cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty = true, true
		ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
		if err != nil {
			t.Fatal(err)
		}
		defer ptmx.Close()
		var out strings.Builder
		io.Copy(&out, ptmx) // ends with EIO once the process and its pty are gone
		if err := cmd.Wait(); err != nil {
			t.Fatalf("pull on a terminal: %v\n%q", err, out.String())
		}
		env.record("$ skiff pull layers (on a pty)\n" + clip(out.String()))
		if !strings.ContainsAny(out.String(), "\r\x1b") {
			t.Errorf("no progress drawing on a terminal: %q", out.String())
		}
		if !strings.Contains(out.String(), "Status: Downloaded newer image for layers:latest") {
			t.Errorf("terminal pull lacks the status line: %q", out.String())
		}
	})
}
