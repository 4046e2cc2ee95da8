package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// statusCounts counts the answers of a load run by status, and remembers the worst ones.
type statusCounts struct {
	mu          sync.Mutex
	byStatus    map[int]int
	noRetry     int // 503 without Retry-After
	transport   int // no HTTP answer at all
	samples     []string
	lastFailure time.Time
}

func (c *statusCounts) add(status int, retryAfter string, body []byte, err error, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.transport++
		c.lastFailure = at
		if len(c.samples) < 5 {
			c.samples = append(c.samples, "transport: "+err.Error())
		}
		return
	}
	c.byStatus[status]++
	if status != http.StatusOK {
		c.lastFailure = at
		if status == http.StatusServiceUnavailable && retryAfter == "" {
			c.noRetry++
		}
		if status != http.StatusServiceUnavailable && len(c.samples) < 5 {
			c.samples = append(c.samples, fmt.Sprintf("%d %s", status, strings.TrimSpace(string(body))))
		}
	}
}

func (c *statusCounts) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]int, 0, len(c.byStatus))
	for k := range c.byStatus {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%d×%d ", c.byStatus[k], k)
	}
	fmt.Fprintf(&b, "(transport errors %d)", c.transport)
	return b.String()
}

// While the database server restarts (PostgreSQL: pg_ctl restart -m fast; MariaDB: a clean
// shutdown and start) or the Galera node the service reads and writes through is killed, 16
// clients keep calling GET /api/v1/me. Every answer is 200 or 503 unavailable with Retry-After,
// never 500; the pool serves again within 2 s of the server being back; afterwards no
// connection is left in use and the goroutines settle. Destructive: it restarts the test
// servers, so it runs only with GATEHOUSE_TEST_DESTRUCTIVE=1 (scripts/test's destructive step).
func TestDestructiveDBRestartUnderLoad(t *testing.T) {
	testdb.SkipUnlessDestructive(t)
	for _, engine := range []string{testdb.Postgres, testdb.MariaDB, testdb.Galera} {
		t.Run(engine, func(t *testing.T) {
			var fault func(t *testing.T)
			var recoverWithin time.Duration
			switch engine {
			case testdb.Galera:
				nodes := testdb.GaleraNodes(t)
				fault = func(t *testing.T) { nodes[0].Kill(t) } // the node the connector prefers
				// The survivors wait for the dead node's suspect timeout (5 s) before the
				// cluster continues without it.
				recoverWithin = 12 * time.Second
			default:
				testdb.RestartScript(t, engine)
				fault = func(t *testing.T) { testdb.RestartServer(t, engine) }
				recoverWithin = 2 * time.Second
			}
			dbRestartUnderLoad(t, engine, fault, recoverWithin)
		})
	}
}

func dbRestartUnderLoad(t *testing.T, engine string, fault func(t *testing.T), recoverWithin time.Duration) {
	cfg := testConfig(testdb.New(t, engine))
	cfg.DB.PoolSize = 8
	e := start(t, cfg, false)
	tk := e.login(cfg.AdminEmail, cfg.AdminPassword)

	const clients = 16
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	get := func() (int, string, []byte, error) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, e.srv.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After"), body, nil
	}
	if st, _, body, err := get(); err != nil || st != http.StatusOK {
		t.Fatalf("before the fault: %d %s %v", st, body, err)
	}
	runtime.GC()
	baseline := runtime.NumGoroutine()

	counts := &statusCounts{byStatus: map[int]int{}}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for !stop.Load() {
				st, ra, body, err := get()
				counts.add(st, ra, body, err, time.Now())
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	faultAt := time.Now()
	fault(t)
	back := time.Now()
	t.Logf("%s: fault took %s", engine, back.Sub(faultAt).Round(time.Millisecond))
	time.Sleep(recoverWithin + 2*time.Second)
	stop.Store(true)
	wg.Wait()
	t.Logf("%s: GET /api/v1/me at %d clients: %s", engine, clients, counts)

	counts.mu.Lock()
	defer counts.mu.Unlock()
	if n := counts.byStatus[http.StatusInternalServerError]; n > 0 {
		t.Errorf("%d answers were 500: %v", n, counts.samples)
	}
	for st, n := range counts.byStatus {
		if st != http.StatusOK && st != http.StatusServiceUnavailable {
			t.Errorf("%d answers were %d (want only 200 or 503): %v", n, st, counts.samples)
		}
	}
	if counts.noRetry > 0 {
		t.Errorf("%d answers were 503 without Retry-After", counts.noRetry)
	}
	if counts.transport > 0 {
		t.Errorf("%d requests got no HTTP answer: %v", counts.transport, counts.samples)
	}
	if counts.byStatus[http.StatusOK] == 0 {
		t.Fatal("no request succeeded")
	}
	if !counts.lastFailure.IsZero() {
		t.Logf("%s: last non-200 answer %s after the server was back", engine, counts.lastFailure.Sub(back).Round(time.Millisecond))
		if counts.lastFailure.Sub(back) > recoverWithin {
			t.Errorf("requests still failed %s after the server was back (want within %s)", counts.lastFailure.Sub(back).Round(time.Millisecond), recoverWithin)
		}
	}

	// The pool and the goroutines settle.
	tr.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := e.app.Store.DB().Stats()
		n := runtime.NumGoroutine()
		if st.InUse == 0 && n <= baseline+4 {
			t.Logf("%s: pool open %d, in use %d, idle %d; goroutines %d (baseline %d)", engine, st.OpenConnections, st.InUse, st.Idle, n, baseline)
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("after the load: pool in use %d (open %d), goroutines %d (baseline %d)\n%s",
				st.InUse, st.OpenConnections, n, baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st, _, body, err := get(); err != nil || st != http.StatusOK {
		t.Fatalf("after the fault: %d %s %v", st, body, err)
	}
}
