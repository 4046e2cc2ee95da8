package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gatehousehq/gatehouse/internal/auth"
)

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
