package main

import (
	"context"
	"fmt"
	"os"
	"slices"
)

// startupRuns starts the server n times on the already-migrated database, each time until its
// first 200 on /api/v1/health, and stops it again. It returns each run's start-to-first-request
// in milliseconds and its resident memory (VmRSS) at that moment in MB. One start is at the
// mercy of the machine's other work; the median of several is the figure to compare.
func startupRuns(ctx context.Context, n int, server, cpus string, env map[string]string, base string) (ms, rssMB []float64, err error) {
	for i := range n {
		srv, d, err := startServer(ctx, server, cpus, env, base)
		if err != nil {
			return nil, nil, fmt.Errorf("start-up run %d: %w", i+1, err)
		}
		rss := float64(procStatusKB(srv.Process.Pid, "VmRSS")) / 1024
		stopServer(srv)
		ms = append(ms, float64(d.Microseconds())/1000)
		rssMB = append(rssMB, rss)
		fmt.Fprintf(os.Stderr, "start-up run %d: %.1f ms to the first answer, RSS %.1f MB\n", i+1, ms[i], rss)
	}
	return ms, rssMB, nil
}

// median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
