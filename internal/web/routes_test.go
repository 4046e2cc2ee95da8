package web_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/teams"
	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/internal/web"
)

// pagesWith builds a second set of pages over the site's services, with a log it can read, and
// serves handlers (patterns of the route table that the pages do not serve themselves, as
// single sign-on's are) through Handle.
func pagesWith(t *testing.T, s *site, handlers map[string]http.Handler) (*httptest.Server, *syncBuffer) {
	t.Helper()
	var log syncBuffer
	pages, err := web.New(web.Options{Auth: s.app.Auth, Teams: s.app.Teams, Sessions: s.app.Store.WebSessions(), Logger: slog.New(slog.NewJSONHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for pattern, h := range handlers {
		pages.Handle(pattern, h)
	}
	srv := httptest.NewServer(pages)
	t.Cleanup(srv.Close)
	return srv, &log
}

// TestPagePanicRecovered: a page handler that panics is answered with the 500 error page
// through the one recovery, which logs the panic with its stack (and the access log the 500)
// and shows the person nothing of it; a panic after the page started cuts the connection.
func TestPagePanicRecovered(t *testing.T) {
	s := startSite(t, siteOptions{})
	srv, log := pagesWith(t, s, map[string]http.Handler{
		"GET /sso/saml/metadata": http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret panic text") }),
		"GET /sso/saml/login": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<p>half a page"))
			w.(http.Flusher).Flush()
			panic("late panic")
		}),
	})

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sso/saml/metadata", nil)
	req.Header.Set("X-Request-ID", "panic-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "Something went wrong") ||
		!strings.Contains(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("panicking page: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	if strings.Contains(string(body), "secret panic text") || strings.Contains(string(body), "goroutine") {
		t.Errorf("the error page shows the panic:\n%s", body)
	}
	logged := log.String()
	if !strings.Contains(logged, "secret panic text") || !strings.Contains(logged, `"stack":`) || !strings.Contains(logged, `"status":500`) {
		t.Errorf("the panic is not logged with its stack and the 500:\n%s", logged)
	}
	// The failure and the access line carry the request id, as the API's do.
	if n := strings.Count(logged, `"request_id":"panic-1"`); n != 2 {
		t.Errorf("request_id panic-1 on %d lines, want 2 (page failed, page):\n%s", n, logged)
	}

	resp, err = http.Get(srv.URL + "/sso/saml/login")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		_ = resp.Body.Close()
	}
	if err == nil {
		t.Error("a panic after the page started did not cut the connection")
	}
	if !strings.Contains(log.String(), "late panic") {
		t.Error("the late panic is not logged")
	}
}

// TestHandleFollowsTheRouteTable: a route served through Handle gets what the table says of it
// (the SAML consumer takes cross-site posts within its body limit, other posts do not pass the
// cross-origin check), and a pattern the table does not list as a page is refused.
func TestHandleFollowsTheRouteTable(t *testing.T) {
	s := startSite(t, siteOptions{})
	read := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		_, _ = w.Write([]byte("read"))
	})
	srv, _ := pagesWith(t, s, map[string]http.Handler{"POST /sso/saml/acs": read})
	post := func(path string, size int) int {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+path, bytes.NewReader(bytes.Repeat([]byte("a"), size)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://idp.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("/sso/saml/acs", 1000); got != http.StatusOK {
		t.Errorf("cross-site post to the SAML consumer: %d", got)
	}
	if got := post("/sso/saml/acs", 600<<10); got != http.StatusRequestEntityTooLarge {
		t.Errorf("600 KiB to the SAML consumer (limit 512 KiB): %d", got)
	}
	if got := post("/login", 10); got != http.StatusForbidden {
		t.Errorf("cross-site post to /login: %d", got)
	}

	for _, pattern := range []string{"GET /sso/nowhere", "GET /api/v1/me", "POST /login"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%q) was accepted", pattern)
				}
			}()
			pagesWith(t, s, map[string]http.Handler{pattern: read})
		}()
	}
}

// syncBuffer is a log destination that handlers on several goroutines may share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestMailedLinksArePages: the links auth mails open a page of the route table (a GET showing a
// button), and its POST is what consumes the token.
func TestMailedLinksArePages(t *testing.T) {
	for _, path := range []string{auth.EmailChangePath, "/confirm", "/reset-password", teams.AcceptPath} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			if r, ok := transport.Lookup(method + " " + path); !ok || r.Chain != transport.Page {
				t.Errorf("%s %s is not a page route of the route table", method, path)
			}
		}
	}
}
