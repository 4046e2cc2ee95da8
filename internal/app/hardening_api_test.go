package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/apidoc/apidoctest"
	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// TestConfusableEmailRefused: an address that looks like an existing account's (UTS #39
// skeleton) gets no account, through registration (silently, like a taken address), admin
// creation, an admin's change of address or the command line; nor does an IP-literal domain.
// Accounts written before the skeleton column existed are backfilled at start-up.
func TestConfusableEmailRefused(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.Security.Registerable = true
		e := start(t, cfg, false)
		root := e.rootAdmin()
		e.createUser("paypal@example.com", strongPassword, "viewer")
		ctx := context.Background()

		// Cyrillic "а" (U+0430) in place of the Latin "a".
		lookalike := "p\u0430ypal@example.com"
		fresh := e.do("POST", "/api/v1/auth/register", "", map[string]string{"email": "someone@example.com", "password": strongPassword})
		e.expect(fresh, http.StatusAccepted, "")
		r := e.do("POST", "/api/v1/auth/register", "", map[string]string{"email": lookalike, "password": strongPassword})
		e.expect(r, http.StatusAccepted, "")
		if string(r.Body.Data) != string(fresh.Body.Data) {
			t.Errorf("registration of a look-alike answers differently:\n%s\n%s", r.Raw, fresh.Raw)
		}
		if _, err := e.app.Store.UserByEmail(ctx, lookalike); err == nil {
			t.Fatal("the look-alike address got an account through registration")
		}

		for _, addr := range []string{lookalike, "PAYPA1@example.com", "paypal@exarnple.com"} {
			r = e.do("POST", "/api/v1/users", root, map[string]any{"email": addr, "password": strongPassword2})
			e.expect(r, http.StatusConflict, "email_confusable")
			if !strings.Contains(r.Body.Error.Fields["email"], "looks like the address of another account") {
				t.Errorf("admin creation of %q: %s", addr, r.Raw)
			}
		}
		if _, err := e.app.Auth.CreateUser(ctx, lookalike, strongPassword, nil, true); err == nil {
			t.Error("the command line created a look-alike account")
		}
		// The same address in other letter cases is the unique index's conflict, not this one.
		e.expect(e.do("POST", "/api/v1/users", root, map[string]any{"email": "PayPal@example.com", "password": strongPassword2}),
			http.StatusConflict, "conflict")

		// An admin cannot move another account onto a look-alike address either.
		other := e.do("POST", "/api/v1/users", root, map[string]any{"email": "other@example.com", "password": strongPassword2})
		e.expect(other, http.StatusCreated, "")
		var u userObj
		other.data(t, &u)
		r = e.do("PATCH", "/api/v1/users/"+itoa(u.ID), root, map[string]any{"email": lookalike})
		e.expect(r, http.StatusConflict, "email_confusable")

		for _, addr := range []string{"user@[127.0.0.1]", "user@127.0.0.1", "user@[IPv6:::1]"} {
			r = e.do("POST", "/api/v1/users", root, map[string]any{"email": addr, "password": strongPassword2})
			if r.Status != http.StatusBadRequest || r.Body.Error == nil || r.Body.Error.Fields["email"] == "" {
				t.Errorf("admin creation of %q = %d %s, want 400 naming email", addr, r.Status, r.Raw)
			}
			r = e.do("POST", "/api/v1/auth/register", "", map[string]string{"email": addr, "password": strongPassword})
			e.expect(r, http.StatusBadRequest, "invalid")
		}

		// A row without a skeleton (written before migration 00040) is backfilled by Migrate, and
		// then protects its address like any other.
		if _, err := e.app.Store.DB().ExecContext(ctx, "UPDATE users SET email_skeleton = NULL WHERE email_lower = 'other@example.com'"); err != nil {
			t.Fatal(err)
		}
		if found, err := e.app.Store.EmailConfusable(ctx, "0ther@example.com", 0); err != nil || found {
			t.Fatalf("before the backfill: found %v, %v", found, err)
		}
		if _, err := e.app.Store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if found, err := e.app.Store.EmailConfusable(ctx, "0ther@example.com", 0); err != nil || !found {
			t.Fatalf("after the backfill: found %v, %v", found, err)
		}
		if found, _ := e.app.Store.EmailConfusable(ctx, "brother@example.com", 0); found {
			t.Error("an unrelated address was found confusable")
		}
	})
}

// TestNullBodyRefused: a JSON null where an object is expected is refused like [] or 42.
func TestNullBodyRefused(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		root := e.rootAdmin()
		for _, body := range []string{"null", " null\n", "[]", "42"} {
			for _, rt := range []struct{ method, path string }{
				{"PATCH", "/api/v1/me"}, {"POST", "/api/v1/teams"}, {"POST", "/api/v1/auth/login"},
			} {
				r := e.do(rt.method, rt.path, root, body)
				if r.Status != http.StatusBadRequest || r.code() != "invalid" || !strings.Contains(r.Body.Error.Message, "request body must be") {
					t.Errorf("%s %s with %q = %d %s", rt.method, rt.path, body, r.Status, r.Raw)
				}
			}
		}
	})
}

// TestLogoutEmptyJSONBody: logout takes no body, so an empty one with Content-Type:
// application/json (what many clients send on every POST) signs out like no body at all.
func TestLogoutEmptyJSONBody(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("alice@example.com", strongPassword, "viewer")
		tk := e.login("alice@example.com", strongPassword)
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.srv.URL+"/api/v1/auth/logout", strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("logout with an empty JSON body = %d %s", resp.StatusCode, b)
		}
		e.expect(e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tk.RefreshToken}), http.StatusUnauthorized, "unauthenticated")
		// A body that is there must still be valid.
		tk = e.login("alice@example.com", strongPassword)
		e.expect(e.do("POST", "/api/v1/auth/logout", tk.AccessToken, "{"), http.StatusBadRequest, "invalid")
	})
}

// TestVersionDetailsAdminOnly: the Go version and build details go to authenticated admins only.
func TestVersionDetailsAdminOnly(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		root := e.rootAdmin()
		e.createUser("viewer@example.com", strongPassword, "viewer")
		viewer := e.login("viewer@example.com", strongPassword).AccessToken
		for who, bearer := range map[string]string{"anonymous": "", "viewer": viewer} {
			r := e.do("GET", "/api/v1/version", bearer, nil)
			e.expect(r, http.StatusOK, "")
			var d map[string]any
			r.data(t, &d)
			if _, ok := d["go_version"]; ok || d["build"] != nil || d["version"] == nil || d["api_versions"] == nil {
				t.Errorf("%s sees %s", who, r.Body.Data)
			}
		}
		r := e.do("GET", "/api/v1/version", root, nil)
		e.expect(r, http.StatusOK, "")
		var d struct {
			GoVersion string `json:"go_version"`
			Build     *struct {
				GOOS string `json:"goos"`
			} `json:"build"`
		}
		r.data(t, &d)
		if !strings.HasPrefix(d.GoVersion, "go") || d.Build == nil || d.Build.GOOS == "" {
			t.Errorf("admin sees %s", r.Body.Data)
		}
	})
}

// TestNamesRefuseControlChars: team and project names refuse control, bidi and invisible
// formatting characters with a field error; descriptions may have line breaks (and bidi marks) but no other control characters.
func TestNamesRefuseControlChars(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		root := e.rootAdmin()
		bad := map[string]string{
			"right-to-left override": "invoice\u202Efdp.exe",
			"isolate":                "team\u2066x\u2069",
			"bell":                   "team\a",
			"newline":                "two\nlines",
			"zero-width space":       "te\u200Bam",
			"line separator":         "a\u2028b",
		}
		for what, name := range bad {
			r := e.do("POST", "/api/v1/teams", root, map[string]any{"name": name})
			e.expect(r, http.StatusBadRequest, "invalid")
			if !strings.HasPrefix(r.Body.Error.Fields["name"], "must not contain") {
				t.Errorf("team name with %s: %s", what, r.Raw)
			}
		}
		r := e.do("POST", "/api/v1/teams", root, map[string]any{"name": "Family 👨\u200D👩\u200D👧", "description": "line one\nline two\ttabbed"})
		e.expect(r, http.StatusCreated, "")
		var team struct {
			ID int64 `json:"id"`
		}
		r.data(t, &team)
		r = e.do("POST", "/api/v1/teams", root, map[string]any{"name": "ok", "description": "x\u0007y"})
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["description"] == "" {
			t.Errorf("description with an override: %s", r.Raw)
		}
		r = e.do("PATCH", "/api/v1/teams/"+itoa(team.ID), root, map[string]any{"name": "x\u202Dy"})
		e.expect(r, http.StatusBadRequest, "invalid")
		r = e.do("POST", "/api/v1/teams/"+itoa(team.ID)+"/projects", root, map[string]any{"name": "p\u0007"})
		e.expect(r, http.StatusBadRequest, "invalid")
		if r.Body.Error.Fields["name"] != "must not contain control characters" {
			t.Errorf("project name with a control character: %s", r.Raw)
		}
	})
}

// logBuffer collects JSON log lines from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startTLS boots the app with a logger into logs and serves it over TLS.
func startTLS(t *testing.T, cfg *config.Config, logs io.Writer) (*app.App, *httptest.Server) {
	t.Helper()
	a, err := app.New(context.Background(), cfg, app.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(apidoctest.Handler(t, a.Handler(), apidoctest.FromServer(a)))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(func() {
		srv.Close()
		_ = a.Close()
	})
	return a, srv
}

// TestHSTSOnEveryTLSResponse: every answer over TLS carries HSTS: API (success, errors, 404),
// operations, pages, static files and the SSO paths.
func TestHSTSOnEveryTLSResponse(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		_, srv := startTLS(t, testConfig(db), io.Discard)
		c := srv.Client()
		for _, rt := range []struct{ method, path, body string }{
			{"GET", "/api/v1/health", ""}, {"GET", "/api/v1/version", ""}, {"GET", "/api/v1/nope", ""},
			{"GET", "/api/v9/x", ""}, {"GET", "/api/v1/me", ""}, {"POST", "/api/v1/auth/login", "{"},
			{"GET", "/healthz", ""}, {"GET", "/readyz", ""}, {"GET", "/metrics", ""},
			{"GET", "/.well-known/jwks.json", ""}, {"GET", "/login", ""}, {"GET", "/no-such-page", ""},
			{"GET", "/static/app.css", ""}, {"GET", "/static/", ""}, {"GET", "/sso/oidc/x/login", ""},
		} {
			req, err := http.NewRequestWithContext(context.Background(), rt.method, srv.URL+rt.path, strings.NewReader(rt.body))
			if err != nil {
				t.Fatal(err)
			}
			if rt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=63072000" {
				t.Errorf("%s %s (%d): Strict-Transport-Security = %q", rt.method, rt.path, resp.StatusCode, got)
			}
		}
	})
}

// TestAccessLogRedactsSecrets: the API's and the pages' access logs redact every query
// parameter whose name contains token, key, secret, password, code or sig.
func TestAccessLogRedactsSecrets(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		var logs logBuffer
		_, srv := startTLS(t, testConfig(db), &logs)
		c := srv.Client()
		// The values are sentinels no random request id, key id or timestamp can contain.
		secrets := "token=zq-secret-1&API_KEY=zq-secret-2&client_secret=zq-secret-3&Password=zq-secret-4&code=zq-secret-5&SigAlg=zq-secret-6&Signature=zq-secret-7&x-api-key=zq-secret-8&state=visible"
		for _, p := range []string{"/api/v1/health?", "/reset-password?", "/login?", "/sso/saml/x/acs?"} {
			resp, err := c.Get(srv.URL + p + secrets)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
		}
		deadline := time.Now().Add(5 * time.Second)
		var lines []map[string]any
		for {
			lines = lines[:0]
			for line := range strings.SplitSeq(logs.String(), "\n") {
				var rec map[string]any
				if json.Unmarshal([]byte(line), &rec) == nil && (rec["msg"] == "http request" || rec["msg"] == "page") {
					lines = append(lines, rec)
				}
			}
			if len(lines) >= 4 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(lines) < 4 {
			t.Fatalf("%d access log lines:\n%s", len(lines), logs.String())
		}
		for _, rec := range lines {
			path, _ := rec["path"].(string)
			if !strings.Contains(path, "state=visible") || strings.Contains(path, "zq-secret") {
				t.Errorf("%s log path = %q", rec["msg"], path)
			}
		}
		if all := logs.String(); strings.Contains(all, "zq-secret") {
			t.Errorf("a secret reached the log:\n%s", all)
		}
	})
}
