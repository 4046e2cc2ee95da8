package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"
)

type worker struct {
	user    int
	team    int64
	access  string
	refresh string
	apiKey  string
	n       int
	rng     *rand.Rand // the mixed scenario's choices (mixed.go)
}

func doJSON(ctx context.Context, c *http.Client, method, url, bearer string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
	} else if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d", method, url, resp.StatusCode)
	}
	return resp.StatusCode, nil
}

type tokenEnvelope struct {
	Data struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	} `json:"data"`
}

func prepareWorkers(ctx context.Context, c *http.Client, base string, o options, teams []int64, scen []string) ([]*worker, error) {
	ws := make([]*worker, o.concurrency)
	needKey := slices.Contains(scen, "apikey-me")
	fmt.Fprintf(os.Stderr, "logging in %d bench users (bcrypt cost %d) …\n", len(ws), o.bcryptCost)
	var wg sync.WaitGroup
	errs := make([]error, len(ws))
	sem := make(chan struct{}, 2*runtime.NumCPU())
	for i := range ws {
		ws[i] = &worker{user: i, team: teams[i]}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			w := ws[i]
			var tok tokenEnvelope
			if _, err := doJSON(ctx, c, http.MethodPost, base+"/api/v1/auth/login", "",
				map[string]string{"email": userEmail(w.user), "password": benchPassword}, &tok); err != nil {
				errs[i] = fmt.Errorf("login %s: %w", userEmail(w.user), err)
				return
			}
			w.access, w.refresh = tok.Data.AccessToken, tok.Data.RefreshToken
			if needKey {
				var key struct {
					Data struct {
						Secret string `json:"secret"`
					} `json:"data"`
				}
				if _, err := doJSON(ctx, c, http.MethodPost, base+"/api/v1/api-keys", w.access,
					map[string]any{"name": "bench", "scopes": []string{"read"}}, &key); err != nil {
					errs[i] = fmt.Errorf("create API key: %w", err)
					return
				}
				w.apiKey = key.Data.Secret
			}
		})
	}
	wg.Wait()
	return ws, errors.Join(errs...)
}

// request performs one request of scenario s for w and reports whether it succeeded.
func request(ctx context.Context, c *http.Client, base, s string, w *worker) error {
	switch s {
	case "floor":
		_, err := doJSON(ctx, c, http.MethodGet, base+"/api/v1/health", "", nil, nil)
		return err
	case "me":
		_, err := doJSON(ctx, c, http.MethodGet, base+"/api/v1/me", w.access, nil, nil)
		return err
	case "apikey-me":
		_, err := doJSON(ctx, c, http.MethodGet, base+"/api/v1/me", w.apiKey, nil, nil)
		return err
	case "teams":
		_, err := doJSON(ctx, c, http.MethodGet, base+"/api/v1/teams", w.access, nil, nil)
		return err
	case "projects-write":
		w.n++
		_, err := doJSON(ctx, c, http.MethodPost, fmt.Sprintf("%s/api/v1/teams/%d/projects", base, w.team), w.access,
			map[string]string{"name": fmt.Sprintf("bench %d-%d-%d", w.user, time.Now().UnixNano(), w.n)}, nil)
		return err
	case "refresh":
		var tok tokenEnvelope
		_, err := doJSON(ctx, c, http.MethodPost, base+"/api/v1/auth/refresh", "",
			map[string]string{"refresh_token": w.refresh}, &tok)
		if err == nil && tok.Data.RefreshToken != "" {
			w.refresh = tok.Data.RefreshToken
			w.access = tok.Data.AccessToken
		}
		return err
	case "login":
		_, err := doJSON(ctx, c, http.MethodPost, base+"/api/v1/auth/login", "",
			map[string]string{"email": userEmail(w.user), "password": benchPassword}, nil)
		return err
	}
	return fmt.Errorf("unknown scenario %q", s)
}

func runScenario(ctx context.Context, c *http.Client, base, s string, o options, ws []*worker, pid int) []Result {
	// A short warm-up opens the connections.
	warm, cancelWarm := context.WithTimeout(ctx, 300*time.Millisecond)
	if s == "floor" || s == "me" || s == "apikey-me" || s == "teams" {
		var wg sync.WaitGroup
		for _, w := range ws {
			wg.Go(func() {
				for warm.Err() == nil {
					_ = request(ctx, c, base, s, w)
				}
			})
		}
		wg.Wait()
	}
	cancelWarm()

	resetPeakRSS(pid)
	ticks0 := cpuTicks(pid)
	lat := make([][]time.Duration, len(ws))
	kinds := make([][]string, len(ws)) // mixed: the kind of each request in lat
	errKinds := make([]map[string]int, len(ws))
	errCount := make([]int, len(ws))
	firstErr := make([]error, len(ws))
	start := time.Now()
	deadline := start.Add(o.duration)
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Go(func() {
			l := make([]time.Duration, 0, 4096)
			errKinds[i] = map[string]int{}
			for {
				t := time.Now()
				if !t.Before(deadline) {
					break
				}
				kind := s
				if s == "mixed" {
					kind = o.mix.pick(w)
					kinds[i] = append(kinds[i], kind)
				}
				err := request(ctx, c, base, kind, w)
				l = append(l, time.Since(t))
				if err != nil {
					errKinds[i][kind]++
					errCount[i]++
					if firstErr[i] == nil {
						firstErr[i] = err
					}
				}
			}
			lat[i] = l
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	ticks := cpuTicks(pid) - ticks0

	var all []time.Duration
	r := Result{Scenario: s, Concurrency: len(ws)}
	byKind, errByKind := map[string][]time.Duration{}, map[string]int{}
	for i := range ws {
		for j, k := range kinds[i] {
			byKind[k] = append(byKind[k], lat[i][j])
		}
		for k, n := range errKinds[i] {
			errByKind[k] += n
		}
		all = append(all, lat[i]...)
		r.Errors += errCount[i]
		if r.FirstError == "" && firstErr[i] != nil {
			r.FirstError = firstErr[i].Error()
		}
	}
	slices.Sort(all)
	r.Requests = len(all)
	r.RPS = float64(len(all)) / elapsed.Seconds()
	r.P50ms, r.P90ms, r.P99ms, r.P999ms = pct(all, 0.50), pct(all, 0.90), pct(all, 0.99), pct(all, 0.999)
	r.ServerCPU = float64(ticks) / clkTck / elapsed.Seconds() * 100
	if r.RPS > 0 {
		r.CPUPerReq = r.ServerCPU / 100 / r.RPS * 1e6
	}
	r.PeakRSSMB = float64(procStatusKB(pid, "VmHWM")) / 1024
	if s == "mixed" {
		r.Scenario = "mixed (" + o.mix.String() + ")"
		return append([]Result{r}, partResults(byKind, errByKind, elapsed, len(ws))...)
	}
	return []Result{r}
}

func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(int(p*float64(len(sorted))), len(sorted)-1)
	return float64(sorted[i].Microseconds()) / 1000
}
