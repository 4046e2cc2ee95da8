package sso_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/apidoc/apidoctest"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/httpapi"
	"github.com/gatehousehq/gatehouse/internal/license"
	"github.com/gatehousehq/gatehouse/internal/license/licensetest"
	"github.com/gatehousehq/gatehouse/internal/sso"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/teams"
	"github.com/gatehousehq/gatehouse/internal/testclock"
	"github.com/gatehousehq/gatehouse/internal/token"
	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/internal/web"
)

// env is one Gatehouse HTTP server with SSO on a fresh database: the real account service,
// store, license client (talking to the fake license server) and httpapi middleware; only the
// web pages' session is a recorder.
type env struct {
	t        *testing.T
	clk      *testclock.Clock
	st       *store.Store
	auth     *auth.Service
	lic      *license.Client
	licSrv   *licensetest.Server
	sso      *sso.Service
	srv      *httptest.Server
	sessions *recorder
	cfg      config.SSO
}

type envOptions struct {
	// license is the fake server's license; nil runs without a key (community tier).
	license *licensetest.License
	oidc    []config.OIDCProvider
	saml    *config.SAML
	rules   string
	grace   time.Duration
}

// box lets the test server start (and so have its URL, Gatehouse's PUBLIC_URL) before the
// handler that needs the URL exists.
type box struct {
	mu sync.RWMutex
	h  http.Handler
}

func (b *box) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.RLock()
	h := b.h
	b.mu.RUnlock()
	h.ServeHTTP(w, r)
}

func (b *box) set(h http.Handler) {
	b.mu.Lock()
	b.h = h
	b.mu.Unlock()
}

func newEnv(t *testing.T, db config.DB, o envOptions) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e := &env{t: t, clk: testclock.New(time.Now().UTC().Truncate(time.Second)), sessions: &recorder{}}
	st, err := store.Open(ctx, db, store.WithClock(e.clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e.st = st
	key, err := token.GenerateKey(token.AlgEdDSA, e.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	tm, err := token.NewManager(token.Options{Issuer: "https://gatehouse.test", Audience: "gatehouse", Now: e.clk.Now}, key)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := config.ParseRoleMapping(o.rules)
	if err != nil {
		t.Fatal(err)
	}
	e.auth = auth.New(st, testHasher, tm, nil, auth.Options{
		AccessTTL: 15 * time.Minute, RefreshMaxAge: 24 * time.Hour, RefreshMaxIdle: time.Hour, Trackable: true,
		SSO: auth.SSOOptions{DefaultRole: gatehouse.RoleViewer, Rules: rules},
	}, nil, e.clk.Now)

	b := &box{h: http.NotFoundHandler()}
	e.srv = httptest.NewServer(b)
	t.Cleanup(e.srv.Close)

	lo := license.Options{Now: e.clk.Now}
	if o.license != nil {
		e.licSrv = licensetest.New(t, *o.license)
		e.licSrv.SetNow(e.clk.Now)
		lo = license.Options{
			Key: licensetest.ValidKey, ServerURL: e.licSrv.URL, HTTPClient: e.licSrv.Client(), Now: e.clk.Now,
			// Checks follow each other quickly, so that a changed license shows within the test.
			RefreshInterval: 20 * time.Millisecond, RetryMin: 5 * time.Millisecond, GracePeriod: o.grace,
		}
	}
	if e.lic, err = license.New(lo); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { e.lic.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	if o.license != nil {
		e.waitLicense(func(s license.Status) bool { return s.State != license.StatePending })
	}

	e.cfg = config.DefaultSSO()
	e.cfg.RoleMapping = rules
	e.cfg.OIDC = o.oidc
	if o.saml != nil {
		e.cfg.SAML = *o.saml
	}
	e.sso, err = sso.New(ctx, sso.Options{
		Config: e.cfg, PublicURL: e.srv.URL, BrandName: "Gatehouse", Accounts: e.auth, Store: st, License: e.lic, Now: e.clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	b.set(e.compose(e.sso))
	return e
}

// compose assembles the handler as internal/app does: the API (with the SSO API routes) and the
// web pages (with the SSO browser routes mounted), split by the routes they serve.
func (e *env) compose(s *sso.Service) http.Handler {
	e.t.Helper()
	api := httpapi.NewServer(httpapi.Deps{Auth: e.auth, Now: e.clk.Now}, httpapi.WithRoutes(s.APIRoutes()...))
	pages, err := web.New(web.Options{Auth: e.auth, Teams: teams.New(e.st, e.auth, teams.Options{Now: e.clk.Now}), Sessions: e.st.WebSessions(), Now: e.clk.Now, BrandName: "Gatehouse", SSO: s})
	if err != nil {
		e.t.Fatal(err)
	}
	s.Mount(pages, starter{rec: e.sessions, web: pages})
	h, err := transport.Dispatch(slices.Concat(api.Routes(), pages.Routes()), api, pages)
	if err != nil {
		e.t.Fatal(err)
	}
	// Every API answer is checked against the OpenAPI document.
	return apidoctest.Handler(e.t, h, apidoctest.FromServer(api))
}

// secondInstance serves the same Gatehouse (same database, same PUBLIC_URL) from another
// server, as a second instance behind the load balancer would, and returns its URL.
func (e *env) secondInstance() string {
	e.t.Helper()
	s2, err := sso.New(context.Background(), sso.Options{
		Config: e.cfg, PublicURL: e.srv.URL, BrandName: "Gatehouse", Accounts: e.auth, Store: e.st, License: e.lic, Now: e.clk.Now,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	srv := httptest.NewServer(e.compose(s2))
	e.t.Cleanup(srv.Close)
	return srv.URL
}

// waitLicense waits until the license client's status satisfies cond. The client checks every
// few milliseconds; the deadline only stops a broken test from hanging.
func (e *env) waitLicense(cond func(license.Status) bool) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond(e.lic.Status()) {
		if time.Now().After(deadline) {
			e.t.Fatalf("license status never reached the expected state: %+v", e.lic.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder records the sign-ins SSO completes.
type recorder struct {
	mu    sync.Mutex
	pairs []*auth.TokenPair
}

// starter records a sign-in and passes it to the web pages' EstablishSession.
type starter struct {
	rec *recorder
	web *web.Web
}

func (s starter) EstablishSession(w http.ResponseWriter, req *http.Request, pair *auth.TokenPair, remember bool) error {
	s.rec.mu.Lock()
	s.rec.pairs = append(s.rec.pairs, pair)
	s.rec.mu.Unlock()
	return s.web.EstablishSession(w, req, pair, remember)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pairs)
}

func (r *recorder) last() *auth.TokenPair {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pairs) == 0 {
		return nil
	}
	return r.pairs[len(r.pairs)-1]
}

// signedInAs checks that the last recorded sign-in is a working session of email, and returns
// the user.
func (e *env) signedInAs(email string) *gatehouse.User {
	e.t.Helper()
	pair := e.sessions.last()
	if pair == nil {
		e.t.Fatal("no session was established")
	}
	p, err := e.auth.Authenticate(context.Background(), pair.AccessToken)
	if err != nil {
		e.t.Fatalf("the session's access token: %v", err)
	}
	if !strings.EqualFold(p.User.Email, email) || p.SessionID != pair.SessionID {
		e.t.Fatalf("signed in as %s (session %s), want %s (session %s)", p.User.Email, p.SessionID, email, pair.SessionID)
	}
	return p.User
}

// profile opens the profile page in b and checks that it shows the account signed in as email.
func (e *env) profile(b *browser, email string) {
	e.t.Helper()
	p := e.get(b.Client, e.srv.URL+"/profile")
	if p.status != http.StatusOK || !strings.Contains(strings.ToLower(p.body), html.EscapeString(strings.ToLower(email))) {
		e.t.Fatalf("profile page: %d, want one showing %s\n%s", p.status, email, p.body)
	}
}

// browser is an HTTP client with a cookie jar that follows redirects except those that leave
// the SSO endpoints for Gatehouse's pages (the final /profile): the response is then that
// redirect.
type browser struct {
	*http.Client
	jar http.CookieJar
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	host := strings.TrimPrefix(e.srv.URL, "http://")
	return &browser{jar: jar, Client: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == host && !strings.HasPrefix(req.URL.Path, "/sso/") {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

// noRedirect is a client without cookies that follows no redirect.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// noFollow is a client of the same browser (same cookies) that follows no redirect.
func (b *browser) noFollow() *http.Client {
	return &http.Client{Jar: b.jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (e *env) get(c *http.Client, u string, header ...string) page {
	e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.send(c, req)
}

func (e *env) postForm(c *http.Client, u string, form url.Values) page {
	e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.send(c, req)
}

func (e *env) send(c *http.Client, req *http.Request) page {
	e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// envelope decodes a JSON error envelope.
type envelope struct {
	Status string          `json:"status"`
	Data   json.RawMessage `json:"data"`
	Error  *struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

func (p page) envelope(t *testing.T) envelope {
	t.Helper()
	var env envelope
	if err := json.Unmarshal([]byte(p.body), &env); err != nil {
		t.Fatalf("not an envelope (%d): %v\n%s", p.status, err, p.body)
	}
	return env
}

// auditHas reports whether some audit event of the kind has a detail containing substr.
func (e *env) auditHas(event, substr string) bool {
	e.t.Helper()
	evs, _, err := e.st.ListAuditPage(context.Background(), store.AuditQuery{Limit: 200})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Event == event && strings.Contains(ev.Detail, substr) {
			return true
		}
	}
	return false
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	formInput  = regexp.MustCompile(`<input[^>]*name="([^"]*)"[^>]*value="([^"]*)"`)
)

// form reads the first form of an HTML page: its action and its named input values.
func form(t *testing.T, body string) (string, url.Values) {
	t.Helper()
	m := formAction.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form in:\n%s", body)
	}
	vals := url.Values{}
	for _, in := range formInput.FindAllStringSubmatch(body, -1) {
		vals.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), vals
}
