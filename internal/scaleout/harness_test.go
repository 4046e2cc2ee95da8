package scaleout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds cmd/gatehouse once per test run (plain go build, as a user would).
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "gatehouse-scaleout-*")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "gatehouse")
		cmd := exec.Command("go", "build", "-o", buildBin, "./cmd/gatehouse")
		cmd.Dir = repoRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/gatehouse: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// instance is one Gatehouse process.
type instance struct {
	name string
	addr string
	env  []string
	log  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func newInstance(t *testing.T, name string, env []string) *instance {
	in := &instance{name: name, addr: freeAddr(t), log: filepath.Join(t.TempDir(), name+".log")}
	in.env = append(append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}, env...), "HTTP_ADDR="+in.addr)
	t.Cleanup(func() {
		in.kill(t)
		if t.Failed() {
			b, _ := os.ReadFile(in.log)
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("%s log (end):\n%s", in.name, b)
		}
	})
	return in
}

func (in *instance) url() string { return "http://" + in.addr }

// start runs the process and waits until /readyz answers 200.
func (in *instance) start(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(in.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "serve")
	cmd.Env = in.env
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = f.Close(); close(done) }()
	in.mu.Lock()
	in.cmd, in.done = cmd, done
	in.mu.Unlock()
	waitReady(t, in.url()+"/readyz", 90*time.Second, done)
}

// kill sends SIGKILL and waits for the process to end.
func (in *instance) kill(t *testing.T) {
	in.mu.Lock()
	cmd, done := in.cmd, in.done
	in.cmd = nil
	in.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

func waitReady(t *testing.T, url string, within time.Duration, died <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-died:
			t.Fatalf("%s: the process exited before it was ready", url)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within %s (last: %v)", url, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// haproxy runs Debian's haproxy on a config from deploy/haproxy, with addresses from env (the
// files read them as "${VAR}"). servers > 0 keeps only that many `server` lines.
type haproxy struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *bytes.Buffer
	mu   *sync.Mutex
}

var serverLine = regexp.MustCompile(`^\s*server\s+\S+?(\d+)\s`)

// testIDs numbers the requests (X-Test-Id).
var testIDs atomic.Int64

// httpLogLine is the part of an HAProxy httplog line this test reads: backend/server, the
// termination state and the captured X-Test-Id.
var httpLogLine = regexp.MustCompile(`\s\S+/(\S+)\s[-0-9/+]+\s\S+\s\S+\s\S+\s\S+\s(\S{4})\s.*\{([0-9]*)\}`)

// servedBy maps X-Test-Id to the instance HAProxy last sent that request to, with the
// termination state (see HAProxy's "Session state at disconnection").
func (h *haproxy) servedBy() map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(h.output(), "\n") {
		if g := httpLogLine.FindStringSubmatch(l); g != nil && g[3] != "" {
			m[g[3]] = g[1] + " " + g[2]
		}
	}
	return m
}

func startHAProxy(t *testing.T, file string, servers int, env []string) *haproxy {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("haproxy not installed (scripts/test installs Debian's haproxy): %v", err)
	}
	src, err := os.ReadFile(filepath.Join(repoRoot(), "deploy", "haproxy", file))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(src), "\n") {
		if m := serverLine.FindStringSubmatch(l); m != nil && servers > 0 {
			var n int
			_, _ = fmt.Sscan(m[1], &n)
			if n > servers {
				continue
			}
		}
		lines = append(lines, l)
		// The test's addition: a log line per request naming the instance that served it, with
		// the client's X-Test-Id, so that a failed request can be traced to the instance it
		// was sent to.
		if l == "global" {
			lines = append(lines, "\tlog stdout format raw daemon")
		}
		if strings.HasPrefix(l, "frontend ") {
			lines = append(lines, "\tlog global", "\toption httplog", "\tcapture request header X-Test-Id len 24")
		}
	}
	cfg := filepath.Join(t.TempDir(), file)
	if err := os.WriteFile(cfg, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	h := &haproxy{log: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan struct{})}
	h.cmd = exec.Command(bin, "-db", "-f", cfg)
	h.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	w := &lockedWriter{b: h.log, mu: h.mu}
	h.cmd.Stdout, h.cmd.Stderr = w, w
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			var events []string // state changes, not the per-request lines
			for _, l := range strings.Split(h.output(), "\n") {
				if strings.HasPrefix(l, "[") {
					events = append(events, l)
				}
			}
			t.Logf("haproxy %s events:\n%s", file, strings.Join(events, "\n"))
		}
	})
	return h
}

func (h *haproxy) stop() {
	if h.cmd.Process != nil {
		_ = h.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			_ = h.cmd.Process.Kill()
			<-h.done
		}
	}
}

func (h *haproxy) output() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.log.String()
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// result is one answer of the API.
type result struct {
	status     int
	retryAfter string
	envelope   bool // the body is a Gatehouse envelope (not an error page of the proxy)
	code       string
	data       json.RawMessage
	raw        []byte
	err        error
	start, end time.Time
	what       string
	id         string // X-Test-Id
}

// api is a client of one base URL.
type api struct {
	base   string
	client *http.Client
}

func newAPI(base string) *api {
	return &api{base: base, client: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 32},
	}}
}

func (a *api) do(method, path, bearer string, body any) result {
	r := result{what: method + " " + path, start: time.Now(), id: strconv.FormatInt(testIDs.Add(1), 10)}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, a.base+path, rd)
	if err != nil {
		r.err = err
		return r
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Test-Id", r.id)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := a.client.Do(req)
	r.end = time.Now()
	if err != nil {
		r.err = err
		return r
	}
	r.raw, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	r.end = time.Now()
	r.status = resp.StatusCode
	r.retryAfter = resp.Header.Get("Retry-After")
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  *struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(r.raw, &env) == nil && env.Status != "" && resp.Header.Get("X-Request-Id") != "" {
		r.envelope = true
		r.data = env.Data
		if env.Error != nil {
			r.code = env.Error.Code
		}
	}
	return r
}

// must checks the status of r and decodes its data into v (when v is not nil).
func must(t *testing.T, r result, status int, v any) {
	t.Helper()
	if r.err != nil || r.status != status {
		t.Fatalf("%s: got %d %v %s, want %d", r.what, r.status, r.err, r.raw, status)
	}
	if v != nil {
		if err := json.Unmarshal(r.data, v); err != nil {
			t.Fatalf("%s: %v\n%s", r.what, err, r.raw)
		}
	}
}
