package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func rowOf(id, group string, skiff float64) row {
	return row{ID: id, Group: group, Case: id, Unit: "ms", Results: map[string]*stat{"skiff": single(skiff), "podman": single(2 * skiff)}}
}

// --only re-runs replace their cases' rows and records, keep the others,
// and the result stays in case order whatever order the runs came in.
func TestMergedReplacesOnlyReRunCases(t *testing.T) {
	old := newReport(config{runs: 5})
	old.date = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	old.versions = map[string]string{"skiff": "old", "docker": "Docker version 20.10"}
	old.cases = []caseRecord{{ID: "run", Measured: old.date, Runs: 5}, {ID: "ps", Measured: old.date, Runs: 5}, {ID: "build", Measured: old.date, Runs: 5}}
	old.rows = []row{rowOf("run_rm", "run", 50), rowOf("ps_0", "ps", 8), rowOf("ps_1000", "ps", 40), rowOf("build_cached", "build", 7)}

	now := newReport(config{runs: 3, quick: true, only: "ps,create"})
	now.versions = map[string]string{"skiff": "new"}
	now.beginCase("ps", "ps -a", "1.0", false)
	now.add(rowOf("ps_0", "", 6))
	now.add(rowOf("ps_200", "", 12))
	now.beginCase("create", "create", "1.0", false)
	now.add(rowOf("create", "", 9))
	now.endCase("2.5%")
	now.notes = []string{"run note"}
	now.finish()

	m := old.merged(now)
	if md := m.markdown(); !strings.Contains(md, "| 1.0 | 2.5% | new |") || !strings.Contains(md, "| 5 |  | not recorded |") {
		t.Errorf("When measured should give the re-run case's stolen CPU and say the old cases have none:\n%s", md)
	}
	var ids, groups []string
	for _, x := range m.rows {
		ids = append(ids, x.ID)
	}
	for _, c := range m.cases {
		groups = append(groups, c.ID)
	}
	if got, want := strings.Join(ids, " "), "run_rm create ps_0 ps_200 build_cached"; got != want {
		t.Errorf("rows %q, want %q", got, want)
	}
	if got, want := strings.Join(groups, " "), "run create ps build"; got != want {
		t.Errorf("cases %q, want %q", got, want)
	}
	if v := m.med("ps_0", "skiff"); v != 6 {
		t.Errorf("ps_0 = %v, want the re-run's 6", v)
	}
	if m.versions["skiff"] != "new" || m.versions["docker"] == "" {
		t.Errorf("versions %v: want the new skiff and the old docker", m.versions)
	}
	if m.psTarget() != "ps_200" || !m.mixed() {
		t.Errorf("psTarget %s, mixed %v", m.psTarget(), m.mixed())
	}
	if c := m.cases[2]; c.Runs != 3 || !c.Quick || len(c.Notes) != 1 {
		t.Errorf("re-run case record %+v", c)
	}
}

// A report written before rows named their case still merges: rows are
// grouped by id and dated with the report.
func TestReadLegacyReport(t *testing.T) {
	p := filepath.Join(t.TempDir(), "benchmarks.json")
	legacy := `{"date":"2026-11-27T05:57:50Z","runs":5,"quick":false,"seconds":500,"machine":{},"versions":{"skiff":"x"},
"rows":[{"id":"run_rm","case":"a","unit":"ms","results":{"skiff":{"median":1,"min":1,"max":1}}},
{"id":"create_start","case":"b","unit":"ms","results":{}},{"id":"create_1000","case":"c","unit":"s","results":{}},
{"id":"stop_50","case":"d","unit":"s","results":{}}],"notes":["n"]}`
	if err := os.WriteFile(p, []byte(legacy), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := readReport(p)
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, x := range r.rows {
		groups = append(groups, x.Group)
	}
	if got, want := strings.Join(groups, " "), "run create ps rund"; got != want {
		t.Errorf("groups %q, want %q", got, want)
	}
	if len(r.cases) != 4 || r.cases[0].Measured.IsZero() || r.cases[0].Title != "run --rm" {
		t.Errorf("cases %+v", r.cases)
	}
	if md := r.markdown(); !strings.Contains(md, "## When measured") || strings.Contains(md, "| docker |") {
		t.Errorf("markdown without docker rows should have no docker column:\n%s", md)
	}
}
