package e2e

// commit: a container's filesystem changes (deletions as whiteouts) become
// an image layer, -c changes its config, and run uses it.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"regexp"
	"slices"
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

// TestRunCommitMountPoints: the mount points skiff makes in a rootfs whose
// image lacks them (/etc/hosts, /etc/hostname, /etc/resolv.conf, /proc,
// /sys, /dev; busybox has no /etc/hosts) are in neither a commit's layer
// nor a build RUN's, nor in diff, on every storage driver, as Docker's
// init layer keeps them out; nor is /etc when nothing else changed there.
// A container's write to a mounted /etc/hosts goes to skiff's file, not to
// its filesystem, even where the image has one: Docker commits no change.
func TestRunCommitMountPoints(t *testing.T) {
	t.Parallel()
	forEachDriver(t, storageDrivers, func(t *testing.T, env *Env, driver string) {
		env.mustRun("pull", "-q", "busybox")
		env.mustRun("run", "--name", "plain", "--network", "none", "busybox", "sh", "-c", "echo x > /tmp/x")
		if got := env.mustRun("diff", "plain"); got != "C /tmp\nA /tmp/x\n" {
			t.Errorf("diff: %q, want only /tmp and /tmp/x", got)
		}
		env.mustRun("commit", "plain", "plain:v1")
		checkTopLayer(t, env, "plain:v1", "tmp/", "tmp/x")

		ctx := writeContext(t, env, "ctx", map[string]string{"hosts": "10.0.0.1 image-host\n",
			"Dockerfile": "FROM busybox\nCOPY hosts /etc/hosts\nRUN echo y > /tmp/y\n"})
		env.mustRun("build", "-q", "-t", "hosts:v1", ctx)
		checkTopLayer(t, env, "hosts:v1", "tmp/", "tmp/y")

		env.mustRun("run", "--name", "etc", "hosts:v1", "sh", "-c", "echo m > /etc/motd; echo 10.0.0.2 added >> /etc/hosts")
		env.mustRun("commit", "etc", "etc:v1")
		checkTopLayer(t, env, "etc:v1", "etc/", "etc/motd")
		if got := env.mustRun("run", "--rm", "etc:v1", "cat", "/etc/motd"); got != "m\n" {
			t.Errorf("committed /etc/motd: %q", got)
		}
	})
}

// checkTopLayer compares the entries of an image's last layer, as save
// writes it, with want.
func checkTopLayer(t *testing.T, env *Env, image string, want ...string) {
	t.Helper()
	archive := env.Path(strings.ReplaceAll(image, ":", "-") + ".tar")
	env.mustRun("save", "-o", archive, image)
	members := tarMembers(t, archive)
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(members["manifest.json"], &manifest); err != nil || len(manifest) != 1 || len(manifest[0].Layers) == 0 {
		t.Fatalf("save %s: manifest.json %q: %v", image, members["manifest.json"], err)
	}
	layer := members[manifest[0].Layers[len(manifest[0].Layers)-1]]
	var r io.Reader = bytes.NewReader(layer)
	if bytes.HasPrefix(layer, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	var got []string
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s's top layer: %v", image, err)
		}
		got = append(got, hdr.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s's top layer holds %q, want %q", image, got, want)
	}
}

// tarMembers reads the regular files of a tar archive by name.
func tarMembers(t *testing.T, archive string) map[string][]byte {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read %s: %v", archive, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if out[hdr.Name], err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
}
