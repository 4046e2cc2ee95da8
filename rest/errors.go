package rest

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehousehq/gatehouse"
)

// DefaultBodyLimit is the largest request body an API route accepts unless the route says
// otherwise. Gatehouse's requests are small documents; anything bigger is a mistake or an attack.
const DefaultBodyLimit int64 = 1 << 20 // 1 MiB

// statusByCode is the one table that turns a domain error code into an HTTP status. Nothing else
// in Gatehouse chooses an error status.
var statusByCode = map[gatehouse.Code]int{
	gatehouse.EInvalid:         http.StatusBadRequest,
	gatehouse.EUnauthenticated: http.StatusUnauthorized,
	gatehouse.EForbidden:       http.StatusForbidden,
	gatehouse.ENotFound:        http.StatusNotFound,
	gatehouse.EMethod:          http.StatusMethodNotAllowed,
	gatehouse.EConflict:        http.StatusConflict,
	gatehouse.EGone:            http.StatusGone,
	gatehouse.EPrecondition:    http.StatusPreconditionFailed,
	gatehouse.ETooLarge:        http.StatusRequestEntityTooLarge,
	gatehouse.EUnsupported:     http.StatusUnsupportedMediaType,
	gatehouse.ERateLimited:     http.StatusTooManyRequests,
	gatehouse.EUnavailable:     http.StatusServiceUnavailable,
	gatehouse.EInternal:        http.StatusInternalServerError,
}

// StatusFor returns the HTTP status for a domain error code, and 500 for a code the table does not
// know (which is a bug, and is logged as one when it reaches WriteError).
func StatusFor(code gatehouse.Code) int {
	if status, ok := statusByCode[code]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// InternalMessage is all a client learns about an internal error; the request id in meta lets
// an operator find the cause in the logs.
const InternalMessage = "an internal error occurred"

// Stacker is an error that carries a stack trace (a recovered panic); WriteError logs the stack.
type Stacker interface {
	error
	Stack() []byte
}

// WriteError is the one writer of JSON error responses: from handlers, from the middleware (413,
// 415, 404, 405, 410), from panics, and from the SSO endpoints. It sends the client the code, the
// safe message and the field errors, with Retry-After and WWW-Authenticate when the error asks for
// them, and logs the cause of every 5xx with the request id.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	err = fromStdlib(err)
	code := gatehouse.ErrorCode(err)
	status, known := statusByCode[code]
	message := gatehouse.ErrorMessage(err)
	fields := gatehouse.ErrorFields(err)
	wireCode := string(code)
	if de, ok := errors.AsType[*gatehouse.Error](err); ok && known && code != gatehouse.EInternal {
		if de.Reason != "" {
			wireCode = de.Reason
		}
		if de.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(de.RetryAfter.Seconds()))))
		}
		if de.Challenge != "" {
			w.Header().Set("WWW-Authenticate", de.Challenge)
		}
	}
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		// Every 503 says when to come back (a database restart or failover takes about that).
		w.Header().Set("Retry-After", "1")
	}
	if code == gatehouse.EUnauthenticated && w.Header().Get("WWW-Authenticate") == "" {
		// RFC 9110 §15.5.2: a 401 names the scheme that would work.
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	if !known || code == gatehouse.EInternal {
		// Whatever an internal error says may name tables, hosts or file paths.
		code, status, message, fields = gatehouse.EInternal, http.StatusInternalServerError, InternalMessage, nil
		wireCode = string(code)
	}
	if status >= 500 && abandoned(r, err) {
		// Nobody is left to read the answer: the request is recorded as abandoned, not failed.
		status = StatusClientClosedRequest
	}

	st := StateOf(r)
	logError(r, st, status, err, known)

	if st != nil && st.headerSent() {
		// The handler already sent a status and maybe part of a body; a second envelope would
		// corrupt it. The log line above is all we can do.
		return
	}
	env := Envelope{
		Status: StatusError,
		Error:  &ErrorBody{Code: wireCode, Message: message, Fields: fields},
		Meta:   metaFor(r),
	}
	body, encErr := encodeEnvelope(env)
	if encErr != nil {
		// Unreachable with these field types; fall back to a body that is still an envelope.
		if st != nil && st.Logger != nil {
			st.Logger.LogAttrs(r.Context(), slog.LevelError, "encoding error envelope", slog.Any("error", encErr))
		}
		body = []byte(`{"status":"error","data":null,"error":{"code":"internal","message":"` + InternalMessage + `"},"meta":{}}` + "\n")
		status = http.StatusInternalServerError
	}
	writeBody(w, status, body)
}

// logError records what the client is not told. Client errors are routine and go to debug;
// 5xx errors are what operators are paged for and carry the full cause chain.
func logError(r *http.Request, st *State, status int, err error, known bool) {
	if st == nil || st.Logger == nil {
		return
	}
	level := slog.LevelDebug
	switch {
	case status == StatusClientClosedRequest:
		// The client left; its access-log line (status 499) says so. Not a server failure.
	case status == http.StatusServiceUnavailable:
		level = slog.LevelWarn
	case status >= 500:
		level = slog.LevelError
	}
	if !st.Logger.Enabled(r.Context(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.Int("status", status),
		slog.String("error", err.Error()),
		slog.String("method", r.Method),
		slog.String("request_id", st.ID), slog.String("route", routeLabel(st.Pattern)),
	}
	if st.headerSent() {
		attrs = append(attrs, slog.Bool("response_started", true))
	}
	if !known {
		attrs = append(attrs, slog.String("bug", "error code missing from the status table"))
	}
	if pe, ok := errors.AsType[Stacker](err); ok {
		attrs = append(attrs, slog.String("stack", string(pe.Stack())))
	}
	st.Logger.LogAttrs(r.Context(), level, "request failed", attrs...)
}

// routeLabel names the route in log lines as the access log and the metrics label do: the
// pattern's path without its method (which has its own field), "unmatched" when none matched.
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
}

// fromStdlib gives standard-library errors that reach the writer their proper code, so that a
// handler reading the body by itself still produces a 413 rather than a 500.
func fromStdlib(err error) error {
	if _, ok := errors.AsType[*gatehouse.Error](err); ok {
		return err
	}
	if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return TooLarge(mbe.Limit)
	}
	return err
}

// TooLarge is the error for a body over the limit.
func TooLarge(limit int64) *gatehouse.Error {
	return gatehouse.Errorf(gatehouse.ETooLarge, "request body exceeds the limit of %d bytes", limit)
}
