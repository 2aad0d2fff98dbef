package engine

import (
	"testing"
	"time"
)

func TestPruneFilter(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	old, recent := now.Add(-48*time.Hour), now.Add(-time.Minute)
	web := map[string]string{"tier": "web", "keep": "no"}
	db := map[string]string{"tier": "db"}
	for _, tc := range []struct {
		name    string
		args    []string
		created time.Time
		labels  map[string]string
		want    bool
	}{
		{"no filter prunes all", nil, recent, nil, true},
		{"until duration: old goes", []string{"until=24h"}, old, nil, true},
		{"until duration: recent stays", []string{"until=24h"}, recent, nil, false},
		{"until timestamp", []string{"until=2026-11-26T00:00:00Z"}, old, nil, true},
		{"until unix time", []string{"until=1795000000"}, recent, nil, false},
		{"label key", []string{"label=tier"}, recent, web, true},
		{"label key missing", []string{"label=tier"}, recent, nil, false},
		{"label value", []string{"label=tier=web"}, recent, db, false},
		{"labels are all needed", []string{"label=tier", "label=keep"}, recent, db, false},
		{"label! keeps a match", []string{"label!=tier=web"}, recent, web, false},
		{"label! prunes the others", []string{"label!=tier=web"}, recent, db, true},
		{"label! keeps only what has all of them", []string{"label!=tier", "label!=keep"}, recent, db, true},
		{"until and label", []string{"until=1h", "label=tier=db"}, old, db, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParsePruneFilter(tc.args, ContainerPruneKeys, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Match(tc.created, tc.labels); got != tc.want {
				t.Fatalf("Match = %v, want %v", got, tc.want)
			}
		})
	}
	for _, bad := range [][]string{{"until"}, {"name=x"}, {"until=1h", "until=2h"}, {"until=soon"}, {"all=true"}} {
		if _, err := ParsePruneFilter(bad, ContainerPruneKeys, now); err == nil {
			t.Errorf("ParsePruneFilter(%q) accepted", bad)
		}
	}
	if f, err := ParsePruneFilter([]string{"all=true", "label=a"}, VolumePruneKeys, now); err != nil || !f.All {
		t.Errorf("volume all=true: %+v, %v", f, err)
	}
	if _, err := ParsePruneFilter([]string{"until=1h"}, VolumePruneKeys, now); err == nil {
		t.Error("volume prune took until")
	}
}
