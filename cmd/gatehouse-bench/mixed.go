package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// defaultMix is the mixed scenario's request mix (issue 18): roughly a deployment's day.
const defaultMix = "me=80,refresh=10,teams=5,projects-write=4,login=1"

// mix is a weighted choice of request kinds for the mixed scenario.
type mix struct {
	kinds   []string
	weights []int // cumulative
}

// parseMix reads "kind=weight,…" with kinds among the HTTP scenarios.
func parseMix(s string) (mix, error) {
	var m mix
	total := 0
	for part := range strings.SplitSeq(s, ",") {
		kind, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 {
			return mix{}, fmt.Errorf("-mix: %q is not kind=weight", part)
		}
		if !slices.Contains(allScenarios, kind) || kind == "bcrypt-limit" || kind == "mixed" || kind == "apikey-me" {
			return mix{}, fmt.Errorf("-mix: %q is not a request the mix can make (floor, me, teams, projects-write, refresh, login)", kind)
		}
		if n == 0 {
			continue
		}
		total += n
		m.kinds, m.weights = append(m.kinds, kind), append(m.weights, total)
	}
	if total == 0 {
		return mix{}, fmt.Errorf("-mix %q: no weights", s)
	}
	return m, nil
}

// pick chooses the next request kind of a worker from its own random stream (seeded by the
// worker's number, so that runs make the same sequence of requests).
func (m mix) pick(w *worker) string {
	if w.rng == nil {
		w.rng = rand.New(rand.NewPCG(uint64(w.user), 18)) // #nosec G404 G115 -- a load mix, not a secret; user numbers are small and non-negative
	}
	n := w.rng.IntN(m.weights[len(m.weights)-1])
	i, _ := slices.BinarySearch(m.weights, n+1)
	return m.kinds[i]
}

// String renders the mix as given to -mix.
func (m mix) String() string {
	parts := make([]string, len(m.kinds))
	prev := 0
	for i, k := range m.kinds {
		parts[i] = fmt.Sprintf("%s=%d", k, m.weights[i]-prev)
		prev = m.weights[i]
	}
	return strings.Join(parts, ",")
}

// partResults turns the mixed scenario's latencies by kind into rows "mixed: KIND" (requests,
// rate, percentiles and errors of that kind within the mix; the server's CPU and memory are
// the mixed row's).
func partResults(byKind map[string][]time.Duration, errs map[string]int, elapsed time.Duration, concurrency int) []Result {
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	var out []Result
	for _, k := range kinds {
		l := byKind[k]
		slices.Sort(l)
		out = append(out, Result{Scenario: "mixed: " + k, Part: true, Concurrency: concurrency, Requests: len(l),
			RPS: float64(len(l)) / elapsed.Seconds(), Errors: errs[k],
			P50ms: pct(l, 0.50), P90ms: pct(l, 0.90), P99ms: pct(l, 0.99), P999ms: pct(l, 0.999),
			ServerCPU: -1, CPUPerReq: -1, PeakRSSMB: -1})
	}
	return out
}
