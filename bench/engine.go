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

// engine is one container engine with a private store: skiff or podman.
type engine struct {
	name    string
	bin     string
	base    string // where its stores live
	regConf string
	dir     string // the current store
	global  []string
	env     []string
}

var storeSeq atomic.Int64

const podmanConf = "[containers]\ndefault_ulimits = [\"nofile=10000:10000\", \"nproc=10000:10000\"]\n[engine]\nruntime = \"runc\"\n"

func newEngine(name, bin, base, regConf string) (*engine, error) {
	e := &engine{name: name, bin: bin, base: base, regConf: regConf}
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
	default:
		e.global = []string{"--root", root, "--runroot", run}
		e.env = []string{path, "HOME=" + e.dir, "TMPDIR=" + tmp, "CONTAINERS_REGISTRIES_CONF=" + e.regConf}
	}
	return nil
}

// dropStore removes every container and the store itself.
func (e *engine) dropStore() {
	if e.name == "podman" {
		e.quiet("rm", "-a", "-f", "-t", "0")
	} else if ids, err := e.out("ps", "-a", "-q"); err == nil && strings.TrimSpace(ids) != "" {
		e.quiet(append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
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
func (e *engine) timeOut(args ...string) (string, time.Duration, error) {
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
