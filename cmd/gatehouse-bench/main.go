// Command gatehouse-bench measures Gatehouse on loopback: it seeds a SQLite database, starts the
// gatehouse binary in a child process (pinned to other cores than itself when the machine has
// them), drives each scenario with a built-in keep-alive load generator for a fixed duration and
// concurrency, and prints a markdown table (and writes JSON) with requests/s, latency
// percentiles, errors, server CPU and peak RSS. Run it through scripts/bench; see
// docs/performance.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gatehouse"
	"gatehouse/internal/app"
	"gatehouse/internal/auth"
	"gatehouse/internal/config"
	"gatehouse/internal/store"
)

const (
	benchSalt     = "gatehouse-bench-salt-not-a-secret"
	benchPassword = "bench-Password-1234!"
	clkTck        = 100 // USER_HZ on Linux
)

var allScenarios = []string{"floor", "me", "apikey-me", "teams", "projects-write", "refresh", "login", "bcrypt-limit"}

type options struct {
	server      string
	engine      string
	duration    time.Duration
	concurrency int
	scenarios   string
	seedUsers   int
	seedTeams   int
	seedMembers int
	seedProj    int
	bcryptCost  int
	jsonOut     string
	workDir     string
	serverCPUs  string
}

// Result is one scenario's measurements.
type Result struct {
	Scenario    string  `json:"scenario"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	RPS         float64 `json:"rps"`
	P50ms       float64 `json:"p50_ms"`
	P90ms       float64 `json:"p90_ms"`
	P99ms       float64 `json:"p99_ms"`
	P999ms      float64 `json:"p999_ms"`
	ServerCPU   float64 `json:"server_cpu_percent"` // of one core
	PeakRSSMB   float64 `json:"server_peak_rss_mb"`
	FirstError  string  `json:"first_error,omitempty"`
	Concurrency int     `json:"concurrency"`
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
	Time          string   `json:"time"`
	Engine        string   `json:"engine"`
	Duration      string   `json:"duration"`
	Concurrency   int      `json:"concurrency"`
	BcryptCost    int      `json:"bcrypt_cost"`
	SeedUsers     int      `json:"seed_users"`
	SeedTeams     int      `json:"seed_teams"`
	SeedSeconds   float64  `json:"seed_seconds"`
	StartupMs     float64  `json:"start_to_first_request_ms"`
	NumCPU        int      `json:"num_cpu"`
	BenchCPUs     string   `json:"bench_cpus"`
	ServerCPUs    string   `json:"server_cpus"`
	Pinned        bool     `json:"pinned"`
	PinningNote   string   `json:"pinning_note"`
	GoVersion     string   `json:"go_version"`
	Results       []Result `json:"results"`
	Targets       []Target `json:"targets"`
	ServerPeakRSS float64  `json:"server_peak_rss_mb_overall"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bcrypt-limit" {
		os.Exit(bcryptChild(os.Args[2:]))
	}
	var o options
	flag.StringVar(&o.server, "server", "", "path of the gatehouse binary (built by scripts/bench)")
	flag.StringVar(&o.engine, "engine", "sqlite", "database engine (only sqlite in this version)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "duration of each scenario")
	flag.IntVar(&o.concurrency, "concurrency", 64, "concurrent workers (connections)")
	flag.StringVar(&o.scenarios, "scenarios", strings.Join(allScenarios, ","), "comma-separated scenarios")
	flag.IntVar(&o.seedUsers, "seed-users", 10000, "users to seed")
	flag.IntVar(&o.seedTeams, "seed-teams", 1000, "teams to seed")
	flag.IntVar(&o.seedMembers, "seed-memberships", 2, "extra team memberships per user")
	flag.IntVar(&o.seedProj, "seed-projects", 5, "projects per team")
	flag.IntVar(&o.bcryptCost, "bcrypt-cost", 12, "SECURITY_BCRYPT_COST of the server (and of the seeded hashes)")
	flag.StringVar(&o.jsonOut, "json", "", "write the results as JSON to this file")
	flag.StringVar(&o.workDir, "dir", "", "working directory for the database (default: a temporary one)")
	flag.StringVar(&o.serverCPUs, "server-cpus", "", "cores for the server (taskset -c list); default: all but the bench's when possible")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.engine != config.DBSQLite {
		return fmt.Errorf("engine %q: only sqlite is implemented in this version", o.engine)
	}
	if o.server == "" {
		return errors.New("-server is required")
	}
	if o.concurrency < 1 || o.seedUsers < o.concurrency || o.seedTeams < o.concurrency {
		return errors.New("-seed-users and -seed-teams must be at least -concurrency (each worker owns a team)")
	}
	scen := strings.Split(o.scenarios, ",")
	for _, s := range scen {
		if !slices.Contains(allScenarios, s) {
			return fmt.Errorf("unknown scenario %q (have %s)", s, strings.Join(allScenarios, ","))
		}
	}
	dir := o.workDir
	if dir == "" {
		d, err := os.MkdirTemp("", "gatehouse-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	dbPath := filepath.Join(dir, "bench.db")
	_ = os.Remove(dbPath)
	env := map[string]string{
		"DB_PATH": dbPath, "SECURITY_PASSWORD_SALT": benchSalt, "SECURITY_BCRYPT_COST": strconv.Itoa(o.bcryptCost),
		"LOG_LEVEL": "error", "SECURITY_PASSWORD_COMPLEXITY": "none",
	}
	rep := &Report{Time: time.Now().UTC().Format(time.RFC3339), Engine: o.engine, Duration: o.duration.String(),
		Concurrency: o.concurrency, BcryptCost: o.bcryptCost, SeedUsers: o.seedUsers, SeedTeams: o.seedTeams,
		NumCPU: onlineCPUs(), GoVersion: runtime.Version(), BenchCPUs: cpusAllowed("self")}

	fmt.Fprintf(os.Stderr, "seeding %d users, %d teams into %s …\n", o.seedUsers, o.seedTeams, dbPath)
	t0 := time.Now()
	ownedTeam, err := seed(ctx, o, env)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	rep.SeedSeconds = time.Since(t0).Seconds()

	port, err := freePort(ctx)
	if err != nil {
		return err
	}
	env["HTTP_ADDR"] = "127.0.0.1:" + strconv.Itoa(port)
	base := "http://" + env["HTTP_ADDR"]

	serverCPUs, note := chooseServerCPUs(o.serverCPUs, rep.BenchCPUs)
	rep.PinningNote = note
	srv, startup, err := startServer(ctx, o.server, serverCPUs, env, base)
	if err != nil {
		return err
	}
	defer func() {
		_ = srv.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = srv.Process.Kill()
		}
	}()
	pid := srv.Process.Pid
	rep.StartupMs = float64(startup.Microseconds()) / 1000
	rep.ServerCPUs = cpusAllowed(strconv.Itoa(pid))
	rep.Pinned = serverCPUs != "" && rep.ServerCPUs != rep.BenchCPUs
	fmt.Fprintf(os.Stderr, "server pid %d on cpus %s (bench on %s); start-to-first-request %.1f ms\n",
		pid, rep.ServerCPUs, rep.BenchCPUs, rep.StartupMs)

	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: o.concurrency * 2, MaxIdleConnsPerHost: o.concurrency * 2, MaxConnsPerHost: 0,
		IdleConnTimeout: time.Minute, DisableCompression: true,
	}, Timeout: 30 * time.Second}

	ws, err := prepareWorkers(ctx, client, base, o, ownedTeam, scen)
	if err != nil {
		return err
	}

	for _, s := range scen {
		var r Result
		if s == "bcrypt-limit" {
			r, err = bcryptLimit(ctx, o, rep.ServerCPUs)
			if err != nil {
				return err
			}
		} else {
			r = runScenario(ctx, client, base, s, o, ws, pid)
		}
		fmt.Fprintf(os.Stderr, "%-15s %10.1f req/s  p50 %.2f ms  p99 %.2f ms  errors %d\n", s, r.RPS, r.P50ms, r.P99ms, r.Errors)
		rep.Results = append(rep.Results, r)
	}
	rep.ServerPeakRSS = float64(procStatusKB(pid, "VmHWM")) / 1024
	rep.Targets = targets(rep)
	printMarkdown(os.Stdout, rep)
	if o.jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------------------------------------------------
// Seeding

// seed migrates the database with app.New and inserts the data set through the store, with one
// precomputed hash for every user. It returns the team owned by each of the first users.
func seed(ctx context.Context, o options, env map[string]string) ([]int64, error) {
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	a, err := app.New(ctx, cfg, app.Options{})
	if err != nil {
		return nil, err
	}
	defer a.Close()
	h := auth.Hasher{Cost: o.bcryptCost, Salt: []byte(benchSalt)}
	hash, scheme, err := h.Hash(benchPassword)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	users := make([]int64, o.seedUsers)
	for i := range users {
		u := &gatehouse.User{Email: userEmail(i), PasswordHash: hash, PasswordScheme: scheme, Active: true, ConfirmedAt: &now}
		if err := a.Store.CreateUser(ctx, u); err != nil {
			return nil, err
		}
		users[i] = u.ID
	}
	teams := make([]int64, o.seedTeams)
	for j := range teams {
		t := &gatehouse.Team{Name: fmt.Sprintf("Team %d", j), Description: "seeded by gatehouse-bench"}
		if err := a.Store.CreateTeam(ctx, t, users[j%len(users)]); err != nil {
			return nil, err
		}
		teams[j] = t.ID
		for k := range o.seedProj {
			p := &store.Project{TeamID: t.ID, Name: fmt.Sprintf("Project %d-%d", j, k), CreatedBy: &users[j%len(users)]}
			if err := a.Store.CreateProject(ctx, p); err != nil {
				return nil, err
			}
		}
	}
	for i := range users {
		for k := 1; k <= o.seedMembers; k++ {
			j := (i*7 + k*131) % len(teams)
			if j == i%len(teams) {
				continue
			}
			m := &gatehouse.Membership{TeamID: teams[j], UserID: users[i], Role: gatehouse.TeamMember}
			if err := a.Store.SetMembership(ctx, m); err != nil {
				return nil, err
			}
		}
	}
	return teams[:o.concurrency], nil
}

func userEmail(i int) string { return fmt.Sprintf("bench-%05d@example.com", i) }

// ---------------------------------------------------------------------------------------------
// Server process

func freePort(ctx context.Context) (int, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("unexpected listener address")
	}
	return addr.Port, nil
}

// chooseServerCPUs returns the taskset core list for the server ("" for no pinning) and a note
// saying what was done.
func chooseServerCPUs(flagCPUs, benchCPUs string) (string, string) {
	if _, err := exec.LookPath("taskset"); err != nil {
		return "", "not pinned: taskset not found"
	}
	if flagCPUs != "" {
		return flagCPUs, "server pinned by -server-cpus"
	}
	n := onlineCPUs()
	if n < 2 {
		return "", "not pinned: only one core"
	}
	bench := parseCPUList(benchCPUs)
	var rest []string
	for c := range n {
		if !slices.Contains(bench, c) {
			rest = append(rest, strconv.Itoa(c))
		}
	}
	if len(bench) == 0 || len(rest) == 0 {
		return "", "not pinned: the bench process may use every core (run it through scripts/bench, which pins it to core 0)"
	}
	return strings.Join(rest, ","), "bench on its cores, server on the others (taskset)"
}

func startServer(ctx context.Context, server, cpus string, env map[string]string, base string) (*exec.Cmd, time.Duration, error) {
	bin, err := filepath.Abs(server)
	if err != nil {
		return nil, 0, err
	}
	var cmd *exec.Cmd
	if cpus != "" {
		cmd = exec.CommandContext(ctx, "taskset", "-c", cpus, bin)
	} else {
		cmd = exec.CommandContext(ctx, bin)
	}
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	client := &http.Client{Timeout: time.Second}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	deadline := start.Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/health", nil)
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, time.Since(start), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return nil, 0, errors.New("the server did not answer /api/v1/health within 30 s")
}

func cpusAllowed(pid string) string {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// onlineCPUs counts the machine's cores (runtime.NumCPU counts only those this process may use).
func onlineCPUs() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return runtime.NumCPU()
	}
	return len(parseCPUList(strings.TrimSpace(string(b))))
}

func parseCPUList(s string) []int {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out
}

func procStatusKB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// cpuTicks returns utime+stime of the process, in clock ticks.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state); utime is field 14, stime 15
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

// resetPeakRSS resets VmHWM (Linux ≥ 4.0); it fails harmlessly elsewhere.
func resetPeakRSS(pid int) {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0o600)
}

// ---------------------------------------------------------------------------------------------
// Workers and scenarios

type worker struct {
	user    int
	team    int64
	access  string
	refresh string
	apiKey  string
	n       int
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

func runScenario(ctx context.Context, c *http.Client, base, s string, o options, ws []*worker, pid int) Result {
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
	errCount := make([]int, len(ws))
	firstErr := make([]error, len(ws))
	start := time.Now()
	deadline := start.Add(o.duration)
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Go(func() {
			l := make([]time.Duration, 0, 4096)
			for {
				t := time.Now()
				if !t.Before(deadline) {
					break
				}
				err := request(ctx, c, base, s, w)
				l = append(l, time.Since(t))
				if err != nil {
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
	for i := range ws {
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
	r.PeakRSSMB = float64(procStatusKB(pid, "VmHWM")) / 1024
	return r
}

func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(int(p*float64(len(sorted))), len(sorted)-1)
	return float64(sorted[i].Microseconds()) / 1000
}

// ---------------------------------------------------------------------------------------------
// bcrypt limit

// bcryptLimit re-runs this program as "bcrypt-limit" on the server's cores (while the server
// idles) and reports its verifications per second.
func bcryptLimit(ctx context.Context, o options, cpus string) (Result, error) {
	self, err := os.Executable()
	if err != nil {
		return Result{}, err
	}
	d := min(o.duration, 5*time.Second)
	args := []string{"bcrypt-limit", strconv.Itoa(o.bcryptCost), d.String()}
	var cmd *exec.Cmd
	if cpus != "" {
		if _, err := exec.LookPath("taskset"); err == nil {
			cmd = exec.CommandContext(ctx, "taskset", append([]string{"-c", cpus, self}, args...)...) //nolint:gosec // this program itself, on the server's cores
		}
	}
	if cmd == nil {
		cmd = exec.CommandContext(ctx, self, args...)
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return Result{}, fmt.Errorf("bcrypt-limit: %w", err)
	}
	var r Result
	if err := json.Unmarshal(out, &r); err != nil {
		return Result{}, fmt.Errorf("bcrypt-limit output: %w", err)
	}
	return r, nil
}

// bcryptChild runs Hasher.Verify on GOMAXPROCS goroutines and prints a Result as JSON.
func bcryptChild(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gatehouse-bench bcrypt-limit COST DURATION")
		return 2
	}
	cost, err1 := strconv.Atoi(args[0])
	d, err2 := time.ParseDuration(args[1])
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	h := auth.Hasher{Cost: cost, Salt: []byte(benchSalt)}
	hash, scheme, err := h.Hash(benchPassword)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	n := runtime.GOMAXPROCS(0)
	lat := make([][]time.Duration, n)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t := time.Now()
				if ok, _ := h.Verify(hash, scheme, benchPassword); !ok {
					panic("bcrypt-limit: verification failed")
				}
				lat[i] = append(lat[i], time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := Result{Scenario: "bcrypt-limit", Requests: len(all), RPS: float64(len(all)) / elapsed.Seconds(),
		P50ms: pct(all, 0.5), P90ms: pct(all, 0.9), P99ms: pct(all, 0.99), P999ms: pct(all, 0.999), Concurrency: n,
		ServerCPU: -1, PeakRSSMB: -1}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		return 1
	}
	return 0
}

// ---------------------------------------------------------------------------------------------
// Report

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
	ratio("me / floor (req/s)", "me", "floor", 0.50)
	ratio("teams / floor (req/s)", "teams", "floor", 0.35)
	ratio("login / bcrypt-limit (req/s)", "login", "bcrypt-limit", 0.95)
	if me, ok := by["me"]; ok && me.P50ms > 0 {
		v := me.P99ms / me.P50ms
		ts = append(ts, Target{Name: fmt.Sprintf("me p99 / p50 (c=%d)", me.Concurrency), Value: v, Want: "≤ 10", Met: v <= 10})
	}
	errs := 0
	for _, r := range rep.Results {
		errs += r.Errors
	}
	ts = append(ts, Target{Name: "errors (all scenarios)", Value: float64(errs), Want: "= 0", Met: errs == 0})
	ts = append(ts, Target{Name: fmt.Sprintf("server peak RSS, MB (%s, c=%d)", rep.Engine, rep.Concurrency),
		Value: rep.ServerPeakRSS, Want: "≤ 60", Met: rep.ServerPeakRSS <= 60})
	ts = append(ts, Target{Name: "start-to-first-request, ms (migrated DB)", Value: rep.StartupMs, Want: "≤ 100", Met: rep.StartupMs <= 100})
	return ts
}

func printMarkdown(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "Engine %s, %d workers, %s per scenario, bcrypt cost %d, %d users / %d teams seeded in %.1f s; "+
		"bench on cpus %s, server on cpus %s (%s)\n\n",
		rep.Engine, rep.Concurrency, rep.Duration, rep.BcryptCost, rep.SeedUsers, rep.SeedTeams, rep.SeedSeconds,
		rep.BenchCPUs, rep.ServerCPUs, rep.PinningNote)
	fmt.Fprintln(w, "| scenario | requests | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors | server CPU % | peak RSS MB |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rep.Results {
		cpu, rss := fmt.Sprintf("%.0f", r.ServerCPU), fmt.Sprintf("%.1f", r.PeakRSSMB)
		if r.Scenario == "bcrypt-limit" {
			cpu, rss = "n/a", "n/a"
		}
		fmt.Fprintf(w, "| %s | %d | %.1f | %.2f | %.2f | %.2f | %.2f | %d | %s | %s |\n",
			r.Scenario, r.Requests, r.RPS, r.P50ms, r.P90ms, r.P99ms, r.P999ms, r.Errors, cpu, rss)
	}
	fmt.Fprintln(w)
	for _, r := range rep.Results {
		if r.FirstError != "" {
			fmt.Fprintf(w, "First error in %s: %s\n\n", r.Scenario, r.FirstError)
		}
	}
	fmt.Fprintln(w, "| target | measured | wanted | met |")
	fmt.Fprintln(w, "|---|---:|---|:---:|")
	for _, t := range rep.Targets {
		mark := "✗"
		if t.Met {
			mark = "✓"
		}
		fmt.Fprintf(w, "| %s | %.2f | %s | %s |\n", t.Name, t.Value, t.Want, mark)
	}
}
