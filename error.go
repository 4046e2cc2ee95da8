// Package gatehouse holds Gatehouse's domain: the types every other package speaks (users, roles,
// teams, memberships), the one error type with its closed set of codes, and the interfaces that
// services and stores satisfy. It depends on the standard library only, so that neither transport
// nor storage details leak into the domain.
package gatehouse

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Code is one of a closed set of error kinds. The HTTP layer maps each to a status in one table;
// nothing below it knows about HTTP.
type Code string

// The closed set of error codes. Clients may rely on these strings: they appear on the wire.
const (
	EInvalid         Code = "invalid"         // the input is malformed or fails validation
	EUnauthenticated Code = "unauthenticated" // no or bad credentials
	EForbidden       Code = "forbidden"       // authenticated but not allowed
	ENotFound        Code = "not_found"       // no such resource
	EMethod          Code = "method_not_allowed"
	EConflict        Code = "conflict"            // the resource exists or the state forbids the change
	EGone            Code = "gone"                // the resource (or API version) existed and is retired
	EPrecondition    Code = "precondition_failed" // If-Match did not match: the resource changed
	ETooLarge        Code = "payload_too_large"
	EUnsupported     Code = "unsupported_media_type"
	ERateLimited     Code = "rate_limited"
	EUnavailable     Code = "unavailable" // a dependency (the database) is not reachable
	EInternal        Code = "internal"    // a bug or an unexpected failure; details only in logs
)

// Error is the domain error. Message is safe to show to a client; Err, when set, is the cause
// and is only ever logged.
type Error struct {
	Code    Code
	Message string
	// Fields names each offending input field with what is wrong with it.
	Fields map[string]string
	// Err is the underlying cause, never shown to clients.
	Err error
	// Reason, when set, refines Code on the wire with a machine-readable name a client can act
	// on, such as "confirmation_required" or "password_change_required"; the status still comes
	// from Code.
	Reason string
	// RetryAfter, when positive, tells the client how long to wait (the Retry-After header).
	RetryAfter time.Duration
	// Challenge, when set on an EUnauthenticated or EForbidden error, is the WWW-Authenticate
	// header value (RFC 6750), such as `Bearer error="insufficient_scope", scope="admin"`.
	Challenge string
}

// Error implements the error interface. It includes the cause so log lines read like a trace.
func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Message
	if len(e.Fields) > 0 {
		for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
			s += fmt.Sprintf(" [%s: %s]", k, e.Fields[k])
		}
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted, client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EInvalid error naming one field.
func FieldError(field, problem string) *Error {
	return &Error{Code: EInvalid, Message: field + ": " + problem, Fields: map[string]string{field: problem}}
}

// Wrap returns an *Error of the given code whose cause is err.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for any other non-nil
// error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err: the message of an *Error, or a generic text
// for anything else, so that internal details never reach a client.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "an internal error occurred"
}

// WithReason returns a copy of e with the wire reason set.
func (e *Error) WithReason(reason string) *Error {
	c := *e
	c.Reason = reason
	return &c
}

// ErrorFields returns the field errors of err, if it is an *Error.
func ErrorFields(err error) map[string]string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Fields
	}
	return nil
}
