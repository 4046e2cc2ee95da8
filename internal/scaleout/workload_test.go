package scaleout_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// worker is one user of the mixed workload.
type worker struct {
	n      int
	email  string
	userID int64
	tk     tokens
	apiKey string
	teams  []int64
}

type membership struct{ team, user int64 }

// workload runs workers through HAProxy and records every answer and every acknowledged write.
type workload struct {
	c       *cluster
	workers []*worker
	mu      sync.Mutex
	results []result
	teams   []int64      // acknowledged team creations
	members []membership // acknowledged member additions
}

const workerPassword = "worker-password-123"

func newWorkload(t *testing.T, c *cluster, n int) *workload {
	t.Helper()
	w := &workload{c: c}
	for i := range n {
		wk := &worker{n: i, email: fmt.Sprintf("worker%d@example.com", i)}
		var u struct {
			ID int64 `json:"id"`
		}
		must(t, c.proxy.do(http.MethodPost, "/api/v1/users", c.admin, map[string]any{
			"email": wk.email, "password": workerPassword, "roles": []string{"maintainer"}, "confirmed": true,
		}), http.StatusCreated, &u)
		wk.userID = u.ID
		must(t, c.proxy.do(http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": wk.email, "password": workerPassword}), http.StatusOK, &wk.tk)
		var key struct {
			Secret string `json:"secret"`
		}
		must(t, c.proxy.do(http.MethodPost, "/api/v1/api-keys", wk.tk.AccessToken, map[string]any{"name": "load", "scopes": []string{"read", "write"}}), http.StatusCreated, &key)
		wk.apiKey = key.Secret
		w.workers = append(w.workers, wk)
	}
	return w
}

// run runs the workload for d while faults runs alongside.
func (w *workload) run(t *testing.T, d time.Duration, faults func()) {
	t.Helper()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, wk := range w.workers {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				w.step(wk, i)
				// A bounded load (at most ~50 operations per second per worker) that leaves the
				// two cores of a CI machine room for the instances' health checks.
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	start := time.Now()
	faults()
	if rest := d - time.Since(start); rest > 0 {
		time.Sleep(rest)
	}
	stop.Store(true)
	wg.Wait()
	counts := map[int]int{}
	for _, r := range w.results {
		counts[r.status]++
	}
	t.Logf("workload: %d requests in %s (%v by status; 0 = no answer); %d teams and %d memberships acknowledged",
		len(w.results), time.Since(start).Round(time.Millisecond), counts, len(w.teams), len(w.members))
}

func (w *workload) record(r result) result {
	w.mu.Lock()
	w.results = append(w.results, r)
	w.mu.Unlock()
	return r
}

// step is one operation of worker wk: GET /me, create a team, add a member, use the API key,
// refresh, log in again.
func (w *workload) step(wk *worker, i int) {
	p := w.c.proxy
	switch i % 6 {
	case 0:
		r := w.record(p.do(http.MethodGet, "/api/v1/me", wk.tk.AccessToken, nil))
		if r.status == http.StatusUnauthorized {
			w.login(wk)
		}
	case 1:
		r := w.record(p.do(http.MethodPost, "/api/v1/teams", wk.tk.AccessToken, map[string]any{"name": fmt.Sprintf("w%d-%d", wk.n, i)}))
		if r.status == http.StatusCreated {
			var team struct {
				ID int64 `json:"id"`
			}
			if decode(r, &team) {
				wk.teams = append(wk.teams, team.ID)
				w.mu.Lock()
				w.teams = append(w.teams, team.ID)
				w.mu.Unlock()
			}
		}
	case 2:
		if len(wk.teams) == 0 {
			return
		}
		other := w.workers[(wk.n+1)%len(w.workers)].userID
		team := wk.teams[len(wk.teams)-1]
		r := w.record(p.do(http.MethodPut, fmt.Sprintf("/api/v1/teams/%d/members/%d", team, other), wk.tk.AccessToken, map[string]any{"role": "member"}))
		if r.status == http.StatusCreated || r.status == http.StatusOK {
			w.mu.Lock()
			w.members = append(w.members, membership{team, other})
			w.mu.Unlock()
		}
	case 3:
		w.record(p.do(http.MethodGet, "/api/v1/teams?limit=5", wk.apiKey, nil))
	case 4:
		r := w.record(p.do(http.MethodPost, "/api/v1/auth/refresh", "", map[string]any{"refresh_token": wk.tk.RefreshToken}))
		var tk tokens
		if r.status == http.StatusOK && decode(r, &tk) {
			wk.tk = tk
		} else {
			w.login(wk) // the rotation may or may not have happened: start a new session
		}
	case 5:
		if i%18 == 5 {
			w.login(wk)
		}
	}
}

func (w *workload) login(wk *worker) {
	r := w.record(w.c.proxy.do(http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": wk.email, "password": workerPassword}))
	var tk tokens
	if r.status == http.StatusOK && decode(r, &tk) {
		wk.tk = tk
	}
}

func decode(r result, v any) bool {
	return r.envelope && jsonUnmarshal(r.data, v) == nil
}

// checkStatuses: every answer is a success or a client error the workload expects, except the
// requests in flight on the killed instance (502 from HAProxy, or a closed connection) and, on
// Galera, 503s with Retry-After from the node kill until the node has rejoined. Both are
// reported and counted.
func (w *workload) checkStatuses(t *testing.T, f *faultLog, servedBy map[string]string) {
	t.Helper()
	var inFlight, nodeFault, other int
	for _, r := range w.results {
		switch {
		case r.err == nil && r.status < 500:
			continue
		case (r.err != nil || (!r.envelope && r.status >= 502 && r.status <= 504)) &&
			r.end.After(f.instanceKill) && strings.HasPrefix(servedBy[r.id], f.victim+" "):
			// HAProxy's log says it sent the request to the killed instance (just before the
			// kill, or on a kept-alive connection before it noticed): HAProxy answers 502, or
			// closes the client's connection as the instance did, for the client to decide.
			inFlight++
		case r.err != nil && servedBy[r.id] == "" && r.end.After(f.instanceKill) &&
			r.start.Before(f.instanceKill.Add(2*time.Second)):
			// A connection HAProxy closed without logging the request: it does so when a
			// kept-alive connection to the instance turns out dead, as the instance itself
			// would have; only around the kill.
			inFlight++
		case r.err == nil && r.status == http.StatusServiceUnavailable && r.retryAfter != "" &&
			!f.nodeKill.IsZero() && r.end.After(f.nodeKill) && r.start.Before(f.nodeBack.Add(5*time.Second)):
			// 503 unavailable with Retry-After, from Gatehouse (a COMMIT in flight on the dead
			// node, or the cluster stalled past the retries) or from HAProxy (every instance's
			// readiness check failed while the cluster stalled).
			nodeFault++
		default:
			other++
			if other <= 10 {
				t.Errorf("%s at %s (instance killed at %s): %d %v envelope=%v served by %q %s", r.what,
					r.start.Format("15:04:05.000"), f.instanceKill.Format("15:04:05.000"), r.status, r.err, r.envelope, servedBy[r.id], r.raw)
			}
		}
	}
	t.Logf("HAProxy logged %d requests of the workload", len(servedBy))
	t.Logf("5xx: %d in flight on the killed instance (HAProxy 502 or connection closed), %d 503 with Retry-After during the Galera node kill, %d others",
		inFlight, nodeFault, other)
	if other > 0 {
		t.Errorf("%d requests failed outside the allowed cases", other)
	}
}

// checkWrites: every acknowledged team and membership is in the database.
func (w *workload) checkWrites(t *testing.T) {
	t.Helper()
	s := openStore(t, w.c.db)
	ctx := context.Background()
	have := map[int64]bool{}
	rows, err := s.DB().QueryContext(ctx, "SELECT id FROM teams")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		have[id] = true
	}
	_ = rows.Close()
	haveM := map[membership]bool{}
	rows, err = s.DB().QueryContext(ctx, "SELECT team_id, user_id FROM team_members")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m membership
		if err := rows.Scan(&m.team, &m.user); err != nil {
			t.Fatal(err)
		}
		haveM[m] = true
	}
	_ = rows.Close()
	missing := 0
	for _, id := range w.teams {
		if !have[id] {
			missing++
		}
	}
	missingM := 0
	for _, m := range w.members {
		if !haveM[m] {
			missingM++
		}
	}
	if missing > 0 || missingM > 0 {
		t.Errorf("acknowledged writes missing: %d of %d teams, %d of %d memberships", missing, len(w.teams), missingM, len(w.members))
	}
	if len(w.teams) == 0 || len(w.members) == 0 {
		t.Errorf("the workload made no writes (%d teams, %d memberships)", len(w.teams), len(w.members))
	}
}
