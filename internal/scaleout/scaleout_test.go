package scaleout_test

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

const adminPassword = "first-admin-password-1"

// cluster is three Gatehouse processes on one database behind HAProxy.
type cluster struct {
	db        config.DB
	instances []*instance
	proxy     *api
	haproxy   *haproxy // the proxy of the workload (its log names the instance of each request)
	direct    []*api
	admin     string // admin access token
}

// TestDestructiveScaleOut runs three Gatehouse instances behind HAProxy on PostgreSQL, and on the
// Galera cluster through HAProxy's single-writer config, under a mixed workload while one
// instance is SIGKILLed and restarted (and, on Galera, the node HAProxy writes to is SIGKILLed
// and rejoins). Then: every acknowledged write is there; no 5xx but the requests in flight on
// the killed instance (and, on Galera, 503s with Retry-After while the node died); refresh-token
// reuse, login throttling, logout and role changes hold across instances; every team kept an
// owner. On PostgreSQL it prints the throughput with 1, 2 and 3 instances.
func TestDestructiveScaleOut(t *testing.T) {
	testdb.SkipUnlessDestructive(t)
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Fatal("haproxy is not installed: scripts/test installs it (apt-get install haproxy)")
	}
	for _, engine := range []string{testdb.Postgres, testdb.Galera} {
		t.Run(engine, func(t *testing.T) { scaleOut(t, engine) })
	}
}

func scaleOut(t *testing.T, engine string) {
	db := testdb.New(t, engine)
	dbHost := db.Hosts[0]
	var nodes []testdb.GaleraNode
	if engine == testdb.Galera {
		nodes = testdb.GaleraNodes(t)
		createCheckUser(t, db)
		gaddr := freeAddr(t)
		startHAProxy(t, "galera.cfg", 0, []string{"GALERA_LISTEN=" + gaddr,
			"GALERA_1=" + nodes[0].Addr, "GALERA_2=" + nodes[1].Addr, "GALERA_3=" + nodes[2].Addr})
		dbHost = gaddr
	}
	env := []string{
		"DB_TYPE=" + engine, "DB_HOST=" + dbHost, "DB_NAME=" + db.Name, "DB_USER=" + db.User,
		"DB_POOL_SIZE=6", "DB_CONNECT_TIMEOUT=60s",
		"LOG_LEVEL=warn", "LOG_FORMAT=text",
		"ADMIN_EMAIL=admin@example.com", "ADMIN_PASSWORD=" + adminPassword,
		"PUBLIC_URL=https://gatehouse.test", "SECURITY_BCRYPT_COST=10",
		"SECURITY_PASSWORD_COMPLEXITY_CHECKER=none", "TRUSTED_PROXIES=127.0.0.1",
		"SECURITY_REFRESH_REUSE_GRACE=1s", "SECURITY_LOGIN_BACKOFF_AFTER=5",
	}
	c := &cluster{db: db}
	for i := range 3 {
		c.instances = append(c.instances, newInstance(t, fmt.Sprintf("gatehouse%d", i+1), env))
	}
	c.instances[0].start(t) // migrates and creates the admin
	var wg sync.WaitGroup
	for _, in := range c.instances[1:] {
		wg.Go(func() { in.start(t) })
	}
	wg.Wait()
	for _, in := range c.instances {
		c.direct = append(c.direct, newAPI(in.url()))
	}

	// Throughput of GET /me through HAProxy with 1, 2 and 3 instances (a sanity figure; once,
	// on PostgreSQL, to keep the test short).
	c.admin = c.adminToken(t)
	for n := 1; n <= 3 && engine == testdb.Postgres; n++ {
		p := c.startProxy(t, n)
		rps := meThroughput(t, p, c.admin, 16, 1500*time.Millisecond)
		t.Logf("%s: throughput with %d instance(s) behind HAProxy: %.0f GET /api/v1/me per second (16 clients)", engine, n, rps)
	}
	c.proxy = c.startProxy(t, 3)

	w := newWorkload(t, c, 6)
	faults := &faultLog{}
	w.run(t, 12*time.Second, func() {
		time.Sleep(3 * time.Second)
		victim := c.instances[1]
		faults.victim = victim.name
		faults.instanceKill = time.Now()
		victim.kill(t)
		t.Logf("%s: SIGKILLed %s", engine, victim.name)
		time.Sleep(2 * time.Second)
		victim.start(t)
		faults.instanceBack = time.Now()
		t.Logf("%s: %s restarted and ready after %s", engine, victim.name, faults.instanceBack.Sub(faults.instanceKill).Round(time.Millisecond))
		if engine != testdb.Galera {
			return
		}
		time.Sleep(2 * time.Second)
		faults.nodeKill = time.Now()
		nodes[0].Kill(t) // the node HAProxy sends every connection to
		t.Logf("galera: SIGKILLed node 1 (%s), HAProxy's writer", nodes[0].Addr)
		faults.nodeStart = make(chan error, 1)
		go func() {
			cmd := exec.Command(nodes[0].StartScript)
			out, err := cmd.CombinedOutput()
			if err != nil {
				err = fmt.Errorf("%w: %s", err, out)
			}
			faults.nodeBack = time.Now()
			faults.nodeStart <- err
		}()
	})
	if faults.nodeStart != nil {
		if err := <-faults.nodeStart; err != nil {
			t.Fatalf("galera node 1 did not rejoin: %v", err)
		}
		t.Logf("galera: node 1 rejoined and Synced %s after the kill", time.Since(faults.nodeKill).Round(time.Millisecond))
		// HAProxy moves back to node 1 (closing the backup's sessions): the service goes on.
		time.Sleep(4 * time.Second)
		for i := range 20 {
			r := c.proxy.do(http.MethodGet, "/api/v1/me", c.admin, nil)
			if r.status != http.StatusOK && (r.status != http.StatusServiceUnavailable || r.retryAfter == "") {
				t.Errorf("request %d after node 1 rejoined: %d %s", i, r.status, r.raw)
			}
		}
	}
	w.checkStatuses(t, faults, c.haproxy.servedBy())
	w.checkWrites(t)
	c.checkAcrossInstances(t)
	c.checkLastOwner(t)
}

// faultLog records when the faults happened.
type faultLog struct {
	instanceKill, instanceBack time.Time
	nodeKill, nodeBack         time.Time
	victim                     string // the killed instance's server name in HAProxy
	nodeStart                  chan error
}

func createCheckUser(t *testing.T, db config.DB) {
	t.Helper()
	s := openStore(t, db)
	if _, err := s.DB().ExecContext(context.Background(), "CREATE USER IF NOT EXISTS 'haproxy_check'@'127.0.0.1'"); err != nil {
		t.Fatal(err)
	}
}

func openStore(t *testing.T, db config.DB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// startProxy starts HAProxy over the first n instances and waits until it routes to all of them.
func (c *cluster) startProxy(t *testing.T, n int) *api {
	t.Helper()
	addr := freeAddr(t)
	env := []string{"GATEHOUSE_LISTEN=" + addr}
	for i, in := range c.instances {
		env = append(env, "GATEHOUSE_"+strconv.Itoa(i+1)+"="+in.addr)
	}
	c.haproxy = startHAProxy(t, "gatehouse.cfg", n, env)
	waitReady(t, "http://"+addr+"/readyz", 30*time.Second, nil)
	time.Sleep(2500 * time.Millisecond) // rise 2 at 1 s: every server is up
	return newAPI("http://" + addr)
}

// adminToken signs in as the default admin, changing the password the first time.
func (c *cluster) adminToken(t *testing.T) string {
	t.Helper()
	a := c.direct[0]
	var tk tokens
	must(t, a.do(http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": "admin@example.com", "password": adminPassword}), http.StatusOK, &tk)
	if tk.PasswordChangeRequired {
		must(t, a.do(http.MethodPost, "/api/v1/auth/password/change", tk.AccessToken,
			map[string]any{"current_password": adminPassword, "new_password": adminPassword + "-changed"}), http.StatusOK, &tk)
	}
	return tk.AccessToken
}

type tokens struct {
	AccessToken            string `json:"access_token"`
	RefreshToken           string `json:"refresh_token"`
	PasswordChangeRequired bool   `json:"password_change_required"`
}

// meThroughput runs GET /me from clients goroutines for d and returns the answers per second.
func meThroughput(t *testing.T, a *api, bearer string, clients int, d time.Duration) float64 {
	t.Helper()
	var ok, bad atomic.Int64
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for time.Now().Before(end) {
				if r := a.do(http.MethodGet, "/api/v1/me", bearer, nil); r.status == http.StatusOK {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() > 0 {
		t.Errorf("throughput run: %d of %d requests failed", bad.Load(), ok.Load()+bad.Load())
	}
	return float64(ok.Load()) / d.Seconds()
}

// sameRoles compares a roles JSON array with want.
func sameRoles(raw []string, want ...string) bool {
	return strings.Join(raw, ",") == strings.Join(want, ",")
}
