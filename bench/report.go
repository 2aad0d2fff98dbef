package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// engineNames are the engines' result keys in column order; refNames the
// reference floors (bare runc, plain tar).
var (
	engineNames = []string{"skiff", "podman", "docker"}
	refNames    = []string{"runc", "tar"}
)

// row is one figure measured for each engine (and a reference floor).
type row struct {
	ID           string           `json:"id"`
	Group        string           `json:"group,omitempty"` // the case that measured it (caseRecord.ID)
	Case         string           `json:"case"`
	Unit         string           `json:"unit"`
	HigherBetter bool             `json:"higher_better,omitempty"`
	Results      map[string]*stat `json:"results"` // skiff, podman, docker, runc, tar
	Note         string           `json:"note,omitempty"`
}

// caseRecord says when and how one case was measured. `--only` merges the
// re-run cases into the existing report, so its cases may come from
// different runs (and skiff versions).
type caseRecord struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Measured time.Time `json:"measured"`
	Runs     int       `json:"runs"`
	Quick    bool      `json:"quick,omitempty"`
	Load     string    `json:"load"` // load average at the case's start
	// Steal is the share of the machine's CPU time the hypervisor gave to
	// other guests while the case ran (/proc/stat's steal column): a
	// noisy neighbour slows every engine, but not evenly across runs.
	Steal  string   `json:"steal,omitempty"`
	Skiff  string   `json:"skiff,omitempty"`
	Docker bool     `json:"docker,omitempty"`
	Notes  []string `json:"notes,omitempty"`
}

// caseOrder is the report order of the cases (as bench runs them).
var (
	caseOrder  = []string{"run", "create", "ps", "pull", "rund", "rss", "build"}
	caseTitles = map[string]string{"run": "run --rm", "create": "create + start -a", "ps": "ps -a", "pull": "pull",
		"rund": "50 run -d + stop", "rss": "memory per container", "build": "build"}
)

// groupOf maps a row id to its case, for reports written before rows
// named their case.
func groupOf(rowID string) string {
	switch {
	case strings.HasPrefix(rowID, "run_rm"):
		return "run"
	case rowID == "create" || rowID == "start_a" || rowID == "create_start":
		return "create"
	case strings.HasPrefix(rowID, "ps_") || strings.HasPrefix(rowID, "create_"):
		return "ps"
	case rowID == "pull" || rowID == "unpack_rate":
		return "pull"
	case strings.HasPrefix(rowID, "run_d_") || rowID == "stop_50":
		return "rund"
	case rowID == "rss_10" || rowID == "pss_10":
		return "rss"
	case strings.HasPrefix(rowID, "build_"):
		return "build"
	}
	return rowID
}

type target struct {
	Goal string `json:"goal"`
	Now  string `json:"now"`
	Met  string `json:"met"` // yes, no, n/a
}

type report struct {
	cfg      config
	date     time.Time
	machine  map[string]string
	versions map[string]string
	cases    []caseRecord
	rows     []row
	notes    []string // this run's notes, given to its cases by finish
	duration time.Duration
}

func newReport(cfg config) *report {
	return &report{cfg: cfg, date: time.Now().UTC(), machine: map[string]string{}, versions: map[string]string{}}
}

// beginCase starts the record of a case; rows and case notes added until
// the next beginCase belong to it.
func (r *report) beginCase(id, title, load string, docker bool) {
	r.noteLoad(load)
	r.cases = append(r.cases, caseRecord{ID: id, Title: title, Measured: time.Now().UTC(), Runs: r.cfg.runs,
		Quick: r.cfg.quick, Load: load, Skiff: r.versions["skiff"], Docker: docker})
}

// endCase records the CPU time stolen while the current case ran.
func (r *report) endCase(steal string) {
	if c := r.current(); c != nil {
		c.Steal = steal
	}
}

func (r *report) current() *caseRecord {
	if len(r.cases) == 0 {
		return nil
	}
	return &r.cases[len(r.cases)-1]
}

func (r *report) caseNote(n string) {
	if c := r.current(); c != nil {
		c.Notes = append(c.Notes, n)
	} else {
		r.notes = append(r.notes, n)
	}
}

// finish hands this run's notes (engine set-up, network modes) to every
// case it measured, so they stay with those figures through later merges.
func (r *report) finish() {
	for i := range r.cases {
		r.cases[i].Notes = append(r.cases[i].Notes, r.notes...)
	}
	r.notes = nil
}

func (r *report) add(x row) {
	if c := r.current(); c != nil && x.Group == "" {
		x.Group = c.ID
	}
	r.rows = append(r.rows, x)
	var parts []string
	for _, k := range append(append([]string{}, engineNames...), refNames...) {
		if s := x.Results[k]; s != nil {
			parts = append(parts, k+" "+cell(s, x.Unit))
		}
	}
	logf("  %s: %s", x.ID, strings.Join(parts, " | "))
}

// merged is prev with the cases measured in r replacing its own: partial
// re-runs (--only) keep the figures of the cases they did not run.
func (prev *report) merged(r *report) *report {
	out := *r
	out.versions = map[string]string{}
	for k, v := range prev.versions {
		out.versions[k] = v
	}
	for k, v := range r.versions {
		out.versions[k] = v
	}
	fresh := map[string]bool{}
	for _, c := range r.cases {
		fresh[c.ID] = true
	}
	out.cases = append([]caseRecord{}, r.cases...)
	out.rows = append([]row{}, r.rows...)
	for _, c := range prev.cases {
		if !fresh[c.ID] {
			out.cases = append(out.cases, c)
		}
	}
	for _, x := range prev.rows {
		if !fresh[x.Group] {
			out.rows = append(out.rows, x)
		}
	}
	rank := func(id string) int {
		for i, c := range caseOrder {
			if c == id {
				return i
			}
		}
		return len(caseOrder)
	}
	sort.SliceStable(out.cases, func(i, j int) bool { return rank(out.cases[i].ID) < rank(out.cases[j].ID) })
	sort.SliceStable(out.rows, func(i, j int) bool { return rank(out.rows[i].Group) < rank(out.rows[j].Group) })
	return &out
}

// notesAll is every case's notes, each once, in case order.
func (r *report) notesAll() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range r.cases {
		for _, n := range c.Notes {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return append(out, r.notes...)
}

// has says whether any row has a figure (or an error) for engine.
func (r *report) has(engine string) bool {
	for _, x := range r.rows {
		if x.Results[engine] != nil {
			return true
		}
	}
	return false
}

func (r *report) find(id string) *row {
	for i := range r.rows {
		if r.rows[i].ID == id {
			return &r.rows[i]
		}
	}
	return nil
}

// med returns the median of engine's figure for row id, NaN if absent.
func (r *report) med(id, engine string) float64 {
	x := r.find(id)
	if x == nil || x.Results[engine] == nil || x.Results[engine].Error != "" {
		return math.NaN()
	}
	return x.Results[engine].Median
}

// psTarget is the ps -a row over the most containers (1000, or 200 with
// --quick).
func (r *report) psTarget() string {
	best, id := -1, "ps_1000"
	for _, x := range r.rows {
		var n int
		if _, err := fmt.Sscanf(x.ID, "ps_%d", &n); err == nil && n > best {
			best, id = n, x.ID
		}
	}
	return id
}

// targets are issue 8's goals; they compare skiff with podman only.
func (r *report) targets() []target {
	ps := r.psTarget()
	abs := func(goal, id string, limit float64, unit string) target {
		v := r.med(id, "skiff")
		return target{goal, fmt.Sprintf("%s (podman %s)", num(v, unit), num(r.med(id, "podman"), unit)), met(v, limit)}
	}
	rel := func(goal, id, other string, limit float64, unit string) target {
		v, o := r.med(id, "skiff"), r.med(id, other)
		return target{goal, fmt.Sprintf("%s vs %s %s = %s×", num(v, unit), other, num(o, unit), ratio(v, o)), met(v/o, limit)}
	}
	return []target{
		abs("`run --rm` under 30 ms", "run_rm", 30, "ms"),
		rel("`run --rm` at most 1/10 of podman's time", "run_rm", "podman", 0.1, "ms"),
		rel("`run --rm` within 1.5× of bare `runc run`", "run_rm", "runc", 1.5, "ms"),
		abs("`create` under 5 ms", "create", 5, "ms"),
		abs(fmt.Sprintf("`ps -a` over %s containers under 20 ms", strings.TrimPrefix(ps, "ps_")), ps, 20, "ms"),
		rel("`pull` in at most 1/3 of podman's time", "pull", "podman", 1.0/3, "s"),
		rel("supervisor RSS no more than conmon's", "rss_10", "podman", 1, "kB"),
		rel("supervisor PSS at most conmon's", "pss_10", "podman", 1, "kB"),
		abs("cached rebuild under 20 ms", "build_cached", 20, "ms"),
		abs("50 `run -d` in under 1.5 s", "run_d_50", 1.5, "s"),
	}
}

func met(v, limit float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case v <= limit:
		return "yes"
	}
	return "no"
}

func num(v float64, unit string) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	var s string
	switch a := math.Abs(v); {
	case a >= 100:
		s = fmt.Sprintf("%.0f", v)
	case a >= 10:
		s = fmt.Sprintf("%.1f", v)
	default:
		s = fmt.Sprintf("%.2f", v)
	}
	return s + " " + unit
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func cell(s *stat, unit string) string {
	if s == nil {
		return ""
	}
	if s.Error != "" {
		return "n/a (" + strings.ReplaceAll(s.Error, "|", "\\|") + ")"
	}
	if s.Min == s.Max {
		return num(s.Median, unit)
	}
	return fmt.Sprintf("%s (%s–%s)", num(s.Median, unit), trimUnit(num(s.Min, unit)), trimUnit(num(s.Max, unit)))
}

func trimUnit(s string) string { return strings.Fields(s)[0] }

func (r *report) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	docker := r.has("docker")
	engines := []string{"skiff", "podman"}
	title := "skiff side by side with podman"
	if docker {
		engines = append(engines, "docker")
		title += " and docker"
	}
	w("# Benchmarks: %s\n\n", title)
	w("Generated by `just bench` (`go run ./bench`); last run on %s, %s", r.date.Format("2006-01-02 15:04 UTC"), r.duration.Round(time.Second))
	if r.cfg.only != "" {
		w(", re-running only `%s`", r.cfg.only)
		if r.mixed() {
			w(" (the other cases are kept from earlier runs: see [When measured](#when-measured))")
		}
	}
	w(". Medians of %s interleaved runs (A B A B …, one run per engine in turn) after a warm-up, with min–max; ", r.runsText())
	w("ratio is skiff/podman")
	if docker {
		w(" and skiff/docker")
	}
	w(" (below 1: skiff is faster or smaller). ")
	w("Each case starts from fresh stores; images come from an in-process registry on 127.0.0.1; podman uses runc, overlay storage and its own temporary root")
	if docker {
		w("; docker is Debian's docker.io 20.10 with a private dockerd the bench starts and stops (own data-root, no iptables, the registry as its insecure mirror, runc; see DEVELOPERS.md), emptied between cases")
	}
	w(". Figures are wall-clock times of the CLI as a user runs it.\n\n")
	if busy := r.busyNote(); busy != "" {
		w("%s\n\n", busy)
	}
	w("## Targets\n\nFrom issue 8, where podman measured on this machine when idle: run --rm 0.26–0.36 s, create 57 ms, ps -a over 1000 containers 0.78 s, ")
	w("pull 7 s, conmon 2049 kB RSS / 437 kB PSS, cached rebuild 89 ms, 50 run -d 12.8 s. The targets compare skiff with podman only.\n\n")
	w("| target | now | met |\n| --- | --- | --- |\n")
	for _, t := range r.targets() {
		w("| %s | %s | %s |\n", t.Goal, t.Now, t.Met)
	}
	w("\n## Results\n\n")
	r.resultsTable(&b, engines)
	w("\n## When measured\n\n")
	r.casesTable(&b)
	w("\n## Machine\n\n")
	for _, k := range sortedKeys(r.machine) {
		w("- %s: %s\n", k, r.machine[k])
	}
	w("\nThe load average is that of the whole machine (for the last run; each case's is under When measured): other work running at the same time slows every engine alike, since runs interleave. \"CPU stolen by the host\" is the share of this VM's CPU time that the hypervisor gave to other guests while the case ran (/proc/stat); it comes and goes, so a case with some shows a wider min–max for every engine.\n")
	w("\n## Versions\n\n")
	for _, k := range sortedKeys(r.versions) {
		w("- %s: %s\n", k, r.versions[k])
	}
	if notes := r.notesAll(); len(notes) > 0 {
		w("\n## Notes\n\n")
		for _, n := range notes {
			w("- %s\n", n)
		}
	}
	return b.String()
}

func (r *report) resultsTable(b *strings.Builder, engines []string) {
	head := "| case |"
	for _, e := range engines {
		head += " " + e + " |"
	}
	for _, e := range engines[1:] {
		head += " skiff/" + e + " |"
	}
	head += " reference | notes |\n"
	b.WriteString(head + strings.Repeat("| --- ", strings.Count(head, "|")-1) + "|\n")
	for _, x := range r.rows {
		ref := ""
		for _, k := range refNames {
			if s := x.Results[k]; s != nil {
				ref = k + " " + cell(s, x.Unit)
			}
		}
		note := x.Note
		if x.HigherBetter {
			note = strings.TrimSpace("higher is better. " + note)
		}
		line := "| " + x.Case + " |"
		for _, e := range engines {
			line += " " + cell(x.Results[e], x.Unit) + " |"
		}
		for _, e := range engines[1:] {
			line += " " + ratio(r.med(x.ID, "skiff"), r.med(x.ID, e)) + " |"
		}
		fmt.Fprintf(b, "%s %s | %s |\n", line, ref, note)
	}
}

func (r *report) casesTable(b *strings.Builder) {
	b.WriteString("| case | measured | runs | load at start | CPU stolen by the host | skiff | engines |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, c := range r.cases {
		runs := fmt.Sprint(c.Runs)
		if c.Quick {
			runs += " (--quick)"
		}
		engines := "skiff, podman"
		if c.Docker {
			engines += ", docker"
		}
		steal := c.Steal
		if steal == "" {
			steal = "not recorded"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", c.Title, c.Measured.Format("2006-01-02 15:04 UTC"), runs, c.Load, steal, c.Skiff, engines)
	}
}

// mixed says whether some cases come from an earlier run than the last.
func (r *report) mixed() bool {
	for _, c := range r.cases {
		if c.Measured.Before(r.date) {
			return true
		}
	}
	return false
}

// runsText is the number of measured runs per case, or their range when
// merged cases differ.
func (r *report) runsText() string {
	lo, hi := r.cfg.runs, r.cfg.runs
	for i, c := range r.cases {
		if i == 0 || c.Runs < lo {
			lo = c.Runs
		}
		if i == 0 || c.Runs > hi {
			hi = c.Runs
		}
	}
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d–%d (per case: When measured)", lo, hi)
}

// noteLoad keeps the highest 1-minute load average seen at a case start.
func (r *report) noteLoad(load string) {
	var now, high float64
	fmt.Sscan(load, &now)
	fmt.Sscan(r.machine["load_max"], &high)
	if now > high {
		r.machine["load_max"] = fmt.Sprintf("%.2f", now)
	}
}

// busyNote warns when the machine was loaded beyond its cores.
func (r *report) busyNote() string {
	var start, end, high float64
	var cores int
	fmt.Sscan(r.machine["load_start"], &start)
	fmt.Sscan(r.machine["load_end"], &end)
	fmt.Sscan(r.machine["load_max"], &high)
	fmt.Sscan(r.machine["cores"], &cores)
	if cores == 0 {
		return ""
	}
	if start <= float64(cores)/2 {
		// The engines' own work (1000 creates, podman's and dockerd's
		// background processes) raises the load during the run; only the
		// load before the first case tells of other work on the machine.
		return fmt.Sprintf("Load average %.1f at the start (an idle machine), up to %.1f at a case's start from the engines' own work, %.1f at the end, on %d cores.",
			start, max(start, high), end, cores)
	}
	return fmt.Sprintf("**Measured on a busy machine** (1-minute load average %.1f at the start, up to %.1f at a case's start, %.1f at the end, on %d cores: "+
		"something else ran meanwhile). Absolute times are inflated for every engine alike; the ratios are the steadier figure.", start, max(start, high), end, cores)
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// reportJSON is benchmarks.json. Date, runs, quick, seconds and machine
// describe the last run; cases say when each case's rows were measured.
type reportJSON struct {
	Date     time.Time         `json:"date"`
	Runs     int               `json:"runs"`
	Quick    bool              `json:"quick"`
	Only     string            `json:"only,omitempty"`
	Seconds  float64           `json:"seconds"`
	Machine  map[string]string `json:"machine"`
	Versions map[string]string `json:"versions"`
	Targets  []target          `json:"targets"`
	Cases    []caseRecord      `json:"cases"`
	Rows     []row             `json:"rows"`
	Notes    []string          `json:"notes,omitempty"` // every case's notes, for reading only
}

// readReport loads a benchmarks.json, so --render can redo the markdown
// without measuring again and --only can merge into it. A report written
// before cases were recorded gets one record per case, dated the report's.
func readReport(path string) (*report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var js reportJSON
	if err := json.Unmarshal(data, &js); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := &report{cfg: config{runs: js.Runs, quick: js.Quick, only: js.Only}, date: js.Date, machine: js.Machine, versions: js.Versions,
		cases: js.Cases, rows: js.Rows, duration: time.Duration(js.Seconds * float64(time.Second))}
	if r.machine == nil {
		r.machine = map[string]string{}
	}
	if r.versions == nil {
		r.versions = map[string]string{}
	}
	if len(r.cases) == 0 {
		r.legacyCases(js.Notes)
	}
	return r, nil
}

func (r *report) legacyCases(notes []string) {
	seen := map[string]bool{}
	for i := range r.rows {
		x := &r.rows[i]
		if x.Group == "" {
			x.Group = groupOf(x.ID)
		}
		if !seen[x.Group] {
			seen[x.Group] = true
			r.cases = append(r.cases, caseRecord{ID: x.Group, Title: caseTitles[x.Group], Measured: r.date, Runs: r.cfg.runs, Quick: r.cfg.quick,
				Load: "?", Skiff: r.versions["skiff"], Docker: x.Results["docker"] != nil, Notes: notes})
		}
	}
}

func (r *report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js := reportJSON{r.date, r.cfg.runs, r.cfg.quick, r.cfg.only, r.duration.Seconds(), r.machine, r.versions, r.targets(), r.cases, r.rows, r.notesAll()}
	data, err := json.MarshalIndent(js, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "benchmarks.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "benchmarks.md"), []byte(r.markdown()), 0o644)
}
