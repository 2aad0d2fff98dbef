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
	cfg       config
	base      string
	reg       *localRegistry
	regConf   string
	fx        *fixtures
	rep       *report
	dockerd   *dockerd
	dockerErr error // why docker cannot take part (--with-docker only)
	sk, pm    *engine
	dk        *engine   // nil without --with-docker or when dockerd failed
	engs      []*engine // sk, pm[, dk]: trial order A B C in every case
}

type benchCase struct {
	id, title string
	run       func() error
}

// caseList is every case in report order.
func (b *bench) caseList() []benchCase {
	run := map[string]func() error{"run": b.caseRun, "create": b.caseCreate, "ps": b.casePs, "pull": b.casePull,
		"rund": b.caseRunDetached, "rss": b.caseRSS, "build": b.caseBuild}
	var cs []benchCase
	for _, id := range caseOrder {
		cs = append(cs, benchCase{id, caseTitles[id], run[id]})
	}
	return cs
}

// runCases runs the selected cases in order and returns the ids of those
// that could not run at all.
func (b *bench) runCases() (failedCases []string) {
	want := onlySet(b.cfg.only)
	for _, c := range b.caseList() {
		if len(want) > 0 && !want[c.id] {
			continue
		}
		if interrupted.Load() {
			break
		}
		t0 := time.Now()
		load := loadavg()
		logf("case %s: %s (load %s)", c.id, c.title, load)
		b.rep.beginCase(c.id, c.title, load, b.dockerd != nil)
		steal0, total0, ok0 := stealTimes()
		if err := c.run(); err != nil {
			logf("case %s cannot run: %v", c.id, err)
			b.rep.caseNote(fmt.Sprintf("Case %q could not run: %v", c.title, err))
			failedCases = append(failedCases, c.id)
		}
		if steal1, total1, ok1 := stealTimes(); ok0 && ok1 && total1 > total0 {
			b.rep.endCase(fmt.Sprintf("%.1f%%", 100*float64(steal1-steal0)/float64(total1-total0)))
		}
		logf("case %s done in %s", c.id, time.Since(t0).Round(time.Millisecond))
	}
	return failedCases
}

func onlySet(only string) map[string]bool {
	want := map[string]bool{}
	for _, id := range strings.Split(only, ",") {
		if id = strings.TrimSpace(id); id != "" {
			want[id] = true
		}
	}
	return want
}

// engines gives every engine a fresh store with busybox pulled (untimed).
// Only skiff failing is fatal to the case; another engine that cannot even
// pull is reported in its cells (setupErr).
func (b *bench) engines() error {
	if b.sk == nil {
		var err error
		if b.sk, err = newEngine("skiff", b.cfg.skiff, b.base, b.regConf); err != nil {
			return err
		}
		if b.pm, err = newEngine("podman", "podman", b.base, b.regConf); err != nil {
			return err
		}
		b.engs = []*engine{b.sk, b.pm}
		if b.dockerd != nil {
			b.dk, err = newDockerEngine(b.dockerd, b.base)
			if err != nil {
				b.dockerErr = fmt.Errorf("docker store: %w", err)
				b.dk = nil
			} else {
				b.engs = append(b.engs, b.dk)
			}
		}
	} else {
		for _, e := range b.engs {
			if err := e.freshStore(); err != nil {
				if e == b.sk {
					return err
				}
				e.setupErr = err
			}
		}
	}
	for _, e := range b.engs {
		_, err := e.out("pull", "-q", busyboxRef)
		if e == b.sk && err != nil {
			return err
		}
		e.setupErr = err
	}
	return nil
}

func (b *bench) dropStores() {
	for _, e := range b.engs {
		e.dropStore()
	}
}

// trials makes one trial per engine (skiff, podman[, docker]); an engine
// whose setup failed gets a trial that reports why.
func (b *bench) trials(mk func(e *engine) trial) []trial {
	var ts []trial
	for _, e := range b.engs {
		if e.setupErr != nil {
			ts = append(ts, skip(fmt.Errorf("%s setup: %w", e.name, e.setupErr)))
		} else {
			ts = append(ts, mk(e))
		}
	}
	return ts
}

// results maps metric m of the engines' results (the first len(b.engs)
// of res) to engine names; a docker that could not start gets its error.
func (b *bench) results(res [][]*stat, m int) map[string]*stat {
	out := map[string]*stat{}
	for i, e := range b.engs {
		out[e.name] = res[i][m]
	}
	if b.cfg.withDocker && b.dk == nil && b.dockerErr != nil {
		out["docker"] = failed(b.dockerErr)
	}
	return out
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

// 1. run --rm busybox true, against bare runc run of a prepared bundle.
func (b *bench) caseRun() error {
	if err := b.engines(); err != nil {
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
	runRm := func(extra ...string) func(e *engine) trial {
		return func(e *engine) trial {
			args := append(append([]string{"run", "--rm"}, extra...), busyboxRef, "true")
			return timed(func() (time.Duration, error) { return e.time(args...) })
		}
	}
	res, errs := interleave(b.cfg.runs, 1, append(b.trials(runRm()), runcTrial)...)
	r := b.results(res, 0)
	r["runc"] = res[len(b.engs)][0]
	note := "each engine's default network (skiff: private netns, loopback only; podman: bridge via netavark"
	if b.dk != nil {
		note += "; docker: " + b.dockerd.bridgeShort()
	}
	b.rep.add(row{ID: "run_rm", Case: "`run --rm busybox true`", Unit: "ms", Results: r,
		Note: note + "); reference: bare `runc run` of a prepared bundle"})
	if errs[0] != nil {
		return errs[0]
	}
	res, _ = interleave(b.cfg.runs, 1, b.trials(runRm("--network", "none"))...)
	b.rep.add(row{ID: "run_rm_nonet", Case: "`run --rm --network none busybox true`", Unit: "ms", Results: b.results(res, 0)})
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
	if err := b.engines(); err != nil {
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
	res, errs := interleave(b.cfg.runs, 3, b.trials(pair)...)
	for i, name := range []string{"`create busybox echo hi`", "`start -a` of it", "create + start -a"} {
		b.rep.add(row{ID: []string{"create", "start_a", "create_start"}[i], Case: name, Unit: "ms", Results: b.results(res, i)})
	}
	return errs[0]
}

// 3. ps -a over 0, 100 and 1000 containers, and the time to create them.
func (b *bench) casePs() error {
	if err := b.engines(); err != nil {
		return err
	}
	defer b.dropStores()
	counts, full := []int{0, 100, 1000}, 1000
	if b.cfg.quick {
		counts = []int{0, 100, 200}
	}
	engines := b.engs
	createErr := make([]error, len(engines))
	for i, e := range engines {
		createErr[i] = e.setupErr
	}
	createSum := make([]time.Duration, len(engines))
	have := 0
	for _, n := range counts {
		// One create per engine in turn, so load changes hit all alike.
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
		var ps []trial
		for i, e := range engines {
			if createErr[i] != nil {
				ps = append(ps, skip(createErr[i]))
			} else {
				ps = append(ps, timed(func() (time.Duration, error) { return e.time("ps", "-a") }))
			}
		}
		res, errs := interleave(b.cfg.runs, 1, ps...)
		b.rep.add(row{ID: fmt.Sprintf("ps_%d", n), Case: fmt.Sprintf("`ps -a`, %d containers", n), Unit: "ms", Results: b.results(res, 0)})
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
	if b.cfg.withDocker && b.dk == nil && b.dockerErr != nil {
		r.Results["docker"] = failed(b.dockerErr)
	}
	b.rep.add(r)
	return createErr[0]
}

// 4. pull of the big image into an empty store; unpack rate next to tar.
func (b *bench) casePull() error {
	if err := b.engines(); err != nil {
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
	res, errs := interleave(b.cfg.runs, 1, append(b.trials(pull), tarTrial)...)
	times := b.results(res, 0)
	times["tar"] = res[len(b.engs)][0]
	sec := map[string]*stat{}
	rate := map[string]*stat{}
	for name, s := range times {
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
	if err := b.engines(); err != nil {
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
			var each []float64 // ms per run -d
			for range n {
				out, d, err := e.timeOut("run", "-d", busyboxRef, "sleep", "1000")
				if err != nil {
					return nil, err
				}
				each = append(each, ms(d))
				ids = append(ids, strings.TrimSpace(out))
			}
			runs := time.Since(t0)
			stop, err := e.time(append([]string{"stop", "-t", "1"}, ids...)...)
			return []float64{runs.Seconds(), stop.Seconds(), summarize(each[:10]).Median, summarize(each[n-10:]).Median}, err
		}
	}
	res, errs := interleave(b.cfg.runs, 4, b.trials(batch)...)
	b.rep.add(row{ID: "run_d_50", Case: "50 × `run -d busybox sleep 1000`, back to back", Unit: "s", Results: b.results(res, 0)})
	b.rep.add(row{ID: "run_d_first10", Case: "one `run -d` of those, among the first 10", Unit: "ms", Results: b.results(res, 2),
		Note: "median over each batch's first 10 runs; the figure is the median of the batches"})
	b.rep.add(row{ID: "run_d_last10", Case: "one `run -d` of those, among the last 10 (40–49 running)", Unit: "ms", Results: b.results(res, 3),
		Note: "as above, runs 41–50: a rise over the first 10 is what each running container costs the next start, or load that came and went"})
	b.rep.add(row{ID: "stop_50", Case: "`stop -t 1` of those 50 (one command)", Unit: "s", Results: b.results(res, 1),
		Note: "busybox sleep as pid 1 ignores SIGTERM: every engine waits the 1 s, then SIGKILL"})
	return errs[0]
}

// 6. memory of the per-container process: skiff's supervisor, podman's
// conmon, docker's containerd-shim-runc-v2.
func (b *bench) caseRSS() error {
	if err := b.engines(); err != nil {
		return err
	}
	defer b.dropStores()
	const n = 10
	pids := make([][]int, len(b.engs))
	errs := make([]error, len(b.engs))
	for i, e := range b.engs {
		if errs[i] = e.setupErr; errs[i] == nil {
			pids[i], errs[i] = monitors(e, n)
		}
	}
	if errs[0] != nil {
		return errs[0]
	}
	// Let start-up garbage be collected and pages settle, as they would
	// for a long-running container.
	time.Sleep(3 * time.Second)
	rss, pss := map[string]*stat{}, map[string]*stat{}
	var comms []string
	for i, e := range b.engs {
		rss[e.name], pss[e.name] = sampleMem(pids[i], errs[i])
		if len(pids[i]) > 0 {
			comms = append(comms, e.name+": "+comm(pids[i][0]))
		}
	}
	if b.cfg.withDocker && b.dk == nil && b.dockerErr != nil {
		rss["docker"], pss["docker"] = failed(b.dockerErr), failed(b.dockerErr)
	}
	b.rep.add(row{ID: "rss_10", Case: "VmRSS summed over 10 running containers' monitors", Unit: "kB", Results: rss,
		Note: "skiff supervisor vs conmon" + b.dockerMonitor() + " (processes measured: " + strings.Join(comms, ", ") +
			"); 3 samples 1 s apart, 3 s after start; per container: " + perContainer(rss, n)})
	b.rep.add(row{ID: "pss_10", Case: "PSS (smaps_rollup) summed over the same 10", Unit: "kB", Results: pss,
		Note: "per container: " + perContainer(pss, n)})
	if rss["skiff"].Error != "" {
		return errors.New(rss["skiff"].Error)
	}
	return nil
}

func (b *bench) dockerMonitor() string {
	if b.cfg.withDocker {
		return " vs containerd-shim-runc-v2 (docker)"
	}
	return ""
}

// monitors starts n containers and returns their monitor processes.
func monitors(e *engine, n int) ([]int, error) {
	var pids []int
	for range n {
		out, err := e.out("run", "-d", busyboxRef, "sleep", "1000")
		if err != nil {
			return nil, err
		}
		id := strings.TrimSpace(out)
		out, err = e.out("inspect", "--format", e.monitor, id)
		if err != nil {
			return nil, err
		}
		var pid int
		if _, err := fmt.Sscan(out, &pid); err != nil || pid <= 0 {
			return nil, fmt.Errorf("%s inspect %s: pid %q", e.name, e.monitor, strings.TrimSpace(out))
		}
		if e.monitorParent {
			if pid, err = ppid(pid); err != nil {
				return nil, err
			}
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// sampleMem sums RSS and PSS over pids three times, 1 s apart.
func sampleMem(pids []int, e error) (rss, pss *stat) {
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

// 7. build of a 3-step Dockerfile: first build, then the fully cached rebuild.
func (b *bench) caseBuild() error {
	if err := b.engines(); err != nil {
		return err
	}
	defer b.dropStores()
	var skErr error
	if out, err := b.sk.cmd("build", "--help").CombinedOutput(); err != nil {
		skErr = fmt.Errorf("skiff build is not available yet: %s", lastLine(string(out)))
	}
	seq := 0
	build := func(e *engine) trial {
		if e == b.sk && skErr != nil {
			return skip(skErr)
		}
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
	res, errs := interleave(b.cfg.runs, 2, b.trials(build)...)
	note := ""
	if b.cfg.withDocker {
		note = "docker: the classic builder (20.10's default; BuildKit off)"
	}
	b.rep.add(row{ID: "build_first", Case: "`build` of a 3-step Dockerfile (RUN, COPY, CMD), first", Unit: "ms", Results: b.results(res, 0), Note: note})
	b.rep.add(row{ID: "build_cached", Case: "the same build again, fully cached", Unit: "ms", Results: b.results(res, 1)})
	return errs[0]
}

func perContainer(m map[string]*stat, n int) string {
	var parts []string
	for _, name := range engineNames {
		s, ok := m[name]
		if !ok {
			continue
		}
		v := "n/a"
		if s.Error == "" {
			v = num(s.Median/float64(n), "kB")
		}
		parts = append(parts, name+" "+v)
	}
	return strings.Join(parts, ", ")
}
