// Command bench measures skiff side by side with podman on this machine, as
// a skeptical user would: the same images from the same local registry, the
// same runtime (runc), interleaved runs (A B A B ...) so load on the machine
// hits both engines alike. It writes docs/benchmarks.md and
// docs/benchmarks.json. It is a program, not a test: a slow figure is for
// people to judge, so it exits non-zero only when a case cannot run at all.
// With --with-docker it also measures Docker 20.10 (Debian's docker.io)
// through a private dockerd it starts and stops itself. With --only the
// re-run cases replace theirs in the existing benchmarks.json in --out.
//
//	go run ./bench [--skiff bin/skiff] [--runs 5] [--quick] [--with-docker] [--only run,ps]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

type config struct {
	skiff      string
	runs       int
	quick      bool
	withDocker bool
	out        string
	only       string
	keep       bool
	render     string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.skiff, "skiff", "bin/skiff", "skiff binary to measure (built with go build when missing)")
	flag.IntVar(&cfg.runs, "runs", 5, "measured runs per engine and case, after one warm-up")
	flag.BoolVar(&cfg.quick, "quick", false, "200 containers instead of 1000 for ps -a (create time scaled), 3 runs")
	flag.BoolVar(&cfg.withDocker, "with-docker", false, "also measure docker 20.10 (docker.io, installed when missing) through a private dockerd")
	flag.StringVar(&cfg.out, "out", "docs", "directory for benchmarks.md and benchmarks.json")
	flag.StringVar(&cfg.only, "only", "", "comma-separated case ids to run (run,create,ps,pull,rund,rss,build), merged into --out's benchmarks.json; default all")
	flag.DurationVar(&settle, "settle", 300*time.Millisecond, "least pause before each measured run, after which the bench also waits (up to 15 s) for the CPUs to be nearly idle, so one engine's asynchronous teardown is not charged to the next; 0 turns both off")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the temp directory")
	flag.StringVar(&cfg.render, "render", "", "only rewrite the markdown (and json) in --out from this benchmarks.json")
	flag.Parse()
	if cfg.render != "" {
		r, err := readReport(cfg.render)
		if err == nil {
			err = r.write(cfg.out)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if cfg.quick && cfg.runs == 5 {
		cfg.runs = 3
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		if interrupted.Load() {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

func run(cfg config) error {
	start := time.Now()
	prev, err := previousReport(cfg)
	if err != nil {
		return err
	}
	if err := ensureSkiff(&cfg); err != nil {
		return err
	}
	if err := ensurePodman(); err != nil {
		return err
	}
	base, err := os.MkdirTemp("", "skb-")
	if err != nil {
		return err
	}
	defer runCleanups()
	if !cfg.keep {
		atCleanup(func() { removeTree(base) })
	}
	cleanUpOnSignal()
	b := &bench{cfg: cfg, base: base, rep: newReport(cfg)}
	logf("work dir %s", base)
	reg, err := startRegistry()
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	atCleanup(reg.close)
	b.reg = reg
	if b.regConf, err = writeRegistriesConf(base, reg.host); err != nil {
		return err
	}
	if b.fx, err = buildFixtures(context.Background(), base, reg); err != nil {
		return fmt.Errorf("fixtures: %w", err)
	}
	b.rep.machine = machineInfo()
	b.rep.versions = versions(cfg.skiff)
	if cfg.withDocker {
		b.startDocker()
	}
	failed := b.runCases()
	if interrupted.Load() {
		return errors.New("interrupted: no report written")
	}
	b.rep.duration = time.Since(start)
	b.rep.machine["load_end"] = loadavg()
	b.rep.finish()
	rep := b.rep
	if prev != nil {
		rep = prev.merged(rep)
	}
	if err := rep.write(cfg.out); err != nil {
		return err
	}
	logf("wrote %s and %s in %s", filepath.Join(cfg.out, "benchmarks.md"), filepath.Join(cfg.out, "benchmarks.json"), time.Since(start).Round(time.Second))
	if len(failed) > 0 {
		return fmt.Errorf("cases that could not run: %s", strings.Join(failed, ", "))
	}
	return nil
}

// previousReport is the report --only merges into (nil without --only or
// when --out has none yet). It is read before measuring, so a report that
// cannot be merged stops the bench before it spends minutes.
func previousReport(cfg config) (*report, error) {
	if cfg.only == "" {
		return nil, nil
	}
	known := map[string]bool{}
	for _, id := range caseOrder {
		known[id] = true
	}
	for id := range onlySet(cfg.only) {
		if !known[id] {
			return nil, fmt.Errorf("--only: unknown case %q (cases: %s)", id, strings.Join(caseOrder, ","))
		}
	}
	prev, err := readReport(filepath.Join(cfg.out, "benchmarks.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--only merges into the existing report: %w", err)
	}
	logf("--only %s: merging into %s", cfg.only, filepath.Join(cfg.out, "benchmarks.json"))
	return prev, nil
}

// startDocker installs docker.io when missing and starts the bench's
// dockerd. A docker that cannot take part is reported in its cells and the
// notes, as a podman that cannot pull is; the other engines still run.
func (b *bench) startDocker() {
	err := ensureDocker()
	if err == nil {
		b.dockerd, err = startDockerd(b.base, b.reg.host)
	}
	if err != nil {
		b.dockerErr = fmt.Errorf("docker: %w", err)
		logf("%v", b.dockerErr)
		b.rep.notes = append(b.rep.notes, fmt.Sprintf("--with-docker: docker could not take part: %v", err))
		return
	}
	atCleanup(func() {
		logf("stopping dockerd")
		b.dockerd.stop()
	})
	logf("dockerd ready (%s)", b.dockerd.bridgeShort())
	b.rep.notes = append(b.rep.notes, b.dockerd.networkNote())
	for k, v := range dockerVersions() {
		b.rep.versions[k] = v
	}
}

// ensureSkiff builds the binary when it is missing, so `go run ./bench`
// works without the Justfile too.
func ensureSkiff(cfg *config) error {
	if _, err := os.Stat(cfg.skiff); err == nil {
		abs, err := filepath.Abs(cfg.skiff)
		cfg.skiff = abs
		return err
	}
	logf("building %s", cfg.skiff)
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "urfave_cli_no_docs", "-o", cfg.skiff, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build skiff: %w", err)
	}
	abs, err := filepath.Abs(cfg.skiff)
	cfg.skiff = abs
	return err
}

// ensurePodman installs podman and runc from Debian when missing.
func ensurePodman() error {
	_, perr := exec.LookPath("podman")
	_, rerr := exec.LookPath("runc")
	if perr == nil && rerr == nil {
		return nil
	}
	logf("installing podman and runc (apt-get)")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "podman", "runc"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("install podman: apt-get %s: %w", args[0], err)
		}
	}
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
