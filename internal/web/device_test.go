package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
)

// A page sign-in sets the sign-in device cookie (__Host- prefixed, Secure, HttpOnly over TLS)
// and the login form honours it: while failures from elsewhere slow the account down, the
// browser that holds it signs in and another browser is refused with 429.
func TestDeviceCookieWebSignIn(t *testing.T) {
	s := startSite(t, siteOptions{tls: true})
	const owner = "pages-owner@example.com"
	s.createUser(owner, strongPassword)
	home := s.browser()
	r := home.expect(home.post("/login", url.Values{"email": {owner}, "password": {strongPassword}}), http.StatusSeeOther, "")
	var set string
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "__Host-gatehouse_signin_device=") {
			set = c
		}
	}
	if set == "" {
		t.Fatalf("no __Host-gatehouse_signin_device cookie: %q", r.header.Values("Set-Cookie"))
	}
	for _, attr := range []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age=15552000"} {
		if !strings.Contains(set, attr) {
			t.Errorf("device cookie lacks %s: %s", attr, set)
		}
	}
	if strings.Contains(set, "Domain=") {
		t.Errorf("a __Host- cookie must not name a domain: %s", set)
	}
	home.expect(home.post("/logout", nil), http.StatusSeeOther, "/login")

	// Failures from many addresses: the account's backoff runs.
	for i, failures := 0, 0; failures < 20; i++ {
		_, err := s.app.Auth.Login(context.Background(), auth.LoginInput{Email: owner, Password: fmt.Sprintf("guess %d", i),
			Client: auth.Client{IP: fmt.Sprintf("203.0.113.%d", i%10)}})
		switch gatehouse.ErrorCode(err) {
		case gatehouse.EUnauthenticated:
			failures++
		case gatehouse.ERateLimited:
			s.clock.Advance(16 * time.Minute)
		default:
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	stranger := s.browser()
	r = stranger.post("/login", url.Values{"email": {owner}, "password": {strongPassword}})
	stranger.expect(r, http.StatusTooManyRequests, "")
	// The browser with the cookie signs in at once.
	home.expect(home.post("/login", url.Values{"email": {owner}, "password": {strongPassword}}), http.StatusSeeOther, "/profile")
}

// Over plain HTTP (COOKIE_SECURE=auto) the cookie has no __Host- prefix and is not Secure,
// like the session cookie.
func TestDeviceCookiePlainHTTP(t *testing.T) {
	s := startSite(t, siteOptions{})
	const owner = "plain-owner@example.com"
	s.createUser(owner, strongPassword)
	b := s.browser()
	r := b.expect(b.post("/login", url.Values{"email": {owner}, "password": {strongPassword}}), http.StatusSeeOther, "")
	found := false
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "gatehouse_signin_device=") {
			found = true
			if strings.Contains(c, "Secure") {
				t.Errorf("plain-HTTP cookie is Secure: %s", c)
			}
		}
	}
	if !found {
		t.Fatalf("no gatehouse_signin_device cookie: %q", r.header.Values("Set-Cookie"))
	}
}
