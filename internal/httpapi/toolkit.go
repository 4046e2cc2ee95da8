package httpapi

import (
	"net/http"

	"github.com/gatehousehq/gatehouse/rest"
)

// The API toolkit lives in the public package rest, where host applications use it too. These
// names keep the handlers of this package short; they add nothing.

// AuthMode says who may call a route: rest.AuthMode.
type AuthMode = rest.AuthMode

// The authentication modes of rest.
const (
	Public                         = rest.Public
	Authenticated                  = rest.Authenticated
	AuthenticatedMayChangePassword = rest.AuthenticatedMayChangePassword
	OptionalAuthMayChangePassword  = rest.OptionalAuthMayChangePassword
	AuthenticatedTwoFactorSetup    = rest.AuthenticatedTwoFactorSetup
)

// Envelope, ErrorBody, Meta, Page, Problems and Validatable are rest's.
type (
	Envelope    = rest.Envelope
	ErrorBody   = rest.ErrorBody
	Meta        = rest.Meta
	Page        = rest.Page
	Problems    = rest.Problems
	Validatable = rest.Validatable
)

// Constants of rest.
const (
	ContentTypeJSON  = rest.ContentTypeJSON
	StatusSuccess    = rest.StatusSuccess
	StatusError      = rest.StatusError
	DefaultPageLimit = rest.DefaultPageLimit
	MaxPageLimit     = rest.MaxPageLimit
)

// Respond is rest.Respond.
func Respond(w http.ResponseWriter, r *http.Request, status int, data any) error {
	return rest.Respond(w, r, status, data)
}

// RespondResource is rest.RespondResource.
func RespondResource(w http.ResponseWriter, r *http.Request, status int, data any) error {
	return rest.RespondResource(w, r, status, data)
}

// RespondCreated is rest.RespondCreated.
func RespondCreated(w http.ResponseWriter, r *http.Request, location string, data any) error {
	return rest.RespondCreated(w, r, location, data)
}

// RespondPage is rest.RespondPage.
func RespondPage(w http.ResponseWriter, r *http.Request, data any, limit int, next string) error {
	return rest.RespondPage(w, r, data, limit, next)
}

// Decode is rest.Decode.
func Decode(r *http.Request, dst any) error { return rest.Decode(r, dst) }

// DecodeOptional is rest.DecodeOptional.
func DecodeOptional(r *http.Request, dst any) (bool, error) { return rest.DecodeOptional(r, dst) }

// ParsePage is rest.ParsePage.
func ParsePage(r *http.Request, allowed ...string) (Page, error) {
	return rest.ParsePage(r, allowed...)
}

// IDPage is rest.IDPage.
func IDPage(r *http.Request, allowed ...string) (Page, int64, error) {
	return rest.IDPage(r, allowed...)
}

// EncodeCursor is rest.EncodeCursor.
func EncodeCursor(v any) string { return rest.EncodeCursor(v) }

// NextIDCursor is rest.NextIDCursor.
//
// Deprecated: fetch limit+1 rows and use rest.Paginate.
func NextIDCursor(n, limit int, lastID int64) string { return rest.NextIDCursor(n, limit, lastID) }

// ETag is rest.ETag.
func ETag(v any) string { return rest.ETag(v) }

// CheckIfMatch is rest.CheckIfMatch.
func CheckIfMatch(r *http.Request, current string) error { return rest.CheckIfMatch(r, current) }

// RequestID is rest.RequestID.
var RequestID = rest.RequestID
