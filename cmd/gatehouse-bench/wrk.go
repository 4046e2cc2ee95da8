package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkScenario reports whether scenario s is a plain GET that wrk can drive.
func wrkScenario(s string) bool {
	return s == "floor" || s == "me" || s == "apikey-me" || s == "teams"
}

// runWrk drives scenario s with wrk, on the bench's cores, with the same number of connections
// and duration as the built-in generator. wrk sends one Authorization header on every
// connection, so all of them act as the first worker's user. Its row is named "s (wrk)".
func runWrk(ctx context.Context, base, s string, o options, ws []*worker, pid int, benchCPUs string) (Result, error) {
	bin, err := exec.LookPath("wrk")
	if err != nil {
		return Result{}, errors.New("wrk is not installed (scripts/bench -wrk installs the Debian package)")
	}
	path, authz := "/api/v1/health", ""
	switch s {
	case "me":
		path, authz = "/api/v1/me", "Bearer "+ws[0].access
	case "apikey-me":
		path, authz = "/api/v1/me", "Bearer "+ws[0].apiKey
	case "teams":
		path, authz = "/api/v1/teams", "Bearer "+ws[0].access
	}
	threads := max(1, len(parseCPUList(benchCPUs)))
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(o.concurrency), "-d", fmt.Sprintf("%ds", max(1, int(o.duration.Seconds()))), "--latency"}
	if authz != "" {
		args = append(args, "-H", "Authorization: "+authz)
	}
	args = append(args, base+path)
	resetPeakRSS(pid)
	ticks0 := cpuTicks(pid)
	start := time.Now()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput() // #nosec G204 -- wrk with our own arguments
	elapsed := time.Since(start)
	ticks := cpuTicks(pid) - ticks0
	if err != nil {
		return Result{}, fmt.Errorf("%w: %s", err, out)
	}
	r, err := parseWrk(out)
	if err != nil {
		return Result{}, err
	}
	r.Scenario, r.Concurrency = s+" (wrk)", o.concurrency
	r.ServerCPU = float64(ticks) / clkTck / elapsed.Seconds() * 100
	if r.RPS > 0 {
		r.CPUPerReq = r.ServerCPU / 100 / r.RPS * 1e6
	}
	r.PeakRSSMB = float64(procStatusKB(pid, "VmHWM")) / 1024
	return r, nil
}

var (
	wrkPercentile = regexp.MustCompile(`^\s*(50|90|99)(?:\.000)?%\s+([0-9.]+)(us|ms|s)\s*$`)
	wrkRequests   = regexp.MustCompile(`^\s*(\d+) requests in`)
	wrkRate       = regexp.MustCompile(`^Requests/sec:\s+([0-9.]+)`)
	wrkNon2xx     = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocketErrs = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads wrk's --latency report.
func parseWrk(out []byte) (Result, error) {
	var r Result
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := wrkPercentile.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseFloat(m[2], 64)
			switch m[3] {
			case "us":
				v /= 1000
			case "s":
				v *= 1000
			}
			switch m[1] {
			case "50":
				r.P50ms = v
			case "90":
				r.P90ms = v
			case "99":
				r.P99ms = v
			}
		}
		if m := wrkRequests.FindStringSubmatch(line); m != nil {
			r.Requests, _ = strconv.Atoi(m[1])
		}
		if m := wrkRate.FindStringSubmatch(line); m != nil {
			r.RPS, _ = strconv.ParseFloat(m[1], 64)
		}
		if m := wrkNon2xx.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			r.Errors += n
		}
		if m := wrkSocketErrs.FindStringSubmatch(line); m != nil {
			for _, x := range m[1:] {
				n, _ := strconv.Atoi(x)
				r.Errors += n
			}
		}
	}
	if r.RPS == 0 || r.Requests == 0 {
		return r, fmt.Errorf("could not read wrk's report: %s", strings.TrimSpace(string(out)))
	}
	return r, nil
}
