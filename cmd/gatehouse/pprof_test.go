package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

func pprofAddr(logs string) string {
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && strings.HasPrefix(line.Msg, "profiler listening") {
			return line.Addr
		}
	}
	return ""
}

func fetch(t *testing.T, url string) (int, string) {
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
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// DEBUG_PPROF_ADDR serves the profiler on its own loopback listener, never on HTTP_ADDR; without
// it there is no profiler at all.
func TestDebugPprof(t *testing.T) {
	env := map[string]string{"DB_PATH": filepath.Join(t.TempDir(), "g.db"), "HTTP_ADDR": "127.0.0.1:0", "DEBUG_PPROF_ADDR": "127.0.0.1:0"}
	s := boot(t, env)
	addr := pprofAddr(s.logs.String())
	if addr == "" || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("no profiler listening on loopback in the logs:\n%s", s.logs)
	}
	if code, body := fetch(t, "http://"+addr+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Errorf("profiler goroutine profile: %d %.200s", code, body)
	}
	if code, _ := fetch(t, s.url+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ on HTTP_ADDR = %d, want 404", code)
	}

	off := boot(t, map[string]string{"DB_PATH": filepath.Join(t.TempDir(), "g.db"), "HTTP_ADDR": "127.0.0.1:0"})
	if a := pprofAddr(off.logs.String()); a != "" {
		t.Errorf("profiler started without DEBUG_PPROF_ADDR, on %s", a)
	}
}

func TestDebugPprofRefusesNonLoopback(t *testing.T) {
	var out strings.Builder
	env := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "DEBUG_PPROF_ADDR": "0.0.0.0:6060"}
	code := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, &out, &out)
	if code != exitConfig || !strings.Contains(out.String(), "DEBUG_PPROF_ADDR") || !strings.Contains(out.String(), "loopback") {
		t.Errorf("exit %d, output:\n%s\nwant exit %d naming DEBUG_PPROF_ADDR", code, out.String(), exitConfig)
	}
}
