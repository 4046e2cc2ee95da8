package web_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/mail/mailtest"
	"github.com/gatehousehq/gatehouse/internal/testclock"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// site is one running Gatehouse (API and pages) on a fresh SQLite database, with an SMTP
// server when mail is on: the real app, as the command builds it.
type site struct {
	t     testing.TB
	app   *app.App
	srv   *httptest.Server
	clock *testclock.Clock
	smtp  *mailtest.Server
}

type siteOptions struct {
	mail bool
	tls  bool
	// localhost serves on http://localhost:PORT and makes that PUBLIC_URL (WebAuthn needs a
	// domain name, and mailed links then open in the browser).
	localhost bool
	config    func(*config.Config)
	db        *config.DB
	// wrap, when set, wraps the app's handler (to serve something the app does not).
	wrap func(http.Handler) http.Handler
}

func testConfig(db config.DB) *config.Config {
	cfg := config.Defaults()
	cfg.DB = db
	cfg.Security.BcryptCost = 4
	cfg.PublicURL = "https://gatehouse.test"
	cfg.JWT.Issuer = cfg.PublicURL
	return cfg
}

func startSite(t testing.TB, o siteOptions) *site {
	t.Helper()
	db := testdb.New(t, config.DBSQLite)
	if o.db != nil {
		db = *o.db
	}
	cfg := testConfig(db)
	s := &site{t: t, clock: testclock.New(time.Now().UTC().Truncate(time.Second))}
	if o.mail {
		s.smtp = mailtest.Start(t, mailtest.Options{})
		cfg.SMTP = config.SMTP{Host: "127.0.0.1", Port: s.smtp.Port(), From: "Gatehouse <no-reply@gatehouse.test>", TLS: "none"}
	}
	if o.config != nil {
		o.config(cfg)
	}
	var ln net.Listener
	if o.localhost {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		cfg.PublicURL = fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
		cfg.JWT.Issuer = cfg.PublicURL
	}
	a, err := app.New(context.Background(), cfg, app.Options{Now: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.app = a
	handler := a.Handler()
	if o.wrap != nil {
		handler = o.wrap(handler)
	}
	switch {
	case o.localhost:
		s.srv = httptest.NewUnstartedServer(handler)
		_ = s.srv.Listener.Close()
		s.srv.Listener = ln
		s.srv.Start()
		s.srv.URL = cfg.PublicURL
	case o.tls:
		s.srv = httptest.NewTLSServer(handler)
	default:
		s.srv = httptest.NewServer(handler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() {
		s.srv.Close()
		cancel()
		<-done
		_ = a.Close()
	})
	return s
}

// createUser makes a confirmed account the way admins do.
func (s *site) createUser(email, password string, roles ...gatehouse.Role) *gatehouse.User {
	s.t.Helper()
	u, err := s.app.Auth.CreateUser(context.Background(), email, password, roles, true)
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

// browser is a cookie-keeping client that does not follow redirects, so tests see each step.
type browser struct {
	t    testing.TB
	site *site
	c    *http.Client
	// header is added to every request (for example Sec-Fetch-Site).
	header http.Header
}

func (s *site) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	c := new(http.Client)
	*c = *s.srv.Client() // a copy: each browser has its own cookie jar
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: s.t, site: s, c: c, header: http.Header{}}
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (r reply) location() string { return r.header.Get("Location") }

func (b *browser) do(method, path string, form url.Values, header http.Header) reply {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, b.site.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

func (b *browser) get(path string) reply { b.t.Helper(); return b.do("GET", path, nil, nil) }

func (b *browser) post(path string, form url.Values) reply {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return b.do("POST", path, form, nil)
}

// expect fails unless the reply has the status (and, for a redirect, the location).
func (b *browser) expect(r reply, status int, location string) reply {
	b.t.Helper()
	if r.status != status || (location != "" && r.location() != location) {
		b.t.Fatalf("got %d (Location %q), want %d (Location %q)\n%s", r.status, r.location(), status, location, excerpt(r.body))
	}
	return r
}

// login signs in with the login form and expects the redirect to next.
func (b *browser) login(email, password, next string) {
	b.t.Helper()
	b.expect(b.post("/login", url.Values{"email": {email}, "password": {password}}), http.StatusSeeOther, next)
}

func excerpt(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

// inputValues returns the value attributes of the inputs of a page whose type is one of types.
func inputValues(page string, types ...string) map[string]string {
	out := map[string]string{}
	for _, m := range inputTag.FindAllString(page, -1) {
		typ := attr(m, "type")
		for _, want := range types {
			if typ == want {
				out[attr(m, "name")] = attr(m, "value")
			}
		}
	}
	return out
}

var inputTag = regexp.MustCompile(`<input\b[^>]*>`)

func attr(tag, name string) string {
	m := regexp.MustCompile(`\s` + name + `="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		return ""
	}
	return m[1]
}

var mailLink = regexp.MustCompile(`(?:https://gatehouse\.test|http://localhost:[0-9]+)(/[a-z/-]+)\?token=([A-Z2-7]+)`)

// mailedLink waits for a message to `to` and returns the path and query of its link.
func (s *site) mailedLink(to string) string {
	s.t.Helper()
	msg := s.smtp.WaitFor(s.t, to, 20*time.Second)
	m := mailLink.FindStringSubmatch(msg.Text)
	if m == nil {
		s.t.Fatalf("no link in the message to %s:\n%s", to, msg.Text)
	}
	return m[1] + "?token=" + m[2]
}
