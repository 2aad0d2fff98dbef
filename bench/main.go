// Command bench measures skiff side by side with podman on this machine, as
// a skeptical user would: the same images from the same local registry, the
// same runtime (runc), interleaved runs (A B A B ...) so load on the machine
// hits both engines alike. It writes docs/benchmarks.md and
// docs/benchmarks.json. It is a program, not a test: a slow figure is for
// people to judge, so it exits non-zero only when a case cannot run at all.
//
//	go run ./bench [--skiff bin/skiff] [--runs 5] [--quick] [--with-docker]
package main

import (
	"context"
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
	flag.BoolVar(&cfg.withDocker, "with-docker", false, "also measure docker (not implemented yet: reported as skipped)")
	flag.StringVar(&cfg.out, "out", "docs", "directory for benchmarks.md and benchmarks.json")
	flag.StringVar(&cfg.only, "only", "", "comma-separated case ids to run (run,create,ps,pull,rund,rss,build); default all")
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
		os.Exit(1)
	}
}

func run(cfg config) error {
	start := time.Now()
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
	if !cfg.keep {
		defer removeTree(base)
	}
	b := &bench{cfg: cfg, base: base, rep: newReport(cfg)}
	logf("work dir %s", base)
	reg, err := startRegistry()
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	defer reg.close()
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
		b.rep.notes = append(b.rep.notes, "--with-docker: docker column not implemented yet; skipped.")
	}
	failed := b.runCases()
	b.rep.duration = time.Since(start)
	b.rep.machine["load_end"] = loadavg()
	if err := b.rep.write(cfg.out); err != nil {
		return err
	}
	logf("wrote %s and %s in %s", filepath.Join(cfg.out, "benchmarks.md"), filepath.Join(cfg.out, "benchmarks.json"), time.Since(start).Round(time.Second))
	if len(failed) > 0 {
		return fmt.Errorf("cases that could not run: %s", strings.Join(failed, ", "))
	}
	return nil
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
