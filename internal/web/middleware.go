package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gatehousehq/gatehouse/internal/httpapi"
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
type logState struct{ userID int64 }

type logStateKey struct{}

// accessLog logs one line per page request. Queries carry reset, confirmation and invitation
// tokens, SSO codes and SAML signatures: their values are redacted exactly as in the API's log.
func (w *Web) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &logState{}
		sw := &statusWriter{ResponseWriter: rw}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), logStateKey{}, st)))
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		attrs := []any{"method", r.Method, "path", httpapi.RedactedURI(r.URL), "status", status, "duration_ms", time.Since(start).Milliseconds()}
		if st.userID != 0 {
			attrs = append(attrs, "user_id", st.userID)
		}
		w.log.Info("page", attrs...)
	})
}

// logUser notes the signed-in account for the access log.
func logUser(r *http.Request, id int64) {
	if st, ok := r.Context().Value(logStateKey{}).(*logState); ok {
		st.userID = id
	}
}

// recoverPanics turns a panic into the error page and one log line with the stack.
func (w *Web) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			w.log.Error("panic serving a page", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			w.errorPage(rw, r, http.StatusInternalServerError, "Something went wrong",
				"The page could not be shown. Please try again in a moment.")
		}()
		next.ServeHTTP(rw, r)
	})
}

// maxFormBytes bounds the body of every form post of the pages. The largest form, a security
// key's registration (its attestation JSON), is a few kilobytes.
const maxFormBytes = 64 << 10

// form reads a form post's body up front, at most maxFormBytes of it, so that a handler's
// PostFormValue (which drops parse errors) never meets an unread or oversized body: a larger
// body gets a 413 page and a malformed one a 400, before anything is changed.
func (w *Web) form(h http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(rw, r.Body, maxFormBytes)
		// ParseForm first: ParseMultipartForm would hide its error behind ErrNotMultipart.
		err := r.ParseForm()
		if err == nil {
			if err = r.ParseMultipartForm(maxFormBytes); errors.Is(err, http.ErrNotMultipart) {
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
