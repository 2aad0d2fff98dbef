package main

import (
	"slices"
	"testing"
)

func TestParseCPULine(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       []uint64
		ok         bool
	}{
		{"guest columns dropped", "cpu  10 1 20 300 4 0 2 7 5 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n", []uint64{10, 1, 20, 300, 4, 0, 2, 7}, true},
		{"old kernel without steal", "cpu  10 1 20 300 4 0\n", []uint64{10, 1, 20, 300, 4, 0}, true},
		{"not the cpu line", "intr 5 6 7 8 9 10\n", nil, false},
		{"too short", "cpu 1 2 3\n", nil, false},
		{"garbage", "cpu  1 2 x 4 5 6 7 8\n", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseCPULine(tc.stat)
			if ok != tc.ok || !slices.Equal(got, tc.want) {
				t.Fatalf("parseCPULine = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
