package web

import (
	"net/url"
	"strings"
)

// defaultNext is where a sign-in goes when it was not sent from another page.
const defaultNext = "/profile"

// safeNext returns next when it is a path on this server, and "" otherwise. Only a relative
// path that starts with exactly one slash passes: "//host" and "/\host" are protocol-relative to
// browsers, "https:" and "javascript:" are schemes, and backslashes or control characters are
// read differently by different browsers, so all of them are refused.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' {
		return ""
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return ""
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return ""
	}
	// Decoded, the path must not turn into something protocol-relative either.
	if strings.HasPrefix(u.Path, "//") {
		return ""
	}
	// Going back to the sign-in pages after signing in would only loop.
	switch u.Path {
	case "/login", "/login/2fa", "/logout", "/verify":
		return ""
	}
	return next
}

// nextOr returns the checked next, or def.
func nextOr(next, def string) string {
	if n := safeNext(next); n != "" {
		return n
	}
	return def
}
