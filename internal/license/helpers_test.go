package license

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/license/licensetest"
	"github.com/gatehousehq/gatehouse/internal/testclock"
)

// t0 is the fake clock's start.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func newClock() *testclock.Clock { return testclock.New(t0) }

// logs records what the client logs, as text, and counts lines per level.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
	h   slog.Handler
}

func newLogs() (*slog.Logger, *logs) {
	l := &logs{}
	l.h = slog.NewTextHandler(&lockedWriter{l}, &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(l.h), l
}

type lockedWriter struct{ l *logs }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	return w.l.buf.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// count returns how many lines have the level (DEBUG, INFO, WARN, ERROR) and contain substr.
func (l *logs) count(level, substr string) int {
	n := 0
	for line := range strings.SplitSeq(l.String(), "\n") {
		if strings.Contains(line, "level="+level+" ") && strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

// newClient returns a client of srv with a fake clock (also the server's) and recorded logs.
func newClient(t *testing.T, srv *licensetest.Server, mutate func(*Options)) (*Client, *testclock.Clock, *logs) {
	t.Helper()
	clk := newClock()
	srv.SetNow(clk.Now)
	logger, lg := newLogs()
	o := Options{
		Key: licensetest.ValidKey, ServerURL: srv.URL, HTTPClient: srv.Client(),
		Logger: logger, Now: clk.Now, Timeout: 5 * time.Second,
	}
	if mutate != nil {
		mutate(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if o.Key != "" && strings.Contains(lg.String(), o.Key) {
			t.Errorf("the logs contain the license key:\n%s", lg)
		}
	})
	return c, clk, lg
}

// paths lists the paths of reqs.
func paths(reqs []licensetest.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Path
	}
	return out
}

// countPath returns a WaitFor condition: at least n requests to path.
func countPath(path string, n int) func([]licensetest.Request) bool {
	return func(reqs []licensetest.Request) bool {
		k := 0
		for _, r := range reqs {
			if r.Path == path {
				k++
			}
		}
		return k >= n
	}
}

// runInBackground starts c.Run and returns a function that stops it and waits for it to return.
func runInBackground(t *testing.T, c *Client) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
