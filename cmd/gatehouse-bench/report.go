package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Result is one scenario's measurements.
type Result struct {
	Scenario  string  `json:"scenario"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	RPS       float64 `json:"rps"`
	P50ms     float64 `json:"p50_ms"`
	P90ms     float64 `json:"p90_ms"`
	P99ms     float64 `json:"p99_ms"`
	P999ms    float64 `json:"p999_ms"`
	ServerCPU float64 `json:"server_cpu_percent"` // of one core
	// CPUPerReq is the server's CPU time per request in microseconds (ServerCPU / RPS): the
	// figure least disturbed by other load on the machine, and so the one to compare across
	// runs on a busy machine.
	CPUPerReq  float64 `json:"server_cpu_us_per_request"`
	PeakRSSMB  float64 `json:"server_peak_rss_mb"`
	FirstError string  `json:"first_error,omitempty"`
	// Part marks a row of one request kind within the mixed scenario (counted in its row).
	Part        bool `json:"part,omitempty"`
	Concurrency int  `json:"concurrency"`
}

// Target is one ratio target checked against the run.
type Target struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Want  string  `json:"want"`
	Met   bool    `json:"met"`
}

// Report is the JSON written by -json.
type Report struct {
	Time          string    `json:"time"`
	Engine        string    `json:"engine"`
	Database      string    `json:"database"`
	Duration      string    `json:"duration"`
	Concurrency   int       `json:"concurrency"`
	BcryptCost    int       `json:"bcrypt_cost"`
	SeedUsers     int       `json:"seed_users"`
	SeedTeams     int       `json:"seed_teams"`
	SeedSeconds   float64   `json:"seed_seconds"`
	StartupMs     float64   `json:"start_to_first_request_ms"`
	StartupRunsMs []float64 `json:"start_to_first_request_runs_ms"`
	StartupRSS    float64   `json:"rss_at_first_request_mb"`
	StartupRSSMB  []float64 `json:"rss_at_first_request_runs_mb"`
	NumCPU        int       `json:"num_cpu"`
	Machine       string    `json:"machine"`
	Commit        string    `json:"commit"`
	LoadAvgStart  string    `json:"loadavg_start"`
	LoadAvgEnd    string    `json:"loadavg_end"`
	BenchCPUs     string    `json:"bench_cpus"`
	ServerCPUs    string    `json:"server_cpus"`
	Pinned        bool      `json:"pinned"`
	PinningNote   string    `json:"pinning_note"`
	GoVersion     string    `json:"go_version"`
	Note          string    `json:"note,omitempty"`
	WrkNote       string    `json:"wrk_note,omitempty"`
	Results       []Result  `json:"results"`
	Targets       []Target  `json:"targets"`
	ServerPeakRSS float64   `json:"server_peak_rss_mb_overall"`
}

// targets checks the targets, all measured in this run (ratios, so that they carry over
// between machines). Only the built-in generator's rows count; wrk rows are for comparison.
func targets(rep *Report) []Target {
	by := map[string]Result{}
	for _, r := range rep.Results {
		by[r.Scenario] = r
	}
	var ts []Target
	ratio := func(name, num, den string, want float64) {
		a, okA := by[num]
		b, okB := by[den]
		if !okA || !okB || b.RPS == 0 {
			return
		}
		v := a.RPS / b.RPS
		ts = append(ts, Target{Name: name, Value: v, Want: fmt.Sprintf("≥ %.2f", want), Met: v >= want})
	}
	sqlite := rep.Engine == "sqlite"
	if sqlite {
		ratio("me / floor (req/s)", "me", "floor", 0.50)
		ratio("teams / floor (req/s)", "teams", "floor", 0.35)
	} else {
		ratio("me / floor (req/s)", "me", "floor", 0.35)
	}
	ratio("login / bcrypt-limit (req/s)", "login", "bcrypt-limit", 0.95)
	if me, ok := by["me"]; ok && me.P50ms > 0 {
		v := me.P99ms / me.P50ms
		ts = append(ts, Target{Name: fmt.Sprintf("me p99 / p50 (c=%d)", me.Concurrency), Value: v, Want: "≤ 10", Met: v <= 10})
	}
	errs := 0
	for _, r := range rep.Results {
		if !r.Part {
			errs += r.Errors
		}
	}
	ts = append(ts, Target{Name: "errors (all scenarios)", Value: float64(errs), Want: "= 0", Met: errs == 0})
	if sqlite {
		ts = append(ts, Target{Name: fmt.Sprintf("server peak RSS, MB (sqlite, c=%d)", rep.Concurrency),
			Value: rep.ServerPeakRSS, Want: "≤ 40", Met: rep.ServerPeakRSS > 0 && rep.ServerPeakRSS <= 40})
		ts = append(ts, Target{Name: "start-to-first-request, ms (migrated DB)", Value: rep.StartupMs, Want: "≤ 100", Met: rep.StartupMs <= 100})
	}
	return ts
}

func printMarkdown(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "Engine %s (%s), %d workers, %s per scenario, bcrypt cost %d, %d users / %d teams seeded in %.1f s; "+
		"bench on cpus %s, server on cpus %s (%s)\n\n",
		rep.Engine, rep.Database, rep.Concurrency, rep.Duration, rep.BcryptCost, rep.SeedUsers, rep.SeedTeams, rep.SeedSeconds,
		rep.BenchCPUs, rep.ServerCPUs, rep.PinningNote)
	fmt.Fprintf(w, "Machine: %s; commit %s; %s; load average %s at the start, %s at the end\n\n",
		rep.Machine, rep.Commit, rep.GoVersion, rep.LoadAvgStart, rep.LoadAvgEnd)
	fmt.Fprintln(w, "| scenario | requests | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors | server CPU % | CPU µs/req | peak RSS MB |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rep.Results {
		cpu, per, rss := fmt.Sprintf("%.0f", r.ServerCPU), fmt.Sprintf("%.0f", r.CPUPerReq), fmt.Sprintf("%.1f", r.PeakRSSMB)
		if r.ServerCPU < 0 {
			cpu, per, rss = "n/a", "n/a", "n/a"
		}
		fmt.Fprintf(w, "| %s | %d | %.1f | %.2f | %.2f | %.2f | %.2f | %d | %s | %s | %s |\n",
			r.Scenario, r.Requests, r.RPS, r.P50ms, r.P90ms, r.P99ms, r.P999ms, r.Errors, cpu, per, rss)
	}
	fmt.Fprintln(w)
	for _, r := range rep.Results {
		if r.FirstError != "" {
			fmt.Fprintf(w, "First error in %s: %s\n\n", r.Scenario, r.FirstError)
		}
	}
	if rep.WrkNote != "" {
		fmt.Fprintf(w, "wrk: %s\n\n", rep.WrkNote)
	}
	fmt.Fprintf(w, "Start-to-first-request (migrated database): median %.1f ms of %d starts %v; RSS at the first answer %.1f MB; peak RSS over the run %.1f MB\n\n",
		rep.StartupMs, len(rep.StartupRunsMs), rep.StartupRunsMs, rep.StartupRSS, rep.ServerPeakRSS)
	fmt.Fprintln(w, "| target | measured | wanted | met |")
	fmt.Fprintln(w, "|---|---:|---|:---:|")
	for _, t := range rep.Targets {
		fmt.Fprintf(w, "| %s | %.2f | %s | %s |\n", t.Name, t.Value, t.Want, mark(t.Met))
	}
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

// compareReports prints, per scenario, the old and new figures of two JSON reports and the
// change, then the targets side by side. Compare runs of the same engine and settings; on a
// busy machine trust CPU µs/req and the ratios more than raw req/s.
func compareReports(w io.Writer, oldPath, newPath string) error {
	read := func(p string) (*Report, error) {
		b, err := os.ReadFile(p) // #nosec G304 -- the operator names the reports
		if err != nil {
			return nil, err
		}
		var r Report
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for i, x := range r.Results { // reports from before the CPU-per-request column
			if x.CPUPerReq == 0 && x.RPS > 0 && x.ServerCPU > 0 {
				r.Results[i].CPUPerReq = x.ServerCPU / 100 / x.RPS * 1e6
			}
		}
		return &r, nil
	}
	a, err := read(oldPath)
	if err != nil {
		return err
	}
	b, err := read(newPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Old: %s, engine %s, commit %s, %s, c=%d, load %s → %s\n\n", oldPath, a.Engine, a.Commit, a.Duration, a.Concurrency, a.LoadAvgStart, a.LoadAvgEnd)
	fmt.Fprintf(w, "New: %s, engine %s, commit %s, %s, c=%d, load %s → %s\n\n", newPath, b.Engine, b.Commit, b.Duration, b.Concurrency, b.LoadAvgStart, b.LoadAvgEnd)
	if a.Engine != b.Engine || a.Concurrency != b.Concurrency || a.BcryptCost != b.BcryptCost {
		fmt.Fprintln(w, "Warning: the runs differ in engine, concurrency or bcrypt cost.")
		fmt.Fprintln(w)
	}
	olds := map[string]Result{}
	for _, r := range a.Results {
		olds[r.Scenario] = r
	}
	fmt.Fprintln(w, "| scenario | req/s old | req/s new | Δ | p50 ms old → new | p99 ms old → new | CPU µs/req old → new | Δ CPU | errors old → new |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|---|---:|---|")
	for _, n := range b.Results {
		o, ok := olds[n.Scenario]
		if !ok {
			fmt.Fprintf(w, "| %s | – | %.1f | – | – → %.2f | – → %.2f | – → %.0f | – | – → %d |\n", n.Scenario, n.RPS, n.P50ms, n.P99ms, n.CPUPerReq, n.Errors)
			continue
		}
		fmt.Fprintf(w, "| %s | %.1f | %.1f | %s | %.2f → %.2f | %.2f → %.2f | %.0f → %.0f | %s | %d → %d |\n",
			n.Scenario, o.RPS, n.RPS, delta(o.RPS, n.RPS), o.P50ms, n.P50ms, o.P99ms, n.P99ms, o.CPUPerReq, n.CPUPerReq,
			delta(o.CPUPerReq, n.CPUPerReq), o.Errors, n.Errors)
	}
	fmt.Fprintln(w)
	oldT := map[string]Target{}
	for _, t := range a.Targets {
		oldT[t.Name] = t
	}
	fmt.Fprintln(w, "| target | old | new | wanted |")
	fmt.Fprintln(w, "|---|---:|---:|---|")
	for _, t := range b.Targets {
		old := "–"
		if o, ok := oldT[t.Name]; ok {
			old = fmt.Sprintf("%.2f %s", o.Value, mark(o.Met))
		}
		fmt.Fprintf(w, "| %s | %s | %.2f %s | %s |\n", t.Name, old, t.Value, mark(t.Met), t.Want)
	}
	return nil
}

// delta is the relative change from a to b, as "+12.3 %".
func delta(a, b float64) string {
	if a == 0 {
		return "–"
	}
	s := fmt.Sprintf("%+.1f %%", (b-a)/a*100)
	return strings.Replace(s, "+0.0 %", "±0.0 %", 1)
}
