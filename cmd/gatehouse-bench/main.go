// Command gatehouse-bench measures Gatehouse on loopback: it seeds a database (SQLite, or a fresh
// database on a PostgreSQL or MariaDB server), starts the gatehouse binary in a child process
// (pinned to other cores than itself when the machine has them), drives each scenario with a
// built-in keep-alive load generator (and, with -wrk, with wrk as well) for a fixed duration and
// concurrency, and prints a markdown table (and writes JSON) with requests/s, latency
// percentiles, errors, server CPU and peak RSS. -compare prints the difference between two JSON
// reports. Run it through scripts/bench; see docs/performance.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	benchSalt     = "gatehouse-bench-salt-not-a-secret"
	benchPassword = "bench-Password-1234!"
	clkTck        = 100 // USER_HZ on Linux
)

var allScenarios = []string{"floor", "me", "apikey-me", "teams", "projects-write", "refresh", "login", "mixed", "bcrypt-limit"}

type options struct {
	server      string
	engine      string
	dbURL       string
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
	wrk         bool
	note        string
	startupRuns int
	mixSpec     string
	mix         mix
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bcrypt-limit" {
		os.Exit(bcryptChild(os.Args[2:]))
	}
	var o options
	var compare bool
	flag.StringVar(&o.server, "server", "", "path of the gatehouse binary (built by scripts/bench)")
	flag.StringVar(&o.engine, "engine", "sqlite", "database engine: sqlite, postgres or mariadb")
	flag.StringVar(&o.dbURL, "db-url", "", "postgres://user:pass@host:port/db or mariadb://user:pass@host:port/db: use this (dedicated, empty) database instead of a fresh one on the GATEHOUSE_TEST_POSTGRES / GATEHOUSE_TEST_MARIADB server")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "duration of each scenario")
	flag.IntVar(&o.concurrency, "concurrency", 64, "concurrent workers (connections)")
	flag.StringVar(&o.scenarios, "scenarios", strings.Join(allScenarios, ","), "comma-separated scenarios")
	flag.IntVar(&o.seedUsers, "seed-users", 10000, "users to seed")
	flag.IntVar(&o.seedTeams, "seed-teams", 1000, "teams to seed")
	flag.IntVar(&o.seedMembers, "seed-memberships", 2, "extra team memberships per user")
	flag.IntVar(&o.seedProj, "seed-projects", 5, "projects per team")
	flag.IntVar(&o.bcryptCost, "bcrypt-cost", 12, "SECURITY_BCRYPT_COST of the server (and of the seeded hashes)")
	flag.StringVar(&o.jsonOut, "json", "", "write the results as JSON to this file")
	flag.StringVar(&o.workDir, "dir", "", "working directory for the SQLite database (default: a temporary one)")
	flag.StringVar(&o.serverCPUs, "server-cpus", "", "cores for the server (taskset -c list); default: all but the bench's when possible")
	flag.BoolVar(&o.wrk, "wrk", false, "also drive the GET scenarios with wrk (when installed), to check the built-in generator is not the limit")
	flag.StringVar(&o.note, "note", "", "free text stored in the JSON report (for example what changed)")
	flag.StringVar(&o.mixSpec, "mix", defaultMix, "the mixed scenario's requests, kind=weight,… (kinds: floor, me, teams, projects-write, refresh, login)")
	flag.IntVar(&o.startupRuns, "startup-runs", 1, "start the server this many times on the migrated database before the scenarios; the start-to-first-request reported is the median")
	flag.BoolVar(&compare, "compare", false, "compare two JSON reports: gatehouse-bench -compare OLD.json NEW.json")
	flag.Parse()
	if compare {
		if flag.NArg() != 2 {
			fmt.Fprintln(os.Stderr, "usage: gatehouse-bench -compare OLD.json NEW.json")
			os.Exit(2)
		}
		if err := compareReports(os.Stdout, flag.Arg(0), flag.Arg(1)); err != nil {
			fmt.Fprintln(os.Stderr, "gatehouse-bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.server == "" {
		return errors.New("-server is required")
	}
	if o.concurrency < 1 || o.seedUsers < o.concurrency || o.seedTeams < o.concurrency {
		return errors.New("-seed-users and -seed-teams must be at least -concurrency (each worker owns a team)")
	}
	var err error
	if o.mix, err = parseMix(o.mixSpec); err != nil {
		return err
	}
	var scen []string
	if o.scenarios != "none" {
		scen = strings.Split(o.scenarios, ",")
	}
	for _, s := range scen {
		if !slices.Contains(allScenarios, s) {
			return fmt.Errorf("unknown scenario %q (have %s)", s, strings.Join(allScenarios, ","))
		}
	}
	db, err := prepareDatabase(ctx, o)
	if err != nil {
		return err
	}
	defer db.cleanup()
	env := map[string]string{
		"SECURITY_PASSWORD_SALT": benchSalt, "SECURITY_BCRYPT_COST": strconv.Itoa(o.bcryptCost),
		"LOG_LEVEL": "error", "SECURITY_PASSWORD_COMPLEXITY_CHECKER": "none",
	}
	for k, v := range db.env {
		env[k] = v
	}
	rep := &Report{Time: time.Now().UTC().Format(time.RFC3339), Engine: o.engine, Database: db.describe,
		Duration: o.duration.String(), Concurrency: o.concurrency, BcryptCost: o.bcryptCost, SeedUsers: o.seedUsers,
		SeedTeams: o.seedTeams, NumCPU: onlineCPUs(), GoVersion: runtime.Version(), BenchCPUs: cpusAllowed("self"),
		Machine: machine(), Commit: commit(ctx), LoadAvgStart: loadAvg(), Note: o.note}

	fmt.Fprintf(os.Stderr, "seeding %d users, %d teams into %s …\n", o.seedUsers, o.seedTeams, db.describe)
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
	if o.engine != "sqlite" {
		note += "; the database server is not pinned and shares the machine's cores"
	}
	rep.PinningNote = note
	if o.startupRuns > 1 {
		rep.StartupRunsMs, rep.StartupRSSMB, err = startupRuns(ctx, o.startupRuns-1, o.server, serverCPUs, env, base)
		if err != nil {
			return err
		}
	}
	srv, startup, err := startServer(ctx, o.server, serverCPUs, env, base)
	if err != nil {
		return err
	}
	defer stopServer(srv)
	pid := srv.Process.Pid
	rep.StartupRunsMs = append(rep.StartupRunsMs, float64(startup.Microseconds())/1000)
	rep.StartupRSSMB = append(rep.StartupRSSMB, float64(procStatusKB(pid, "VmRSS"))/1024)
	rep.StartupMs = median(rep.StartupRunsMs)
	rep.StartupRSS = median(rep.StartupRSSMB)
	rep.ServerCPUs = cpusAllowed(strconv.Itoa(pid))
	rep.Pinned = serverCPUs != "" && rep.ServerCPUs != rep.BenchCPUs
	fmt.Fprintf(os.Stderr, "server pid %d on cpus %s (bench on %s); start-to-first-request %.1f ms (median of %d), RSS at the first answer %.1f MB\n",
		pid, rep.ServerCPUs, rep.BenchCPUs, rep.StartupMs, len(rep.StartupRunsMs), rep.StartupRSS)

	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: o.concurrency * 2, MaxIdleConnsPerHost: o.concurrency * 2, MaxConnsPerHost: 0,
		IdleConnTimeout: time.Minute, DisableCompression: true,
	}, Timeout: 30 * time.Second}

	ws, err := prepareWorkers(ctx, client, base, o, ownedTeam, scen)
	if err != nil {
		return err
	}

	for _, s := range scen {
		var rs []Result // the scenario's row, then the mixed scenario's rows per request kind
		if s == "bcrypt-limit" {
			r, err := bcryptLimit(ctx, o, rep.ServerCPUs)
			if err != nil {
				return err
			}
			rs = []Result{r}
		} else {
			rs = runScenario(ctx, client, base, s, o, ws, pid)
		}
		for _, r := range rs {
			fmt.Fprintf(os.Stderr, "%-15s %10.1f req/s  p50 %.2f ms  p99 %.2f ms  errors %d\n", r.Scenario, r.RPS, r.P50ms, r.P99ms, r.Errors)
		}
		rep.Results = append(rep.Results, rs...)
		if o.wrk && wrkScenario(s) {
			wr, err := runWrk(ctx, base, s, o, ws, pid, rep.BenchCPUs)
			if err != nil {
				fmt.Fprintf(os.Stderr, "wrk %s: %v\n", s, err)
				rep.WrkNote = err.Error()
			} else {
				fmt.Fprintf(os.Stderr, "%-15s %10.1f req/s  p50 %.2f ms  p99 %.2f ms  errors %d\n", wr.Scenario, wr.RPS, wr.P50ms, wr.P99ms, wr.Errors)
				rep.Results = append(rep.Results, wr)
			}
		}
	}
	// VmHWM is reset before each scenario, so the run's peak is the largest of the scenarios'
	// (and of what is left at the end).
	rep.ServerPeakRSS = float64(procStatusKB(pid, "VmHWM")) / 1024
	for _, r := range rep.Results {
		rep.ServerPeakRSS = max(rep.ServerPeakRSS, r.PeakRSSMB)
	}
	rep.LoadAvgEnd = loadAvg()
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
