package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

const healthcheckHelp = `Usage: gatehouse healthcheck [--live] [--timeout 5s]

Asks the Gatehouse running on this host (HTTP_ADDR, over HTTPS when TLS_CERT_FILE is set) whether
it is ready: GET /readyz (database reachable and migrated), or with --live GET /healthz (the
process serves). Exits 0 on 200, 1 otherwise. Made for container health checks: the image has
no shell or curl.
`

func cmdHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := newFlagSet("healthcheck", stderr)
	live := fs.Bool("live", false, "check liveness (/healthz) instead of readiness (/readyz)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if code, done := parseArgs(fs, healthcheckHelp, args, stdout, stderr); done {
		return code
	}
	cfg, _, ok := loadConfig(getenv, io.Discard, stderr)
	if !ok {
		return exitFail
	}
	path := "/readyz"
	if *live {
		path = "/healthz"
	}
	url := healthcheckURL(cfg.HTTPAddr, cfg.TLSCertFile != "") + path
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{
		// The check talks to this host's own listener by IP address, which the certificate does
		// not name; it checks that the service answers, not who it is.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // #nosec G402 -- loopback health probe, no credentials sent
		Proxy:           nil,                                   // never through HTTP_PROXY
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "gatehouse healthcheck: %v\n", err)
		return exitFail
	}
	resp, err := client.Do(req)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "gatehouse healthcheck: %v\n", err)
		return exitFail
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = fmt.Fprintf(stderr, "gatehouse healthcheck: GET %s: %s\n", url, resp.Status)
		return exitFail
	}
	_, _ = fmt.Fprintf(stdout, "ok: GET %s: %s\n", url, resp.Status)
	return exitOK
}

// healthcheckURL turns the listen address into one to connect to: a wildcard or empty host means
// the loopback address of the same family.
func healthcheckURL(addr string, useTLS bool) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = "", addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
