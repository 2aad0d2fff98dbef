package main

import (
	"errors"
	"testing"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in            []float64
		med, min, max float64
	}{
		{[]float64{3}, 3, 3, 3},
		{[]float64{5, 1, 3}, 3, 1, 5},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4},
	} {
		s := summarize(tc.in)
		if s.Median != tc.med || s.Min != tc.min || s.Max != tc.max {
			t.Errorf("summarize(%v) = %v/%v/%v, want %v/%v/%v", tc.in, s.Median, s.Min, s.Max, tc.med, tc.min, tc.max)
		}
	}
}

func TestRateStatSwapsBounds(t *testing.T) {
	s := rateStat(summarize([]float64{1000, 2000, 4000}), 100) // ms -> MB/s for 100 MB
	if s.Median != 50 || s.Min != 25 || s.Max != 100 {
		t.Errorf("rate = %v/%v/%v, want 50/25/100", s.Median, s.Min, s.Max)
	}
}

// A failing trial is not retried and its error lands in every metric;
// the other trial keeps its n measured runs (the warm-up is dropped).
func TestInterleave(t *testing.T) {
	var order []string
	ok := func() ([]float64, error) { order = append(order, "a"); return []float64{float64(len(order)), 1}, nil }
	bad := func() ([]float64, error) { order = append(order, "b"); return nil, errors.New("boom") }
	res, errs := interleave(3, 2, ok, bad)
	if got := len(res[0][0].Runs); got != 3 {
		t.Errorf("measured runs = %d, want 3", got)
	}
	if errs[1] == nil || res[1][1].Error != "boom" {
		t.Errorf("failing trial: err %v, stat %+v", errs[1], res[1][1])
	}
	if want := "abaaa"; joined(order) != want {
		t.Errorf("call order %q, want %q", joined(order), want)
	}
}

func joined(s []string) string {
	out := ""
	for _, x := range s {
		out += x
	}
	return out
}
