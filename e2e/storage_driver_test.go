package e2e

// Storage drivers: kernel overlay, fuse-overlayfs and the copying vfs
// fallback, each forced (SKIFF_STORAGE_DRIVER) in every mode, give the
// same containers: the same files inside, and the same answers from cp,
// diff, export, commit and sizes, running and stopped; and fuse-overlayfs
// leaves no daemon behind.

import (
	"archive/tar"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
)

// storageDrivers are the values of --storage-driver.
var storageDrivers = []string{"overlay", "fuse-overlayfs", "vfs"}

// forEachDriver runs fn for each driver in every mode, in parallel, with
// the driver forced for every skiff call of the env.
func forEachDriver(t *testing.T, drivers []string, fn func(t *testing.T, env *Env, driver string)) {
	t.Helper()
	for _, driver := range drivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			forEachMode(t, func(t *testing.T, env *Env) {
				env.Vars = append(env.Vars, "SKIFF_STORAGE_DRIVER="+driver)
				fn(t, env, driver)
			})
		})
	}
}

// TestRunStorageDrivers: the rootfs fallbacks forced give the same
// containers as kernel overlay: a run, changes that persist across
// starts, commit of changes and deletions, and the layers fixture's
// whiteouts, opaque dir and hardlinks seen merged.
func TestRunStorageDrivers(t *testing.T) {
	t.Parallel()
	forEachDriver(t, storageDrivers[1:], checkStorageDriver)
}

func checkStorageDriver(t *testing.T, env *Env, driver string) {
	if got := env.mustRun("info", "--format", "{{.StorageDriver}}"); strings.TrimSpace(got) != driver {
		t.Errorf("info says storage driver %q, want %s", got, driver)
	}
	env.mustRun("pull", "-q", "busybox")
	root := env.mustRun("run", "--rm", "busybox", "sh", "-c", `grep " / " /proc/mounts; echo ran`)
	if !strings.HasSuffix(root, "ran\n") {
		t.Fatalf("run printed %q", root)
	}
	fuse := strings.Contains(root, "fuse.fuse-overlayfs")
	if overlay := strings.Contains(root, " overlay "); overlay || fuse != (driver == "fuse-overlayfs") {
		t.Errorf("rootfs on %s: %q", driver, root)
	}

	env.mustRun("run", "--name", "keeper", "busybox", "sh", "-c", "echo x >> /f; rm /etc/group; cat /f")
	if got := env.mustRun("start", "-a", "keeper"); got != "x\nx\n" {
		t.Errorf("second start of a container printed %q, want its file from the first", got)
	}
	env.mustRun("commit", "keeper", "kept:v1")
	if got := env.mustRun("run", "--rm", "kept:v1", "sh", "-c", "cat /f; test -e /etc/group || echo gone; test -e /etc/passwd && echo kept"); got != "x\nx\ngone\nkept\n" {
		t.Errorf("committed image shows %q", got)
	}

	env.mustRun("pull", "-q", "layers")
	owner := "1000:1000"
	if env.Mode == "skiffnosub" {
		owner = "0:0"
	}
	want := layersWant(owner)
	if driver == "fuse-overlayfs" {
		// fuse-overlayfs 1.10 reports the link count of a lower hardlink as
		// the links it has looked up so far (2 of 3): a known limitation.
		want = strings.Replace(want, "\n3\n", "\n2\n", 1)
	}
	if got := env.mustRun("run", "--rm", "layers", "sh", "-c", layersScript); strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(want), " ") {
		t.Errorf("inside layers on %s:\n%s\nwant:\n%s", driver, got, want)
	}
}

// changeScript changes a busybox container once (a restart keeps its
// changes), then sleeps; /new/f is written last.
const changeScript = `[ -e /new ] || { rm /bin/ls && echo x >> /etc/passwd && mkdir /new && echo hi > /new/f; }; exec sleep 300`

// changeDiff is what diff says of changeScript's changes.
const changeDiff = "C /bin\nD /bin/ls\nC /etc\nC /etc/passwd\nA /new\nA /new/f\n"

// TestRunStorageDriverFiles: cp both ways, diff, export, commit and
// inspect/ps sizes give the same answers on every driver, for a running,
// a stopped and a never-started container, and on an image with
// whiteouts and an opaque directory, and so do build's RUN layers;
// stopped fuse-overlayfs containers leave no daemon.
func TestRunStorageDriverFiles(t *testing.T) {
	t.Parallel()
	forEachDriver(t, storageDrivers, func(t *testing.T, env *Env, driver string) {
		env.mustRun("pull", "-q", "busybox")
		runD(t, env, "--name", "live", "busybox", "sh", "-c", changeScript)
		eventually(t, 10e9, "the container's changes", func() bool {
			return env.run("exec", "live", "cat", "/new/f").Stdout == "hi\n"
		})
		checkFiles(t, env, "live", "running", changeDiff)
		if got := inspectF(env, "{{.GraphDriver.Name}}", "live"); (got == "vfs") != (driver == "vfs") {
			t.Errorf("inspect says graph driver %s on %s", got, driver)
		}
		env.mustRun("kill", "live")
		env.mustRun("wait", "live")
		checkFiles(t, env, "live", "stopped", changeDiff+"A /new/running\n")
		if d := fuseDaemons(env); len(d) > 0 {
			t.Errorf("fuse-overlayfs daemons left with the container stopped: %q", d)
		}

		env.mustRun("commit", "live", "changed:v1")
		got := env.mustRun("run", "--rm", "changed:v1", "sh", "-c", "cat /new/f /new/running /new/stopped; test -e /bin/ls || echo gone; tail -n1 /etc/passwd")
		if got != "hi\nrunning\nstopped\ngone\nx\n" {
			t.Errorf("committed image shows %q", got)
		}
		env.mustRun("start", "live")
		eventually(t, 10e9, "the restarted container", func() bool {
			return env.run("exec", "live", "cat", "/new/stopped").Stdout == "stopped\n"
		})
		env.mustRun("rm", "-f", "live")

		env.mustRun("create", "--name", "fresh", "busybox", "cat", "/made")
		env.mustRun("cp", env.WriteFile("made", []byte("made\n")), "fresh:/made")
		if got := env.mustRun("diff", "fresh"); got != "A /made\n" {
			t.Errorf("diff of a created container: %q, want A /made", got)
		}
		if files := exportFiles(t, env, "fresh"); files["made"] != "made\n" || files["bin/busybox"] == "" {
			t.Errorf("export of a created container lacks /made or /bin/busybox")
		}
		if got := env.mustRun("start", "-a", "fresh"); got != "made\n" {
			t.Errorf("created container sees %q in the copied file", got)
		}

		checkLayersChanges(t, env)
		ctx := writeContext(t, env, "ctx", map[string]string{"Dockerfile": "FROM layers\n" +
			"RUN rm -r /data/opaque /data/keep && mkdir /data/opaque && echo n > /data/opaque/n\nRUN echo m > /data/opaque/m\n"})
		env.mustRun("build", "-q", "-t", "built:v1", ctx)
		if got := env.mustRun("run", "--rm", "built:v1", "sh", "-c", "ls /data/opaque; test -e /data/keep || echo gone"); got != "m\nn\ngone\n" {
			t.Errorf("image built on %s shows %q", driver, got)
		}
		env.mustRun("rm", "-f", "fresh", "opq")
		if d := fuseDaemons(env); len(d) > 0 {
			t.Errorf("fuse-overlayfs daemons left after rm: %q", d)
		}
	})
}

// checkFiles checks diff, cp out and in, export and sizes of a container
// made by changeScript, in state (running or stopped); cp puts
// /new/<state> in it.
func checkFiles(t *testing.T, env *Env, name, state, wantDiff string) {
	t.Helper()
	if got := env.mustRun("diff", name); got != wantDiff {
		t.Errorf("diff of the %s container:\n%s\nwant:\n%s", state, got, wantDiff)
	}
	out := env.Path("f-" + state)
	env.mustRun("cp", name+":/new/f", out)
	wantFile(t, out, "hi\n")
	env.mustRun("cp", env.WriteFile("in-"+state, []byte(state+"\n")), name+":/new/"+state)
	back := env.Path("back-" + state)
	env.mustRun("cp", name+":/new/"+state, back)
	wantFile(t, back, state+"\n")

	files := exportFiles(t, env, name)
	if files["new/f"] != "hi\n" || files["new/"+state] != state+"\n" || files["bin/busybox"] == "" || !strings.HasSuffix(files["etc/passwd"], "\nx\n") {
		t.Errorf("export of the %s container: new/f %q, new/%s %q, etc/passwd %q, bin/busybox %d bytes",
			state, files["new/f"], state, files["new/"+state], files["etc/passwd"], len(files["bin/busybox"]))
	}
	if _, ok := files["bin/ls"]; ok {
		t.Errorf("export of the %s container has the deleted bin/ls", state)
	}
	for n := range files {
		if strings.Contains(n, ".wh.") {
			t.Errorf("export of the %s container has %s", state, n)
		}
	}

	sizes := strings.Fields(env.mustRun("inspect", "-s", "-f", "{{.SizeRw}} {{.SizeRootFs}}", name))
	rw, _ := strconv.ParseInt(sizes[0], 10, 64)
	rootfs, _ := strconv.ParseInt(sizes[1], 10, 64)
	bb := int64(len(files["bin/busybox"]))
	if rw <= 0 || rw > 64<<10 || rootfs < bb || rootfs > 2*bb+rw {
		t.Errorf("inspect -s of the %s container: SizeRw %d SizeRootFs %d, want a few bytes and about busybox's %d", state, rw, rootfs, bb)
	}
	if ps := env.mustRun("ps", "-a", "-s", "--format", "{{.Size}}", "-f", "name=^"+name+"$"); strings.HasPrefix(ps, "0B") {
		t.Errorf("ps -s of the %s container: %q, want its changes' size", state, ps)
	}
}

// checkLayersChanges: deletions and a replaced opaque directory on the
// layers fixture give the same diff, export and commit on every driver.
func checkLayersChanges(t *testing.T, env *Env) {
	t.Helper()
	env.mustRun("pull", "-q", "layers")
	env.mustRun("run", "--name", "opq", "layers", "sh", "-c",
		"rm /data/keep && rm -r /data/opaque && mkdir /data/opaque && echo n > /data/opaque/n && rm -r /data/links2")
	diff := env.mustRun("diff", "opq")
	for _, want := range []string{"D /data/keep\n", "A /data/opaque/n\n", "D /data/links2\n"} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff on layers lacks %q:\n%s", want, diff)
		}
	}
	if strings.Contains(diff, ".wh.") || strings.Contains(diff, "/data/opaque/a") || strings.Contains(diff, "/data/opaque/b") {
		t.Errorf("diff on layers shows overlay internals or hidden files:\n%s", diff)
	}
	files := exportFiles(t, env, "opq")
	var opaque []string
	for n := range files {
		if strings.HasPrefix(n, "data/opaque/") {
			opaque = append(opaque, n)
		}
	}
	if len(opaque) != 1 || files["data/opaque/n"] != "n\n" {
		t.Errorf("export on layers: data/opaque has %v, want only n", opaque)
	}
	if l := files["data/links/link"] + files["data/links/orig"]; l != "linked\n" { // one is a hardlink
		t.Errorf("export on layers: data/links holds %q, want linked", l)
	}
	if _, ok := files["data/keep"]; ok {
		t.Errorf("export on layers has the deleted data/keep")
	}
	env.mustRun("commit", "opq", "opq:v1")
	got := env.mustRun("run", "--rm", "opq:v1", "sh", "-c", "ls /data/opaque; ls /data; cat /data/links/link")
	if got != "n\nbig\nlinks\nopaque\nowned\nsym\nlinked\n" {
		t.Errorf("committed layers image shows %q", got)
	}
}

// exportFiles is `export`'s entries: name -> content (directories "").
func exportFiles(t *testing.T, env *Env, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(strings.NewReader(env.mustRun("export", name)))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("export %s: %v", name, err)
		}
		b, _ := io.ReadAll(tr)
		out[strings.TrimPrefix(strings.TrimSuffix(h.Name, "/"), "./")] = string(b)
	}
}

// fuseDaemons lists the command lines of fuse-overlayfs processes serving
// layers of env's store.
func fuseDaemons(env *Env) []string {
	var out []string
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		b, err := os.ReadFile("/proc/" + p.Name() + "/cmdline")
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cmd, "fuse-overlayfs") && strings.Contains(cmd, env.Root) {
			out = append(out, cmd)
		}
	}
	return out
}
