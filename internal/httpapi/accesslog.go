package httpapi

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// accessLog writes one structured line per request. It records only what is safe to keep: never
// bodies, never headers (Authorization, cookies), and query parameters that carry secrets are
// redacted. The duration uses the real monotonic clock, not Deps.Now, which tests freeze.
func (s *server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		start := time.Now()
		completed := false
		defer func() {
			// When a panic is unwinding, the recovery layer outside will answer 500 (or abort a
			// response already started); log what the client will get.
			status := st.rw.statusOr(http.StatusOK)
			if !completed && !st.rw.wroteHeader {
				status = http.StatusInternalServerError
			}
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			if !s.logger.Enabled(r.Context(), level) {
				// At LOG_LEVEL=warn or error most lines are dropped; deciding that first saves
				// building them (the redacted URI, the client IP, a dozen attributes) per request.
				return
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", redactedURI(r.URL)),
				slog.String("route", st.Pattern),
				slog.Int("status", status),
				slog.Int64("bytes", st.rw.bytes),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
				slog.String("request_id", st.ID),
				slog.String("remote_ip", clientIP(r, s.trusted)),
				slog.String("proto", r.Proto),
			}
			if st.userID != 0 {
				attrs = append(attrs, slog.Int64("user_id", st.userID))
			}
			if !completed {
				attrs = append(attrs, slog.Bool("panic", true))
			}
			s.logger.LogAttrs(r.Context(), level, "http request", attrs...)
		}()
		next.ServeHTTP(w, r)
		completed = true
	})
}

// redactedURI returns the path and query with secret-bearing parameter values replaced. The query
// is edited in place rather than parsed and re-encoded, so the log shows what the client sent,
// parameter order and encoding included.
func redactedURI(u *url.URL) string {
	p := u.EscapedPath()
	if u.RawQuery == "" {
		return p
	}
	parts := strings.Split(u.RawQuery, "&")
	for i, part := range parts {
		key, _, hasValue := strings.Cut(part, "=")
		if name, err := url.QueryUnescape(key); err == nil {
			key = name
		}
		if hasValue && isSecretParam(key) {
			parts[i] = part[:strings.IndexByte(part, '=')] + "=REDACTED"
		}
	}
	return p + "?" + strings.Join(parts, "&")
}

// RedactedURI is redactedURI for the page transport's access log, so that both logs redact the
// same parameters.
func RedactedURI(u *url.URL) string { return redactedURI(u) }

// secretParamWords are the parts of a query parameter name that mark its value as a credential:
// one-time tokens in links (token=), OAuth/OIDC tokens and authorization codes, API keys, client
// secrets, passwords and signatures (SAML's Signature=, presigned URLs' sig=). Matching a part
// rather than whole names errs on the side of redacting: a log line loses a harmless value
// (a "keyword" parameter) rather than keep a credential.
var secretParamWords = []string{"token", "key", "secret", "password", "code", "sig"}

// isSecretParam reports whether a query parameter's value is redacted from the access logs: its
// name contains one of secretParamWords, case-insensitively.
func isSecretParam(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretParamWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}
