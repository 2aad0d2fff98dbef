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

// settle is the pause before each trial: engines tear down asynchronously
// (podman's cleanup process, the kernel's namespace and cgroup teardown,
// dockerd's shim exit), and without a pause that work lands on whichever
// engine's trial runs next.
var settle time.Duration

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
			time.Sleep(settle)
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
