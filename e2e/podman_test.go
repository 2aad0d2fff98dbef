package e2e

// Interop with podman (root only; its own temp storage, vfs driver, runc):
// an image saved by skiff loads and runs in podman, and one saved by podman
// loads into skiff, with the same image id.

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Podman is a podman with private storage.
type Podman struct {
	t    *testing.T
	dir  string
	vars []string
}

func newPodman(t *testing.T) *Podman {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman is required for the interop tests (just deps installs it)")
	}
	// Short: podman refuses a runroot longer than 50 characters.
	dir := filepath.Join(baseDir, fmt.Sprintf("p%d", envCounter.Add(1)))
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = [\"nofile=10000:10000\", \"nproc=10000:10000\"]\n[engine]\nruntime = \"runc\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &Podman{t: t, dir: dir, vars: []string{"CONTAINERS_CONF=" + conf, "CONTAINERS_REGISTRIES_CONF=" + regConf,
		"HOME=" + dir, "TMPDIR=" + filepath.Join(dir, "tmp"), "PATH=" + defaultPath}}
	t.Cleanup(func() {
		p.command("rm", "-af").Run()
		if err := removeTree(dir); err != nil {
			t.Logf("podman cleanup: %v", err)
		}
	})
	return p
}

func (p *Podman) command(args ...string) *exec.Cmd {
	full := append([]string{"--root", filepath.Join(p.dir, "root"), "--runroot", filepath.Join(p.dir, "run"),
		"--storage-driver", "vfs", "--tmpdir", filepath.Join(p.dir, "tmp")}, args...)
	cmd := exec.Command("podman", full...)
	cmd.Env = p.vars
	return cmd
}

// run runs podman and returns its stdout; the test fails on a non-zero exit.
func (p *Podman) run(args ...string) string {
	p.t.Helper()
	cmd := p.command(args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		p.t.Errorf("podman %s: %v\n%s", shellJoin(args), err, stderr.String())
	}
	return string(out)
}

func TestPodmanInterop(t *testing.T) {
	t.Parallel()
	t.Run("skiff-save-podman-load", func(t *testing.T) {
		t.Parallel()
		env, pm := newEnv(t), newPodman(t)
		env.mustRun("pull", "-q", "busybox")
		archive := env.Path("busybox.tar")
		env.mustRun("save", "-o", archive, "busybox")
		pm.run("load", "-i", archive)
		if got := strings.TrimSpace(pm.run("image", "inspect", "--format", "{{.Id}}", "docker.io/library/busybox:latest")); "sha256:"+got != fx.Busybox.ID {
			t.Errorf("podman sees id %s, want %s", got, fx.Busybox.ID)
		}
		if got := pm.run("run", "--rm", "--network", "none", "docker.io/library/busybox:latest", "echo", "ran in podman"); strings.TrimSpace(got) != "ran in podman" {
			t.Errorf("podman run of the loaded image printed %q", got)
		}
	})
	for _, format := range []string{"docker-archive", "oci-archive"} {
		t.Run("podman-save-skiff-load-"+format, func(t *testing.T) {
			t.Parallel()
			env, pm := newEnv(t), newPodman(t)
			pm.run("pull", "-q", "docker.io/library/hello-world:latest")
			archive := env.Path("hello.tar")
			pm.run("save", "--format", format, "-o", archive, "docker.io/library/hello-world:latest")
			out := env.mustRun("load", "-i", archive)
			if !strings.Contains(out, "Loaded image") || !strings.Contains(out, "hello-world:latest") {
				t.Errorf("skiff load printed %q", out)
			}
			// podman rewrites the config for oci-archive: the id is then
			// the archive's config digest, not the registry image's.
			want := fx.Hello.ID
			if format == "oci-archive" {
				want = ociArchiveConfig(t, archive)
			}
			if got := inspectID(t, env, "hello-world"); got != want {
				t.Errorf("skiff sees id %s, want %s", got, want)
			}
		})
	}
}

// ociArchiveConfig returns the config digest of the single image in an OCI
// layout tarball.
func ociArchiveConfig(t *testing.T, archive string) string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", archive, err)
		}
		if h.Typeflag == tar.TypeReg && h.Size < 1<<20 {
			b, _ := io.ReadAll(tr)
			files[path.Clean(h.Name)] = b
		}
	}
	var index, manifest struct {
		Manifests []v1.Descriptor
		Config    v1.Descriptor
	}
	if err := json.Unmarshal(files["index.json"], &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("%s: index.json: %v %s", archive, err, files["index.json"])
	}
	if err := json.Unmarshal(files["blobs/sha256/"+index.Manifests[0].Digest.Hex], &manifest); err != nil {
		t.Fatalf("%s: manifest: %v", archive, err)
	}
	return manifest.Config.Digest.String()
}
