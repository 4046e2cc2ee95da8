package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/rest"
)

// contentSecurityPolicy allows nothing but this origin's own files: no inline script (the one
// script is an external file), no framing, forms posting only here, and data: images for the
// TOTP QR code.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"

// securityHeaders sets the headers every page response carries.
func (w *Web) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h := rw.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		// same-origin: our own pages still send a Referer to us, but no address (a reset link's
		// token) leaves for another site.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if w.overTLS(r) {
			h.Set("Strict-Transport-Security", "max-age=63072000")
		}
		next.ServeHTTP(rw, r)
	})
}

// noStore keeps account pages out of every cache (the browser's back button included), so a
// page with personal data or a one-time secret is never shown from a cache to the next user.
func noStore(rw http.ResponseWriter) {
	rw.Header().Set("Cache-Control", "no-store")
	rw.Header().Set("Pragma", "no-cache")
}

// crossOriginDenied answers a POST that http.CrossOriginProtection refused.
func (w *Web) crossOriginDenied(rw http.ResponseWriter, r *http.Request) {
	w.log.Warn("cross-origin form post refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"),
		"sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	w.errorPage(rw, r, http.StatusForbidden, "Request refused",
		"This form was sent from another site, so it was not accepted. Go back, reload the page and try again.")
}

// statusWriter records the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logState is filled in while a request is served, for its access log line.
type logState struct {
	userID    int64
	route     string // the matched pattern (noteRoute); "" when none matched
	requestID string // also on the request's error lines (logFailure)
}

type logStateKey struct{}

// accessLog logs one line per page request. Queries carry reset, confirmation and invitation
// tokens, SSO codes and SAML signatures: their values are redacted exactly as in the API's log.
func (w *Web) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// The same request id as the API's (the caller's X-Request-ID when sane, echoed), and
		// the same client address, so that a page request can be followed and told apart too.
		id := transport.RequestID(rw, r)
		st := &logState{requestID: id}
		sw := &statusWriter{ResponseWriter: rw}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), logStateKey{}, st)))
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		attrs := []any{"method", r.Method, "path", transport.RedactedURI(r.URL), "route", transport.RouteLabel(st.route),
			"status", status, "duration_ms", time.Since(start).Milliseconds(),
			"request_id", id, "remote_ip", rest.ClientIP(r, w.trusted), "proto", r.Proto}
		if st.userID != 0 {
			attrs = append(attrs, "user_id", st.userID)
		}
		w.log.Info("page", attrs...)
	})
}

// noteRoute wraps a route's handler so that the access log names the route that served it.
func noteRoute(pattern string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if st, ok := r.Context().Value(logStateKey{}).(*logState); ok {
			st.route = pattern
		}
		h.ServeHTTP(rw, r)
	})
}

// logUser notes the signed-in account for the access log.
func logUser(r *http.Request, id int64) {
	if st, ok := r.Context().Value(logStateKey{}).(*logState); ok {
		st.userID = id
	}
}

// recoverPanics is the one panic recovery (transport.Recover) answering with the error page: a
// 500 and one error log line with the stack.
func (w *Web) recoverPanics(next http.Handler) http.Handler {
	started := func(rw http.ResponseWriter, _ *http.Request) bool {
		sw, ok := rw.(*statusWriter)
		return ok && sw.status != 0
	}
	return transport.Recover(next, started, func(rw http.ResponseWriter, r *http.Request, err error) {
		if started(rw, r) {
			// Part of a page went out; a second one would corrupt it. The log line is all we
			// can do, and Recover cuts the connection.
			w.logFailure(r, err)
			return
		}
		w.serverError(rw, r, err)
	})
}

// maxFormBytes bounds the body of a form post of the pages whose route sets no limit. The
// largest form, a security key's registration (its attestation JSON), is a few kilobytes.
const maxFormBytes = 64 << 10

// form reads a form post's body up front, at most limit bytes of it (maxFormBytes when 0), so
// that a handler's PostFormValue (which drops parse errors) never meets an unread or oversized
// body: a larger body gets a 413 page and a malformed one a 400, before anything is changed.
func (w *Web) form(h http.HandlerFunc, limit int64) http.HandlerFunc {
	if limit <= 0 {
		limit = maxFormBytes
	}
	return func(rw http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(rw, r.Body, limit)
		// ParseForm first: ParseMultipartForm would hide its error behind ErrNotMultipart.
		err := r.ParseForm()
		if err == nil {
			if err = r.ParseMultipartForm(limit); errors.Is(err, http.ErrNotMultipart) {
				err = nil
			}
		}
		if err != nil {
			if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
				w.errorPage(rw, r, http.StatusRequestEntityTooLarge, "Form too large",
					"The form sent more than this page accepts. Go back and try again.")
				return
			}
			w.errorPage(rw, r, http.StatusBadRequest, "Form not understood",
				"The form could not be read. Go back, reload the page and try again.")
			return
		}
		h(rw, r)
	}
}
