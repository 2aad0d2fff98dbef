package main

import (
	"sort"
	"time"
)

// stat summarizes one figure for one engine.
type stat struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Runs   []float64 `json:"runs,omitempty"`
	Error  string    `json:"error,omitempty"`
}

func summarize(v []float64) *stat {
	if len(v) == 0 {
		return &stat{Error: "no runs"}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return &stat{Median: m, Min: s[0], Max: s[len(s)-1], Runs: v}
}

func single(v float64) *stat { return &stat{Median: v, Min: v, Max: v, Runs: []float64{v}} }

func failed(err error) *stat { return &stat{Error: err.Error()} }

// trial is one run of one engine's case; it returns one figure per metric
// of the case (e.g. create, start -a).
type trial func() ([]float64, error)

// settle is the least pause before each trial: engines tear down
// asynchronously (podman's conmon and `podman container cleanup` per
// container, dockerd's shims, the kernel's namespace and cgroup teardown),
// and that work would land on whichever engine's trial runs next. After
// the pause, quiesce waits (up to quietMax) until the CPUs are nearly idle.
var settle time.Duration

const (
	quietBusy = 0.15             // busy fraction of all CPUs that counts as quiet
	quietMax  = 15 * time.Second // give up waiting: the machine is busy anyway
)

// quiesce sleeps settle, then until the CPUs were less than quietBusy
// busy over a 100 ms window, or quietMax passed.
func quiesce() {
	if settle <= 0 {
		return
	}
	time.Sleep(settle)
	deadline := time.Now().Add(quietMax)
	for time.Now().Before(deadline) {
		b0, t0, ok0 := cpuTimes()
		time.Sleep(100 * time.Millisecond)
		b1, t1, ok1 := cpuTimes()
		if !ok0 || !ok1 || t1 <= t0 || float64(b1-b0)/float64(t1-t0) < quietBusy {
			return
		}
	}
}

// interleave runs each trial once as a warm-up, then n rounds of A B A B,
// so a change of load on the machine hits every engine alike. A trial that
// fails is not run again; its error is kept.
func interleave(n, metrics int, trials ...trial) ([][]*stat, []error) {
	vals := make([][][]float64, len(trials)) // trial -> metric -> runs
	errs := make([]error, len(trials))
	for i := range trials {
		vals[i] = make([][]float64, metrics)
	}
	for round := 0; round <= n; round++ {
		for i, t := range trials {
			if errs[i] != nil {
				continue
			}
			quiesce()
			v, err := t()
			if err != nil {
				errs[i] = err
				logf("  %v", err)
				continue
			}
			if round == 0 {
				continue // warm-up
			}
			for m := range metrics {
				vals[i][m] = append(vals[i][m], v[m])
			}
		}
	}
	out := make([][]*stat, len(trials))
	for i := range trials {
		out[i] = make([]*stat, metrics)
		for m := range metrics {
			if errs[i] != nil {
				out[i][m] = failed(errs[i])
			} else {
				out[i][m] = summarize(vals[i][m])
			}
		}
	}
	return out, errs
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
