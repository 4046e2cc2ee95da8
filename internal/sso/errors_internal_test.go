package sso

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
)

// TestBrowserErrorsUseTheOneWriter: the JSON errors of the browser endpoints are the API's
// envelope from the one writer (rest.WriteError), so that they keep what the error asks of the
// response: Retry-After of a rate limit, the challenge of a 401, Retry-After of a 503. Internal
// causes are logged, never sent.
func TestBrowserErrorsUseTheOneWriter(t *testing.T) {
	var log bytes.Buffer
	now := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	h := &handlers{s: &Service{log: slog.New(slog.NewJSONHandler(&log, nil)), now: func() time.Time { return now }}}
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
		header map[string]string
	}{
		{"rate limited", &gatehouse.Error{Code: gatehouse.ERateLimited, Message: "slow down", RetryAfter: 2500 * time.Millisecond},
			http.StatusTooManyRequests, "rate_limited", map[string]string{"Retry-After": "3"}},
		{"challenge", &gatehouse.Error{Code: gatehouse.EUnauthenticated, Message: "no", Challenge: `Bearer error="invalid_token"`, Reason: "sso_failed"},
			http.StatusUnauthorized, "sso_failed", map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`}},
		{"unavailable", gatehouse.Errorf(gatehouse.EUnavailable, "the identity provider cannot be reached"),
			http.StatusServiceUnavailable, "unavailable", map[string]string{"Retry-After": "1"}},
		{"internal", gatehouse.Errorf(gatehouse.EInternal, "dial tcp db.internal:5432"),
			http.StatusInternalServerError, "internal", nil},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/sso/saml/login", nil)
		req.Header.Set("Accept", "application/json")
		h.serve(func(w http.ResponseWriter, r *http.Request) error { return h.page(w, r, tc.err) }).ServeHTTP(rec, req)
		var env struct {
			Status string `json:"status"`
			Error  struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
			Meta struct {
				Version   int    `json:"version"`
				Timestamp string `json:"timestamp"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, rec.Body)
		}
		if rec.Code != tc.status || env.Status != "error" || env.Error.Code != tc.code || env.Meta.Version != 1 || env.Meta.Timestamp != "2026-12-07T20:00:00Z" {
			t.Errorf("%s: %d %+v", tc.name, rec.Code, env)
		}
		for k, v := range tc.header {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", tc.name, k, got, v)
			}
		}
		if strings.Contains(rec.Body.String(), "db.internal") {
			t.Errorf("%s: the cause is sent: %s", tc.name, rec.Body)
		}
	}
	if !strings.Contains(log.String(), "db.internal") {
		t.Errorf("the internal cause is not logged:\n%s", log.String())
	}
}

// TestBrowserErrorPage: a browser is answered with the pages' one error page, under the stricter
// headers of the SSO endpoints; an internal error shows a reference to the logged cause.
func TestBrowserErrorPage(t *testing.T) {
	var log bytes.Buffer
	pages := &recordingPages{}
	h := &handlers{s: &Service{log: slog.New(slog.NewJSONHandler(&log, nil)), now: time.Now}, pages: pages}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/sso/oidc/corp/callback", nil)
	if err := h.page(rec, req, gatehouse.Errorf(gatehouse.EInternal, "dial tcp db.internal:5432")); err != nil {
		t.Fatal(err)
	}
	if pages.status != http.StatusInternalServerError || pages.title != "Sign-in did not complete" ||
		!strings.Contains(pages.message, "reference") || strings.Contains(pages.message, "db.internal") {
		t.Errorf("error page: %d %q %q", pages.status, pages.title, pages.message)
	}
	if rec.Header().Get("Referrer-Policy") != "no-referrer" || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("headers: %v", rec.Header())
	}
	if !strings.Contains(log.String(), "db.internal") {
		t.Errorf("the cause is not logged:\n%s", log.String())
	}
}

type recordingPages struct {
	status         int
	title, message string
}

func (p *recordingPages) Handle(string, http.Handler) {}

func (p *recordingPages) ErrorPage(w http.ResponseWriter, _ *http.Request, status int, title, message string) {
	p.status, p.title, p.message = status, title, message
	w.WriteHeader(status)
}
