package e2e

// Intermediate (build step) images, the `image`/`container` group
// spellings, import from a URL, save to a terminal, and a killed load's
// scratch directory.

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestImagesIntermediate: a build's step images are hidden by `images`
// (shown by -a), are not dangling, and go with their child on rmi.
func TestImagesIntermediate(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.mustRun("pull", "-q", "busybox")
	dir := writeContext(t, env, "ctx", map[string]string{
		"Dockerfile": "FROM busybox\nENV A=1\nCOPY f /f\nLABEL x=y\n",
		"f":          "data\n",
	})
	env.mustRun("build", "-t", "built:1", dir)
	shown := lines(env.mustRun("images", "--format", "{{.Repository}}:{{.Tag}}"))
	if strings.Join(shown, " ") != "built:1 busybox:latest" {
		t.Errorf("images = %q, want built:1 and busybox:latest only", shown)
	}
	all := env.mustRun("images", "-a", "--format", "{{.Repository}}:{{.Tag}}")
	if n := strings.Count(all, "<none>:<none>"); n != 2 { // the ENV and COPY steps
		t.Errorf("images -a shows %d <none> rows, want 2:\n%s", n, all)
	}
	if out := env.mustRun("images", "-f", "dangling=true", "-q"); out != "" {
		t.Errorf("intermediate images are listed as dangling: %q", out)
	}
	parent := strings.TrimSpace(env.mustRun("image", "inspect", "--format", "{{.Parent}}", "built:1"))
	if !strings.HasPrefix(parent, "sha256:") {
		t.Errorf("built image has no Parent: %q", parent)
	}
	// A parent cannot be removed by id while its child exists.
	env.mustFail(125, "rmi", "-f", parent)
	out := env.mustRun("rmi", "built:1")
	deleted := regexp.MustCompile(`(?m)^Deleted: sha256:[0-9a-f]{64}$`).FindAllString(out, -1)
	if !strings.HasPrefix(out, "Untagged: built:1\n") || len(deleted) != 3 {
		t.Errorf("rmi built:1 = %q, want Untagged then 3 Deleted lines (image and its 2 parents)", out)
	}
	if got := lines(env.mustRun("images", "-a", "--format", "{{.Repository}}:{{.Tag}}")); strings.Join(got, " ") != "busybox:latest" {
		t.Errorf("images -a after rmi = %q", got)
	}
}

// TestImageGroupSpellings: Docker's `image` and `container` group verbs.
func TestImageGroupSpellings(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	help := env.mustRun("image", "--help")
	for _, verb := range []string{"build", "history", "import", "inspect", "load", "ls", "prune", "pull", "push", "rm", "save", "tag"} {
		if !regexp.MustCompile(`(?m)^\s+` + verb + `\b`).MatchString(help) {
			t.Errorf("`image --help` lacks %s:\n%s", verb, help)
		}
	}
	if help := env.mustRun("container", "--help"); !regexp.MustCompile(`(?m)^\s+commit\b`).MatchString(help) {
		t.Errorf("`container --help` lacks commit:\n%s", help)
	}
	env.mustRun("image", "pull", "-q", "busybox")
	env.mustRun("image", "tag", "busybox", "spelled:1")
	if out := env.mustRun("image", "ls", "-q", "spelled"); strings.TrimSpace(out) != fx.Busybox.ShortID() {
		t.Errorf("image ls spelled = %q, want %s", out, fx.Busybox.ShortID())
	}
	env.mustRun("image", "save", "-o", env.Path("b.tar"), "spelled:1")
	env.mustRun("image", "rm", "spelled:1")
	env.mustRun("image", "load", "-i", env.Path("b.tar"))
	env.mustRun("image", "history", "spelled:1")
}

// TestImportURL: import reads a rootfs tarball over HTTP.
func TestImportURL(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rootfs.tar" {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, fx.BusyboxRootfs)
	}))
	defer srv.Close()
	env := newEnv(t)
	id := strings.TrimSpace(env.mustRun("import", srv.URL+"/rootfs.tar", "fromurl:1"))
	if !imageIDLine.MatchString(id) {
		t.Fatalf("import URL printed %q", id)
	}
	if got := inspectID(t, env, "fromurl:1"); got != id {
		t.Errorf("fromurl:1 is %s, want %s", got, id)
	}
	env.mustFail(125, "import", srv.URL+"/missing.tar", "nope:1")
}

// TestSaveTerminal: save without -o refuses to write an archive to a terminal.
func TestSaveTerminal(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.mustRun("pull", "-q", "busybox")
	cmd := env.command(t.Context(), "save", "busybox")
	cmd.SysProcAttr.Setpgid = false
	cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty = true, true
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	var out strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := ptmx.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	err = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 125 || !strings.Contains(out.String(), "cowardly refusing to save to a terminal") {
		t.Errorf("save to a terminal: exit %d (%v), output %q", code, err, out.String())
	}
}

// TestLoadKilledScratch: a SIGKILLed load leaves its scratch directory; the
// next load removes it.
func TestLoadKilledScratch(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.mustRun("pull", "-q", "busybox")
	archive := env.Path("b.tar")
	env.mustRun("save", "-o", archive, "busybox")
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	cmd := env.command(t.Context(), "load")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdin.Write(data[:len(data)/2]) // half an archive; the load waits for more
	scratch := func() []string {
		m, _ := filepath.Glob(filepath.Join(env.Root, "tmp", "transfer-*"))
		return m
	}
	eventually(t, 10*time.Second, "a transfer-* scratch dir", func() bool { return len(scratch()) > 0 })
	cmd.Process.Kill()
	cmd.Wait()
	stdin.Close()
	if len(scratch()) == 0 {
		t.Fatal("the killed load left no scratch dir (nothing to test)")
	}
	time.Sleep(2100 * time.Millisecond) // a lock file younger than 2s may be a starting transfer's
	env.mustRun("load", "-i", archive)
	if left := scratch(); len(left) != 0 {
		t.Errorf("scratch dirs left after the next load: %v", left)
	}
}
