package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBusyPortFailsAtOnce: serve binds HTTP_ADDR before it touches the database, so a port in use
// stops it at once with a message naming HTTP_ADDR, even with a database that would take an hour
// to give up on (nothing listens on 127.0.0.1:1).
func TestBusyPortFailsAtOnce(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = busy.Close() }()
	env := map[string]string{
		"HTTP_ADDR": busy.Addr().String(), "DB_TYPE": "postgres", "DB_HOST": "127.0.0.1:1", "DB_CONNECT_TIMEOUT": "1h",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logs := &syncBuffer{}
	code := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, logs, logs)
	if ctx.Err() != nil {
		t.Fatalf("serve waited for the database instead of failing on the busy port:\n%s", logs)
	}
	if code != exitFail {
		t.Fatalf("exit code %d, want %d", code, exitFail)
	}
	out := logs.String()
	if !strings.Contains(out, "listen on HTTP_ADDR="+busy.Addr().String()) || !strings.Contains(out, "address already in use") {
		t.Fatalf("message does not name HTTP_ADDR and the cause:\n%s", out)
	}
	if strings.Contains(out, "connecting to database") {
		t.Fatalf("the database was tried before the port:\n%s", out)
	}
}

// TestHealthcheck: the container probe exits 0 against a ready service (readiness and
// liveness) and 1 when nothing answers.
func TestHealthcheck(t *testing.T) {
	env := map[string]string{"DB_PATH": filepath.Join(t.TempDir(), "g.db"), "HTTP_ADDR": "127.0.0.1:0"}
	s := boot(t, env)
	addr := strings.TrimPrefix(s.url, "http://")
	_, port, _ := net.SplitHostPort(addr)
	for _, c := range []struct {
		addr string
		args []string
		want int
		out  string
	}{
		{addr, []string{"healthcheck"}, exitOK, "/readyz: 200 OK"},
		{":" + port, []string{"healthcheck", "--live"}, exitOK, "http://127.0.0.1:" + port + "/healthz: 200 OK"},
		{"127.0.0.1:1", []string{"healthcheck", "--timeout", "2s"}, exitFail, ""},
	} {
		var out, errb bytes.Buffer
		hcEnv := map[string]string{"HTTP_ADDR": c.addr, "DB_PATH": env["DB_PATH"]}
		code := run(context.Background(), c.args, func(k string) string { return hcEnv[k] }, &out, &errb)
		if code != c.want || !strings.Contains(out.String(), c.out) {
			t.Errorf("%v on %s: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, c.addr, code, out.String(), errb.String(), c.want, c.out)
		}
	}
}

func TestHealthcheckURL(t *testing.T) {
	for addr, want := range map[string]string{
		":8080": "http://127.0.0.1:8080", "0.0.0.0:80": "http://127.0.0.1:80", "[::]:8443": "http://[::1]:8443",
		"10.0.0.5:8080": "http://10.0.0.5:8080",
	} {
		if got := healthcheckURL(addr, false); got != want {
			t.Errorf("healthcheckURL(%q) = %q, want %q", addr, got, want)
		}
	}
	if got := healthcheckURL(":8443", true); got != "https://127.0.0.1:8443" {
		t.Errorf("TLS: %q", got)
	}
}
