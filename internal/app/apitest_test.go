package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/apidoc/apidoctest"
	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/mail/mailtest"
	"github.com/gatehousehq/gatehouse/internal/testclock"
)

// env is one running Gatehouse on a fresh database, with an SMTP server when mail is on.
type env struct {
	t     *testing.T
	app   *app.App
	srv   *httptest.Server
	clock *testclock.Clock
	smtp  *mailtest.Server
}

// testConfig is the configuration the API tests run with: cheap bcrypt (the cost is not what
// is tested here) and the given database.
func testConfig(db config.DB) *config.Config {
	cfg := config.Defaults()
	cfg.DB = db
	cfg.Security.BcryptCost = 4
	cfg.PublicURL = "https://gatehouse.test"
	cfg.JWT.Issuer = cfg.PublicURL
	return cfg
}

// start boots the app with cfg; withMail adds an in-process SMTP server.
func start(t *testing.T, cfg *config.Config, withMail bool) *env {
	t.Helper()
	return startWith(t, cfg, withMail, app.Options{})
}

// startWith is start with options (the clock is the env's); before runs on the app before its
// handler is built (to add a host's routes).
func startWith(t *testing.T, cfg *config.Config, withMail bool, opts app.Options, before ...func(*app.App)) *env {
	t.Helper()
	e := &env{t: t, clock: testclock.New(time.Now().UTC().Truncate(time.Second))}
	if withMail {
		e.smtp = mailtest.Start(t, mailtest.Options{})
		cfg.SMTP = config.SMTP{Host: "127.0.0.1", Port: e.smtp.Port(), From: "Gatehouse <no-reply@gatehouse.test>", TLS: "none"}
	}
	opts.Now = e.clock.Now
	a, err := app.New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.app = a
	for _, f := range before {
		f(a)
	}
	// Every answer is checked against the OpenAPI document the server serves.
	e.srv = httptest.NewServer(apidoctest.Handler(t, a.Handler(), apidoctest.FromServer(a)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() {
		e.srv.Close()
		cancel()
		<-done
		_ = a.Close()
	})
	return e
}

// openAPIDocument reports whether path is one of the API's OpenAPI documents, which answer the
// bare document instead of the envelope (docs/api.md, "The OpenAPI document"); their errors
// (a retired version's 410) are envelopes.
func openAPIDocument(path string) bool {
	return strings.HasSuffix(path, "/openapi.json") || strings.HasSuffix(path, "/openapi.yaml")
}

// response is a decoded envelope.
type response struct {
	Status int
	Header http.Header
	Body   struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  *struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		} `json:"error"`
		Meta struct {
			Version    int    `json:"version"`
			NextCursor string `json:"next_cursor"`
		} `json:"meta"`
	}
	Raw []byte
}

// data decodes the envelope's data into v.
func (r *response) data(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body.Data, v); err != nil {
		t.Fatalf("data: %v\n%s", err, r.Raw)
	}
}

func (r *response) code() string {
	if r.Body.Error == nil {
		return ""
	}
	return r.Body.Error.Code
}

// do sends a request; body is JSON-encoded unless it is a string (sent as is).
func (e *env) do(method, path, bearer string, body any) *response {
	e.t.Helper()
	return e.doWithHeader(method, path, bearer, body, "", "")
}

// doWithHeader is do with one extra request header (for example If-Match).
func (e *env) doWithHeader(method, path, bearer string, body any, header, value string) *response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if header != "" {
		req.Header.Set(header, value)
	}
	return e.send(req)
}

// send sends req and reads the answer; every answer under /api/ must be the envelope, except the
// OpenAPI documents and the pages' API reference and its files.
func (e *env) send(req *http.Request) *response {
	e.t.Helper()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out := &response{Status: resp.StatusCode, Header: resp.Header}
	out.Raw, _ = io.ReadAll(resp.Body)
	path := req.URL.Path
	if strings.HasPrefix(path, "/api/") && (!openAPIDocument(path) || resp.StatusCode != http.StatusOK) &&
		path != "/api/docs" && !strings.HasPrefix(path, "/api/docs/swagger-ui") {
		if err := json.Unmarshal(out.Raw, &out.Body); err != nil {
			e.t.Fatalf("%s %s: not an envelope: %v\n%s", req.Method, path, err, out.Raw)
		}
	}
	return out
}

// expect fails unless the response has the status (and, for errors, the code).
func (e *env) expect(r *response, status int, code string) {
	e.t.Helper()
	if r.Status != status || r.code() != code {
		e.t.Fatalf("got %d %q, want %d %q\n%s", r.Status, r.code(), status, code, r.Raw)
	}
}

type tokens struct {
	AccessToken            string `json:"access_token"`
	RefreshToken           string `json:"refresh_token"`
	TokenType              string `json:"token_type"`
	ExpiresIn              int    `json:"expires_in"`
	Scope                  string `json:"scope"`
	PasswordChangeRequired bool   `json:"password_change_required"`
}

func (e *env) login(email, password string) tokens {
	e.t.Helper()
	r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": password})
	e.expect(r, http.StatusOK, "")
	var tk tokens
	r.data(e.t, &tk)
	return tk
}

// createUser makes an account the way the CLI and admins do.
func (e *env) createUser(email, password string, roles ...string) {
	e.t.Helper()
	rs := make([]gatehouse.Role, len(roles))
	for i, r := range roles {
		rs[i] = gatehouse.Role(r)
	}
	if _, err := e.app.Auth.CreateUser(context.Background(), email, password, rs, true); err != nil {
		e.t.Fatal(err)
	}
}

var linkToken = regexp.MustCompile(`https://gatehouse\.test(/[a-z-]+)\?token=([A-Z2-7]+)`)

// mailedToken waits for a message to `to` and returns the path and token of its link.
func (e *env) mailedToken(to string) (path, tok string, msg mailtest.Message) {
	e.t.Helper()
	msg = e.smtp.WaitFor(e.t, to, 20*time.Second)
	m := linkToken.FindStringSubmatch(msg.Text)
	if m == nil {
		e.t.Fatalf("no link in the message to %s:\n%s", to, msg.Text)
	}
	return m[1], m[2], msg
}
