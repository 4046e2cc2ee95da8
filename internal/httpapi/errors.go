package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/gatehousehq/gatehouse"
)

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
// know (which is a bug, and is logged as one when it reaches the adapter).
func StatusFor(code gatehouse.Code) int {
	if status, ok := statusByCode[code]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// internalMessage is all a client learns about an internal error; the request id in meta lets
// an operator find the cause in the logs.
const internalMessage = "an internal error occurred"

// writeError is the single adapter that writes every error response: from handlers, from the
// middleware (413, 415, 404, 405, 410) and from panics. It logs the cause of every 5xx with the
// request id, and sends the client only the code, the safe message and the field errors.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
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
		code, status, message, fields = gatehouse.EInternal, http.StatusInternalServerError, internalMessage, nil
		wireCode = string(code)
	}

	st := stateOf(r)
	s.logError(r, st, status, err, known)

	if st != nil && st.rw.wroteHeader {
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
		s.logger.LogAttrs(r.Context(), slog.LevelError, "encoding error envelope", slog.Any("error", encErr))
		body = []byte(`{"status":"error","data":null,"error":{"code":"internal","message":"` + internalMessage + `"},"meta":{}}` + "\n")
		status = http.StatusInternalServerError
	}
	writeBody(w, status, body)
}

// logError records what the client is not told. Client errors are routine and go to debug;
// 5xx errors are what operators are paged for and carry the full cause chain.
func (s *server) logError(r *http.Request, st *requestState, status int, err error, known bool) {
	level := slog.LevelDebug
	switch {
	case status == http.StatusServiceUnavailable:
		level = slog.LevelWarn
	case status >= 500:
		level = slog.LevelError
	}
	if !s.logger.Enabled(r.Context(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.Int("status", status),
		slog.String("error", err.Error()),
		slog.String("method", r.Method),
	}
	if st != nil {
		attrs = append(attrs, slog.String("request_id", st.id), slog.String("route", st.pattern))
		if st.rw.wroteHeader {
			attrs = append(attrs, slog.Bool("response_started", true))
		}
	}
	if !known {
		attrs = append(attrs, slog.String("bug", "error code missing from the status table"))
	}
	if pe, ok := errors.AsType[*panicError](err); ok {
		attrs = append(attrs, slog.String("stack", string(pe.stack)))
	}
	s.logger.LogAttrs(r.Context(), level, "request failed", attrs...)
}

// fromStdlib gives standard-library errors that reach the adapter their proper code, so that a
// handler reading the body by itself still produces a 413 rather than a 500.
func fromStdlib(err error) error {
	if _, ok := errors.AsType[*gatehouse.Error](err); ok {
		return err
	}
	if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return tooLarge(mbe.Limit)
	}
	return err
}

// tooLarge is the error for a body over the limit.
func tooLarge(limit int64) *gatehouse.Error {
	return gatehouse.Errorf(gatehouse.ETooLarge, "request body exceeds the limit of %d bytes", limit)
}

// panicError carries a recovered panic to the adapter so that the one log line about the failed
// request has the stack as well as the request id.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }
