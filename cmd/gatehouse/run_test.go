package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// syncBuffer is a goroutine-safe log sink the test can read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// dbEnv turns a test database into the environment the service reads.
func dbEnv(db config.DB) map[string]string {
	m := map[string]string{
		"DB_TYPE":          db.Type,
		"DB_NAME":          db.Name,
		"DB_USER":          db.User,
		"DB_PASS":          db.Pass,
		"DB_PATH":          db.Path,
		"DB_HOST":          strings.Join(db.Hosts, ","),
		"HTTP_ADDR":        "127.0.0.1:0",
		"LOG_LEVEL":        "debug",
		"SHUTDOWN_TIMEOUT": "10s",
	}
	return m
}

// server is a running `gatehouse serve`.
type server struct {
	url  string
	logs *syncBuffer
	done chan int
	stop context.CancelFunc
}

// boot runs the service on port 0 and waits until it listens.
func boot(t *testing.T, env map[string]string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{logs: &syncBuffer{}, done: make(chan int, 1), stop: cancel}
	go func() { s.done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, s.logs, s.logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("server did not stop within 30s")
		}
	})
	deadline := time.After(60 * time.Second)
	for {
		if addr := listenAddr(s.logs.String()); addr != "" {
			s.url = "http://" + addr
			return s
		}
		select {
		case code := <-s.done:
			t.Fatalf("gatehouse exited with %d before listening:\n%s", code, s.logs)
		case <-deadline:
			t.Fatalf("gatehouse did not listen within 60s:\n%s", s.logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func listenAddr(logs string) string {
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			return line.Addr
		}
	}
	return ""
}

type envelope struct {
	Status string          `json:"status"`
	Data   json.RawMessage `json:"data"`
	Meta   struct {
		Version   int    `json:"version"`
		Timestamp string `json:"timestamp"`
		RequestID string `json:"request_id"`
	} `json:"meta"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func get(t *testing.T, url string) (int, envelope) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var env envelope
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("GET %s: not an envelope: %v\n%s", url, err, b)
	}
	return resp.StatusCode, env
}

// The service boots on every engine, migrates, creates the default admin once, serves ready,
// and stops cleanly on cancellation (SIGINT/SIGTERM in production).
func TestServeOnEveryEngine(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		env := dbEnv(db)
		s := boot(t, env)
		code, e := get(t, s.url+"/api/v1/ready")
		if code != http.StatusOK || e.Status != "success" || e.Meta.Version != 1 {
			t.Fatalf("ready = %d %+v\n%s", code, e, s.logs)
		}
		if code, _ := get(t, s.url+"/api/v1/health"); code != http.StatusOK {
			t.Fatalf("health = %d", code)
		}
		if !strings.Contains(s.logs.String(), "created the default admin account") {
			t.Fatalf("no default admin created:\n%s", s.logs)
		}
		if strings.Contains(s.logs.String(), "admin123") {
			t.Fatal("the log contains the default password")
		}
		s.stop()
		select {
		case code := <-s.done:
			if code != exitOK {
				t.Fatalf("exit code %d after shutdown:\n%s", code, s.logs)
			}
			s.done <- code // for the cleanup
		case <-time.After(30 * time.Second):
			t.Fatal("no shutdown")
		}

		// A second start on the same database migrates nothing and creates no second admin.
		s2 := boot(t, env)
		if code, _ := get(t, s2.url+"/api/v1/ready"); code != http.StatusOK {
			t.Fatalf("ready after restart = %d", code)
		}
		if strings.Contains(s2.logs.String(), "created the default admin account") ||
			strings.Contains(s2.logs.String(), "migration applied") {
			t.Fatalf("second start migrated or created an admin again:\n%s", s2.logs)
		}
	})
}

// In-flight requests finish during a graceful shutdown; new connections are refused.
func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	cfg := config.Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		time.Sleep(700 * time.Millisecond)
		_, _ = io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	go func() { served <- serveHTTP(ctx, cfg, ln, h, log) }()
	var addr string
	for addr == "" {
		time.Sleep(10 * time.Millisecond)
		addr = listenAddr(logs.String())
	}
	body := make(chan string, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+"/slow", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			body <- err.Error()
			return
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		body <- string(b)
	}()
	<-entered
	cancel() // what SIGTERM does in main
	if got := <-body; got != "finished" {
		t.Fatalf("in-flight request got %q, want the full answer", got)
	}
	if err := <-served; err != nil {
		t.Fatalf("serveHTTP = %v", err)
	}
}

func TestConfigErrorsExit2(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), nil, func(k string) string {
		return map[string]string{"DB_TYPE": "oracle", "HTTP_ADDR": "nope"}[k]
	}, &out, &errb)
	if code != exitConfig {
		t.Fatalf("exit code %d, want 2", code)
	}
	for _, want := range []string{"DB_TYPE", "oracle", "HTTP_ADDR", "nope"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
}

// Start-up gives up after DB_CONNECT_TIMEOUT with a non-zero exit and a clear message.
func TestUnreachableDatabaseExits(t *testing.T) {
	logs := &syncBuffer{}
	env := map[string]string{"DB_TYPE": "postgres", "DB_HOST": "127.0.0.1:1", "DB_CONNECT_TIMEOUT": "1s", "HTTP_ADDR": "127.0.0.1:0"}
	code := run(context.Background(), nil, func(k string) string { return env[k] }, logs, logs)
	if code != exitFail {
		t.Fatalf("exit code %d, want 1", code)
	}
	if !strings.Contains(logs.String(), "database not ready") || !strings.Contains(logs.String(), "DB_CONNECT_TIMEOUT") {
		t.Fatalf("logs do not show the attempts and the timeout:\n%s", logs)
	}
}

func TestCommands(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "g.db")
	env := func(k string) string { return map[string]string{"DB_PATH": dbPath}[k] }
	fsys, err := store.Migrations("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(fsys, "*.sql")
	var latest int
	if _, err := fmt.Sscanf(files[len(files)-1], "%05d_", &latest); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"version"}, exitOK, "gatehouse "},
		{[]string{"--help"}, exitOK, "Run \"gatehouse COMMAND --help\""},
		{[]string{"serve", "--help"}, exitOK, "Usage: gatehouse [serve]"},
		{[]string{"migrate", "--help"}, exitOK, "Usage: gatehouse migrate"},
		{[]string{"version", "--help"}, exitOK, "Usage: gatehouse version"},
		{[]string{"help"}, exitOK, "gatehouse migrate up|down|status"},
		{[]string{"migrate", "status"}, exitOK, "pending"},
		{[]string{"migrate", "up"}, exitOK, fmt.Sprintf("applied %d migration(s)", len(files))},
		{[]string{"migrate", "status"}, exitOK, "applied 20"},
		{[]string{"migrate", "down"}, exitOK, fmt.Sprintf("rolled back migration %d", latest)},
		{[]string{"migrate", "sideways"}, exitConfig, "Usage: gatehouse migrate"},
		{[]string{"frobnicate"}, exitConfig, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.args, env, &out, &errb)
			if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.contains) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s%s", code, tc.code, tc.contains, out.String(), errb.String())
			}
		})
	}
}

// With DB_AUTO_MIGRATE=false the service refuses to serve an out-of-date schema.
func TestNoAutoMigrateRefusesStaleSchema(t *testing.T) {
	logs := &syncBuffer{}
	env := map[string]string{"DB_PATH": filepath.Join(t.TempDir(), "g.db"), "DB_AUTO_MIGRATE": "false", "HTTP_ADDR": "127.0.0.1:0"}
	code := run(context.Background(), nil, func(k string) string { return env[k] }, logs, logs)
	if code != exitFail || !strings.Contains(logs.String(), "gatehouse migrate up") {
		t.Fatalf("exit %d; logs:\n%s", code, logs)
	}
}
