package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/rest"
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
				slog.String("path", transport.RedactedURI(r.URL)),
				slog.String("route", transport.RouteLabel(st.Pattern)), // as the metrics label it
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
			if rest.ClientGone(r) {
				// The client went away before the answer (status 499 when that made it fail).
				attrs = append(attrs, slog.Bool("abandoned", true))
			}
			s.logger.LogAttrs(r.Context(), level, "http request", attrs...)
		}()
		next.ServeHTTP(w, r)
		completed = true
	})
}
