package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// bench holds what every case shares.
type bench struct {
	cfg     config
	base    string
	reg     *localRegistry
	regConf string
	fx      *fixtures
	rep     *report
	sk, pm  *engine
}

type benchCase struct {
	id, title string
	run       func() error
}

// runCases runs the selected cases in order and returns the ids of those
// that could not run at all.
func (b *bench) runCases() (failedCases []string) {
	cases := []benchCase{
		{"run", "run --rm", b.caseRun},
		{"create", "create + start -a", b.caseCreate},
		{"ps", "ps -a", b.casePs},
		{"pull", "pull", b.casePull},
		{"rund", "50 run -d + stop", b.caseRunDetached},
		{"rss", "memory per container", b.caseRSS},
		{"build", "build", b.caseBuild},
	}
	want := map[string]bool{}
	for _, id := range strings.Split(b.cfg.only, ",") {
		if id = strings.TrimSpace(id); id != "" {
			want[id] = true
		}
	}
	for _, c := range cases {
		if len(want) > 0 && !want[c.id] {
			continue
		}
		t0 := time.Now()
		load := loadavg()
		logf("case %s: %s (load %s)", c.id, c.title, load)
		b.rep.noteLoad(load)
		if err := c.run(); err != nil {
			logf("case %s cannot run: %v", c.id, err)
			b.rep.notes = append(b.rep.notes, fmt.Sprintf("Case %q could not run: %v", c.title, err))
			failedCases = append(failedCases, c.id)
		}
		logf("case %s done in %s", c.id, time.Since(t0).Round(time.Millisecond))
	}
	return failedCases
}

// engines gives both engines fresh stores with busybox pulled (untimed).
// A podman that cannot even pull is reported in its cells, not fatal.
func (b *bench) engines() (podmanErr error, err error) {
	if b.sk == nil {
		if b.sk, err = newEngine("skiff", b.cfg.skiff, b.base, b.regConf); err != nil {
			return nil, err
		}
		if b.pm, err = newEngine("podman", "podman", b.base, b.regConf); err != nil {
			return nil, err
		}
	} else {
		for _, e := range []*engine{b.sk, b.pm} {
			if err := e.freshStore(); err != nil {
				return nil, err
			}
		}
	}
	if _, err := b.sk.out("pull", "-q", busyboxRef); err != nil {
		return nil, err
	}
	_, podmanErr = b.pm.out("pull", "-q", busyboxRef)
	return podmanErr, nil
}

func (b *bench) dropStores() {
	b.sk.dropStore()
	b.pm.dropStore()
}

// timed adapts a one-figure measurement (milliseconds) to a trial.
func timed(f func() (time.Duration, error)) trial {
	return func() ([]float64, error) {
		d, err := f()
		return []float64{ms(d)}, err
	}
}

// skip is the trial of an engine that cannot take part.
func skip(err error) trial { return func() ([]float64, error) { return nil, err } }

func (b *bench) podmanTrial(perr error, t trial) trial {
	if perr != nil {
		return skip(fmt.Errorf("podman setup: %w", perr))
	}
	return t
}

// 1. run --rm busybox true, against bare runc run of a prepared bundle.
func (b *bench) caseRun() error {
	perr, err := b.engines()
	if err != nil {
		return err
	}
	defer b.dropStores()
	bundle, err := b.runcBundle()
	runcTrial := skip(fmt.Errorf("runc bundle: %v", err))
	if err == nil {
		n := 0
		runcTrial = timed(func() (time.Duration, error) {
			n++
			c := exec.Command("runc", "--root", filepath.Join(b.base, "runc-state"), "run", "--bundle", bundle, fmt.Sprintf("skb-%d", n))
			t0 := time.Now()
			out, err := c.CombinedOutput()
			if err != nil {
				err = fmt.Errorf("runc run: %v: %s", err, lastLine(string(out)))
			}
			return time.Since(t0), err
		})
	}
	res, errs := interleave(b.cfg.runs, 1,
		timed(func() (time.Duration, error) { return b.sk.time("run", "--rm", busyboxRef, "true") }),
		b.podmanTrial(perr, timed(func() (time.Duration, error) { return b.pm.time("run", "--rm", busyboxRef, "true") })),
		runcTrial)
	b.rep.add(row{ID: "run_rm", Case: "`run --rm busybox true`", Unit: "ms",
		Results: map[string]*stat{"skiff": res[0][0], "podman": res[1][0], "runc": res[2][0]},
		Note:    "each engine's default network (skiff: private netns, loopback only; podman: bridge via netavark); reference: bare `runc run` of a prepared bundle"})
	if errs[0] != nil {
		return errs[0]
	}
	res, _ = interleave(b.cfg.runs, 1,
		timed(func() (time.Duration, error) {
			return b.sk.time("run", "--rm", "--network", "none", busyboxRef, "true")
		}),
		b.podmanTrial(perr, timed(func() (time.Duration, error) {
			return b.pm.time("run", "--rm", "--network", "none", busyboxRef, "true")
		})))
	b.rep.add(row{ID: "run_rm_nonet", Case: "`run --rm --network none busybox true`", Unit: "ms",
		Results: map[string]*stat{"skiff": res[0][0], "podman": res[1][0]}})
	return nil
}

// runcBundle prepares a bundle whose rootfs is the busybox fixture.
func (b *bench) runcBundle() (string, error) {
	dir := filepath.Join(b.base, "bundle")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if out, err := exec.Command("runc", "spec", "--bundle", dir).CombinedOutput(); err != nil {
		return "", fmt.Errorf("runc spec: %v: %s", err, out)
	}
	p := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		return "", err
	}
	proc := spec["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = []string{"true"}
	spec["root"] = map[string]any{"path": b.fx.busyboxRoot, "readonly": true}
	if data, err = json.Marshal(spec); err != nil {
		return "", err
	}
	return dir, os.WriteFile(p, data, 0o644)
}

// 2. create + start -a of busybox echo hi.
func (b *bench) caseCreate() error {
	perr, err := b.engines()
	if err != nil {
		return err
	}
	defer b.dropStores()
	pair := func(e *engine) trial {
		return func() ([]float64, error) {
			out, d1, err := e.timeOut("create", busyboxRef, "echo", "hi")
			if err != nil {
				return nil, err
			}
			id := strings.TrimSpace(out)
			got, d2, err := e.timeOut("start", "-a", id)
			if err == nil && strings.TrimSpace(got) != "hi" {
				err = fmt.Errorf("%s start -a printed %q, want hi", e.name, got)
			}
			e.quiet("rm", "-f", id)
			return []float64{ms(d1), ms(d2), ms(d1 + d2)}, err
		}
	}
	res, errs := interleave(b.cfg.runs, 3, pair(b.sk), b.podmanTrial(perr, pair(b.pm)))
	for i, name := range []string{"`create busybox echo hi`", "`start -a` of it", "create + start -a"} {
		b.rep.add(row{ID: []string{"create", "start_a", "create_start"}[i], Case: name, Unit: "ms",
			Results: map[string]*stat{"skiff": res[0][i], "podman": res[1][i]}})
	}
	return errs[0]
}

// 3. ps -a over 0, 100 and 1000 containers, and the time to create them.
func (b *bench) casePs() error {
	perr, err := b.engines()
	if err != nil {
		return err
	}
	defer b.dropStores()
	counts, full := []int{0, 100, 1000}, 1000
	if b.cfg.quick {
		counts = []int{0, 100, 200}
	}
	engines := []*engine{b.sk, b.pm}
	createErr := []error{nil, perr}
	createSum := make([]time.Duration, 2)
	have := 0
	for _, n := range counts {
		// One create per engine in turn, so load changes hit both alike.
		for ; have < n; have++ {
			for i, e := range engines {
				if createErr[i] != nil {
					continue
				}
				d, err := e.time("create", busyboxRef, "true")
				createSum[i] += d
				createErr[i] = err
			}
			if have%100 == 99 {
				logf("  %d containers created", have+1)
			}
		}
		ps := func(i int) trial {
			if createErr[i] != nil {
				return skip(createErr[i])
			}
			return timed(func() (time.Duration, error) { return engines[i].time("ps", "-a") })
		}
		res, errs := interleave(b.cfg.runs, 1, ps(0), ps(1))
		b.rep.add(row{ID: fmt.Sprintf("ps_%d", n), Case: fmt.Sprintf("`ps -a`, %d containers", n), Unit: "ms",
			Results: map[string]*stat{"skiff": res[0][0], "podman": res[1][0]}})
		if errs[0] != nil {
			return errs[0]
		}
	}
	scale := float64(full) / float64(have)
	r := row{ID: "create_1000", Case: fmt.Sprintf("create %d containers, one after another", full), Unit: "s", Results: map[string]*stat{}}
	if scale != 1 {
		r.Note = fmt.Sprintf("--quick: %d created, time scaled by %.0f", have, scale)
	}
	for i, e := range engines {
		if createErr[i] != nil {
			r.Results[e.name] = failed(createErr[i])
		} else {
			r.Results[e.name] = single(createSum[i].Seconds() * scale)
		}
	}
	b.rep.add(r)
	return createErr[0]
}

// 4. pull of the big image into an empty store; unpack rate next to tar.
func (b *bench) casePull() error {
	perr, err := b.engines()
	if err != nil {
		return err
	}
	b.dropStores()
	pull := func(e *engine) trial {
		return timed(func() (time.Duration, error) {
			if err := e.freshStore(); err != nil {
				return 0, err
			}
			defer e.dropStore()
			return e.time("pull", "-q", bigRef)
		})
	}
	tarTrial := timed(func() (time.Duration, error) {
		dir := filepath.Join(b.base, "tar-x")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return 0, err
		}
		defer removeTree(dir)
		t0 := time.Now()
		for _, l := range b.fx.bigLayers {
			if out, err := exec.Command("tar", "-xzf", l, "-C", dir).CombinedOutput(); err != nil {
				return 0, fmt.Errorf("tar -xzf: %v: %s", err, lastLine(string(out)))
			}
		}
		return time.Since(t0), nil
	})
	res, errs := interleave(b.cfg.runs, 1, pull(b.sk), b.podmanTrial(perr, pull(b.pm)), tarTrial)
	sec := map[string]*stat{}
	rate := map[string]*stat{}
	for i, name := range []string{"skiff", "podman", "tar"} {
		s := res[i][0]
		sec[name] = scaleStat(s, 1.0/1000)
		rate[name] = rateStat(s, b.fx.bigUnpMB)
	}
	b.rep.add(row{ID: "pull", Case: fmt.Sprintf("`pull` of a %.0f MB image (%d layers) into an empty store", b.fx.bigCompMB, len(b.fx.bigLayers)), Unit: "s",
		Results: sec, Note: "reference: plain `tar -xzf` of the same layers, one after another"})
	b.rep.add(row{ID: "unpack_rate", Case: fmt.Sprintf("unpack rate (%.0f MB unpacked / pull time)", b.fx.bigUnpMB), Unit: "MB/s", HigherBetter: true,
		Results: rate})
	return errs[0]
}

func scaleStat(s *stat, f float64) *stat {
	if s.Error != "" {
		return s
	}
	r := &stat{Median: s.Median * f, Min: s.Min * f, Max: s.Max * f}
	for _, v := range s.Runs {
		r.Runs = append(r.Runs, v*f)
	}
	return r
}

// rateStat turns times in ms into MB/s (min and max swap).
func rateStat(s *stat, mb float64) *stat {
	if s.Error != "" {
		return s
	}
	r := &stat{Median: mb / (s.Median / 1000), Min: mb / (s.Max / 1000), Max: mb / (s.Min / 1000)}
	for _, v := range s.Runs {
		r.Runs = append(r.Runs, mb/(v/1000))
	}
	return r
}

// 5. 50 run -d busybox sleep 1000 back to back, then stop -t 1 of all.
func (b *bench) caseRunDetached() error {
	perr, err := b.engines()
	if err != nil {
		return err
	}
	defer b.dropStores()
	const n = 50
	batch := func(e *engine) trial {
		return func() ([]float64, error) {
			var ids []string
			defer func() {
				if len(ids) > 0 {
					e.quiet(append([]string{"rm", "-f"}, ids...)...)
				}
			}()
			t0 := time.Now()
			for range n {
				out, err := e.out("run", "-d", busyboxRef, "sleep", "1000")
				if err != nil {
					return nil, err
				}
				ids = append(ids, strings.TrimSpace(out))
			}
			runs := time.Since(t0)
			stop, err := e.time(append([]string{"stop", "-t", "1"}, ids...)...)
			return []float64{runs.Seconds(), stop.Seconds()}, err
		}
	}
	res, errs := interleave(b.cfg.runs, 2, batch(b.sk), b.podmanTrial(perr, batch(b.pm)))
	b.rep.add(row{ID: "run_d_50", Case: "50 × `run -d busybox sleep 1000`, back to back", Unit: "s",
		Results: map[string]*stat{"skiff": res[0][0], "podman": res[1][0]}})
	b.rep.add(row{ID: "stop_50", Case: "`stop -t 1` of those 50 (one command)", Unit: "s",
		Results: map[string]*stat{"skiff": res[0][1], "podman": res[1][1]},
		Note:    "busybox sleep as pid 1 ignores SIGTERM: both wait the 1 s, then SIGKILL"})
	return errs[0]
}

// 6. memory of the per-container process: skiff's supervisor, podman's conmon.
func (b *bench) caseRSS() error {
	perr, err := b.engines()
	if err != nil {
		return err
	}
	defer b.dropStores()
	const n = 10
	monitors := func(e *engine, format string, parent bool) ([]int, error) {
		var pids []int
		for range n {
			out, err := e.out("run", "-d", busyboxRef, "sleep", "1000")
			if err != nil {
				return nil, err
			}
			id := strings.TrimSpace(out)
			out, err = e.out("inspect", "--format", format, id)
			if err != nil {
				return nil, err
			}
			var pid int
			if _, err := fmt.Sscan(out, &pid); err != nil || pid <= 0 {
				return nil, fmt.Errorf("%s inspect %s: pid %q", e.name, format, strings.TrimSpace(out))
			}
			if parent {
				if pid, err = ppid(pid); err != nil {
					return nil, err
				}
			}
			pids = append(pids, pid)
		}
		return pids, nil
	}
	skPids, err := monitors(b.sk, "{{.State.Pid}}", true)
	if err != nil {
		return err
	}
	var pmPids []int
	if perr == nil {
		pmPids, perr = monitors(b.pm, "{{.State.ConmonPid}}", false)
	}
	// Let start-up garbage be collected and pages settle, as they would
	// for a long-running container.
	time.Sleep(3 * time.Second)
	sample := func(pids []int, e error) (rss, pss *stat) {
		if e != nil {
			return failed(e), failed(e)
		}
		var rs, ps []float64
		for i := range 3 {
			if i > 0 {
				time.Sleep(time.Second)
			}
			r, p, err := memSum(pids)
			if err != nil {
				return failed(err), failed(err)
			}
			rs, ps = append(rs, float64(r)), append(ps, float64(p))
		}
		return summarize(rs), summarize(ps)
	}
	skR, skP := sample(skPids, nil)
	pmR, pmP := sample(pmPids, perr)
	b.rep.add(row{ID: "rss_10", Case: "VmRSS summed over 10 running containers' monitors", Unit: "kB",
		Results: map[string]*stat{"skiff": skR, "podman": pmR},
		Note:    "skiff supervisor vs conmon; 3 samples 1 s apart, 3 s after start; per container: " + perContainer(skR, pmR, n)})
	b.rep.add(row{ID: "pss_10", Case: "PSS (smaps_rollup) summed over the same 10", Unit: "kB",
		Results: map[string]*stat{"skiff": skP, "podman": pmP}, Note: "per container: " + perContainer(skP, pmP, n)})
	if skR.Error != "" {
		return errors.New(skR.Error)
	}
	return nil
}

// 7. build of a 3-step Dockerfile: first build, then the fully cached rebuild.
func (b *bench) caseBuild() error {
	perr, err := b.engines()
	if err != nil {
		return err
	}
	defer b.dropStores()
	var skErr error
	if out, err := b.sk.cmd("build", "--help").CombinedOutput(); err != nil {
		skErr = fmt.Errorf("skiff build is not available yet: %s", lastLine(string(out)))
	}
	seq := 0
	build := func(e *engine) trial {
		return func() ([]float64, error) {
			seq++
			ctx := filepath.Join(b.base, fmt.Sprintf("build-%s-%d", e.name, seq))
			if err := os.MkdirAll(ctx, 0o755); err != nil {
				return nil, err
			}
			defer os.RemoveAll(ctx)
			df := fmt.Sprintf("FROM %s\nRUN echo built-%d-%d > /built\nCOPY hello.txt /hello.txt\nCMD [\"cat\", \"/hello.txt\"]\n", busyboxRef, seq, time.Now().UnixNano())
			if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(df), 0o644); err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(ctx, "hello.txt"), []byte("hello\n"), 0o644); err != nil {
				return nil, err
			}
			args := []string{"build", "-q", "-t", "benchbuild:latest", ctx}
			first, err := e.time(args...)
			if err != nil {
				return nil, err
			}
			cached, err := e.time(args...)
			return []float64{ms(first), ms(cached)}, err
		}
	}
	skTrial := build(b.sk)
	if skErr != nil {
		skTrial = skip(skErr)
	}
	res, errs := interleave(b.cfg.runs, 2, skTrial, b.podmanTrial(perr, build(b.pm)))
	b.rep.add(row{ID: "build_first", Case: "`build` of a 3-step Dockerfile (RUN, COPY, CMD), first", Unit: "ms",
		Results: map[string]*stat{"skiff": res[0][0], "podman": res[1][0]}})
	b.rep.add(row{ID: "build_cached", Case: "the same build again, fully cached", Unit: "ms",
		Results: map[string]*stat{"skiff": res[0][1], "podman": res[1][1]}})
	return errs[0]
}

func perContainer(sk, pm *stat, n int) string {
	f := func(s *stat) string {
		if s.Error != "" {
			return "n/a"
		}
		return num(s.Median/float64(n), "kB")
	}
	return fmt.Sprintf("skiff %s, podman %s", f(sk), f(pm))
}
