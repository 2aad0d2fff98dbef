package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// engine is one container engine with a private store: skiff, podman or
// docker (whose store is its private daemon's, emptied between cases).
type engine struct {
	name    string
	bin     string
	base    string // where its stores live
	regConf string
	dir     string // the current store (docker: the client's HOME only)
	global  []string
	env     []string
	daemon  *dockerd // docker only
	// setupErr is why the engine cannot take part in the current case
	// (its busybox pull failed): its cells report it, the case goes on.
	setupErr error
	// monitor is the inspect template giving the per-container process
	// whose memory is measured, or its child (monitorParent).
	monitor       string
	monitorParent bool
}

var storeSeq atomic.Int64

const podmanConf = "[containers]\ndefault_ulimits = [\"nofile=10000:10000\", \"nproc=10000:10000\"]\n[engine]\nruntime = \"runc\"\n"

func newEngine(name, bin, base, regConf string) (*engine, error) {
	e := &engine{name: name, bin: bin, base: base, regConf: regConf, monitor: "{{.State.Pid}}", monitorParent: true}
	if name == "podman" {
		e.monitor, e.monitorParent = "{{.State.ConmonPid}}", false
	}
	return e, e.freshStore()
}

// newDockerEngine is the docker client talking to the bench's dockerd;
// the monitor measured is the container's containerd-shim-runc-v2, the
// parent of its init.
func newDockerEngine(d *dockerd, base string) (*engine, error) {
	e := &engine{name: "docker", bin: dockerCLI, base: base, daemon: d, monitor: "{{.State.Pid}}", monitorParent: true}
	return e, e.freshStore()
}

// freshStore switches the engine to a new, empty store (the old one is
// removed by the caller through dropStore).
func (e *engine) freshStore() error {
	// Short: podman refuses a runroot longer than 50 characters.
	e.dir = filepath.Join(e.base, fmt.Sprintf("%c%d", e.name[0], storeSeq.Add(1)))
	if err := os.MkdirAll(filepath.Join(e.dir, "tmp"), 0o700); err != nil {
		return err
	}
	root, run, tmp := filepath.Join(e.dir, "root"), filepath.Join(e.dir, "run"), filepath.Join(e.dir, "tmp")
	path := "PATH=" + os.Getenv("PATH")
	switch e.name {
	case "podman":
		conf := filepath.Join(e.dir, "containers.conf")
		if err := os.WriteFile(conf, []byte(podmanConf), 0o644); err != nil {
			return err
		}
		e.global = []string{"--root", root, "--runroot", run, "--tmpdir", tmp, "--storage-driver", "overlay"}
		e.env = []string{path, "HOME=" + e.dir, "TMPDIR=" + tmp, "CONTAINERS_CONF=" + conf, "CONTAINERS_REGISTRIES_CONF=" + e.regConf}
	case "docker":
		e.global = nil
		e.env = []string{path, "HOME=" + e.dir, "TMPDIR=" + tmp, "DOCKER_HOST=unix://" + e.daemon.sock,
			"DOCKER_CONFIG=" + filepath.Join(e.dir, "docker-config")}
		return e.emptyDaemon()
	default:
		e.global = []string{"--root", root, "--runroot", run}
		e.env = []string{path, "HOME=" + e.dir, "TMPDIR=" + tmp, "CONTAINERS_REGISTRIES_CONF=" + e.regConf}
	}
	return nil
}

// emptyDaemon removes every container, image and build cache entry from
// the docker daemon, so each case (and each pull) starts from an empty
// store as the other engines' fresh roots do.
func (e *engine) emptyDaemon() error {
	e.removeContainers()
	if _, err := e.cleanOut("system", "prune", "-a", "-f"); err != nil {
		return err
	}
	if ids, err := e.cleanOut("images", "-a", "-q"); err != nil {
		return err
	} else if ids = strings.TrimSpace(ids); ids != "" {
		return fmt.Errorf("docker store not empty after prune: images %s", strings.Join(strings.Fields(ids), " "))
	}
	return nil
}

func (e *engine) removeContainers() {
	if ids, err := e.cleanOut("ps", "-a", "-q"); err == nil && strings.TrimSpace(ids) != "" {
		e.quiet(append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
	}
}

// dropStore removes every container and the store itself.
func (e *engine) dropStore() {
	if e.name == "docker" {
		if err := e.emptyDaemon(); err != nil {
			logf("docker: %v", err)
		}
	} else if e.name == "podman" {
		e.quiet("rm", "-a", "-f", "-t", "0")
	} else {
		e.removeContainers()
	}
	removeTree(e.dir)
}

func (e *engine) cmd(args ...string) *exec.Cmd {
	c := exec.Command(e.bin, append(append([]string{}, e.global...), args...)...)
	c.Env = e.env
	return c
}

// time runs the command and returns its wall time; stdout is discarded.
func (e *engine) time(args ...string) (time.Duration, error) {
	_, d, err := e.timeOut(args...)
	return d, err
}

// timeOut runs the command, returning stdout and wall time.
// After an interrupt it fails at once, so the case in progress ends quickly
// and its deferred clean-up (which uses cleanOut) runs.
func (e *engine) timeOut(args ...string) (string, time.Duration, error) {
	if interrupted.Load() {
		return "", 0, fmt.Errorf("%s %s: interrupted", e.name, strings.Join(args, " "))
	}
	return e.run(args...)
}

func (e *engine) run(args ...string) (string, time.Duration, error) {
	c := e.cmd(args...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	t0 := time.Now()
	err := c.Run()
	d := time.Since(t0)
	if err != nil {
		return out.String(), d, fmt.Errorf("%s %s: %v: %s", e.name, strings.Join(args, " "), err, lastLine(errb.String()))
	}
	return out.String(), d, nil
}

func (e *engine) out(args ...string) (string, error) {
	s, _, err := e.timeOut(args...)
	return s, err
}

// cleanOut runs a clean-up command, also after an interrupt.
func (e *engine) cleanOut(args ...string) (string, error) {
	s, _, err := e.run(args...)
	return s, err
}

func (e *engine) quiet(args ...string) {
	c := e.cmd(args...)
	c.Stdout, c.Stderr = io.Discard, io.Discard
	c.Run()
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

func runOut(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}
