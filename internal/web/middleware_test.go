package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
)

// TestFormBodyLimits: a form post larger than the pages accept gets a 413 page and a malformed
// one a 400 page, and neither changes anything.
func TestFormBodyLimits(t *testing.T) {
	s := startSite(t, siteOptions{mail: true, config: func(c *config.Config) { c.Security.Registerable = true }})
	b := s.browser()
	ctx := context.Background()
	before, err := s.app.Store.CountUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("a", 100<<10) + "@example.com"

	r := b.expect(b.post("/register", url.Values{"email": {huge}, "password": {"Long-enough-9"}, "confirm_password": {"Long-enough-9"}}),
		http.StatusRequestEntityTooLarge, "")
	if !strings.Contains(r.body, "Form too large") {
		t.Errorf("413 page does not say why:\n%s", excerpt(r.body))
	}

	// A multipart body is bounded the same way, its file parts included.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("email", "someone@example.com")
	fw, err := mw.CreateFormFile("password", "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(bytes.Repeat([]byte{'x'}, 200<<10))
	_ = mw.Close()
	b.expect(b.postRaw("/register", mw.FormDataContentType(), &body), http.StatusRequestEntityTooLarge, "")

	r = b.expect(b.postRaw("/login", "application/x-www-form-urlencoded", strings.NewReader("email=%zz&password=x")),
		http.StatusBadRequest, "")
	if !strings.Contains(r.body, "Form not understood") {
		t.Errorf("400 page does not say why:\n%s", excerpt(r.body))
	}

	if after, err := s.app.Store.CountUsers(ctx); err != nil || after != before {
		t.Errorf("accounts: %d before the refused registrations, %d (%v) after", before, after, err)
	}
}

// postRaw posts body as it is, with the content type given.
func (b *browser) postRaw(path, contentType string, body io.Reader) reply {
	b.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, b.site.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

// TestStaticFilesSkipSession: static files and the logo are served without reading the page
// session, so fetching one with the cookie of an ended session leaves the session alone; the
// next page is what notices the end.
func TestStaticFilesSkipSession(t *testing.T) {
	s := startSite(t, siteOptions{})
	u := s.createUser("alice@example.com", strongPassword)
	b := s.browser()
	b.login("alice@example.com", strongPassword, "/profile")
	if err := s.app.Auth.LogoutAll(context.Background(), &gatehouse.Principal{User: u}, auth.Client{}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/static/app.css", "/logo", "/logo/mark"} {
		r := b.expect(b.get(path), http.StatusOK, "")
		if c := r.header.Values("Set-Cookie"); len(c) != 0 {
			t.Errorf("%s read the page session: Set-Cookie %q", path, c)
		}
	}
	r := b.expect(b.get("/profile"), http.StatusSeeOther, "/login?next=%2Fprofile")
	if len(r.header.Values("Set-Cookie")) == 0 {
		t.Error("the page after the logout did not end the page session")
	}
}

// TestStaticNoDirectoryListing: /static/ serves files, never a listing of a directory.
func TestStaticNoDirectoryListing(t *testing.T) {
	s := startSite(t, siteOptions{})
	b := s.browser()
	// The mux redirects /static and /static/./ to /static/, which is a 404 like every directory.
	for _, p := range []string{"/static/", "/static/nope.css", "/static/app.css/"} {
		r := b.get(p)
		if r.status != http.StatusNotFound || strings.Contains(r.body, "webauthn.js") {
			t.Errorf("GET %s = %d:\n%s", p, r.status, excerpt(r.body))
		}
	}
	b.expect(b.get("/static/app.css"), http.StatusOK, "")
}
