package apidoc

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/rest"
)

// errorCodes are the wire codes of each error status: the domain code the status table maps
// to it (rest.StatusFor), and the refinements (gatehouse.Error.Reason) a client may act on.
// Refinements travel in error.code in place of the domain code.
var errorCodes = map[int]string{
	http.StatusBadRequest:            "invalid: the input is malformed or fails validation; error.fields names each offending field",
	http.StatusUnauthorized:          "unauthenticated: no, bad or expired credentials (WWW-Authenticate says which scheme works)",
	http.StatusForbidden:             "forbidden: authenticated but not allowed; refined as insufficient_scope, session_required, reauthentication_required, confirmation_required, password_change_required, two_factor_setup_required, feature_disabled, feature_not_licensed, …",
	http.StatusNotFound:              "not_found: no such resource, or one the caller may not know of",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusConflict:              "conflict: the resource exists or its state forbids the change (refined as already_member, already_invited, last_owner, username_taken, …)",
	http.StatusGone:                  "gone: the API version was retired",
	http.StatusPreconditionFailed:    "precondition_failed: If-Match does not match the resource's ETag; read it again",
	http.StatusRequestEntityTooLarge: "payload_too_large: the body is over the route's limit",
	http.StatusUnsupportedMediaType:  "unsupported_media_type: the body is not declared as application/json",
	http.StatusTooManyRequests:       "rate_limited: too many attempts; Retry-After says when to try again",
	http.StatusInternalServerError:   "internal: an unexpected failure; meta.request_id finds it in the logs",
	http.StatusServiceUnavailable:    "unavailable: a dependency (the database) is not reachable; Retry-After says when to try again",
}

// errorStatuses are the error statuses of route r (at path) with operation op: those that
// follow from the route (its body, query, path parameters and authentication) and those op adds.
func errorStatuses(r transport.Route, path string, op rest.Operation) []int {
	var out []int
	if !strings.HasPrefix(path, "/api/") {
		// The operations endpoints read nothing and need no database but readiness.
		out = append(out, http.StatusInternalServerError, http.StatusServiceUnavailable)
	} else {
		out = append(out, http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusTooManyRequests)
	}
	if op.Request != nil || op.List || len(op.Query) > 0 {
		out = append(out, http.StatusBadRequest)
	}
	if op.Request != nil || r.Method() == http.MethodPost || r.Method() == http.MethodPut || r.Method() == http.MethodPatch {
		// A body is read (or refused) within the limit, and only as JSON.
		out = append(out, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
	}
	if r.Auth != rest.Public {
		out = append(out, http.StatusUnauthorized, http.StatusForbidden)
	}
	if len(pathParams(path)) > 0 {
		out = append(out, http.StatusNotFound)
	}
	out = append(out, op.Errors...)
	slices.Sort(out)
	return slices.Compact(out)
}

// errorResponseName is the component of an error status's response.
func errorResponseName(status int) string {
	if status == 0 {
		return "Error"
	}
	return strings.ReplaceAll(http.StatusText(status), " ", "")
}

// errorResponse adds the component of an error status's response, once.
func (b *builder) errorResponse(status int) {
	name := errorResponseName(status)
	if _, ok := b.doc.Components.Responses[name]; ok {
		return
	}
	desc := http.StatusText(status) + ": " + errorCodes[status]
	if status == 0 {
		desc = "An error, as the envelope"
	}
	b.doc.Components.Responses[name] = &Response{Description: desc,
		Content: map[string]*MediaType{"application/json": {Schema: ref("ErrorEnvelope")}}}
}

// commonComponents adds the envelope's parts every operation refers to.
func (b *builder) commonComponents() {
	str := func(desc string) *Schema { return &Schema{Type: Types{"string"}, Description: desc} }
	integer := func(desc string) *Schema { return &Schema{Type: Types{"integer"}, Description: desc} }
	meta := &Schema{
		Type:        Types{"object"},
		Description: "Attached to every envelope: which API version answered, when, and to which request.",
		Required:    []string{"version", "timestamp", "request_id"},
		Properties: map[string]*Schema{
			"version":     integer("the major API version that served the request"),
			"timestamp":   {Type: Types{"string"}, Format: "date-time"},
			"request_id":  str("the request's id (X-Request-ID)"),
			"limit":       integer("a list's page size"),
			"next_cursor": str("the cursor of the next page of a list; absent on the last page"),
		},
		AdditionalProperties: AdditionalProperties{Has: new(false)},
	}
	body := &Schema{
		Type:     Types{"object"},
		Required: []string{"code", "message"},
		Properties: map[string]*Schema{
			"code":    {Type: Types{"string"}, Pattern: "^[a-z_]+$", Description: "a domain code (" + domainCodes() + ") or a refinement of it"},
			"message": str("safe to show"),
			"fields": {Type: Types{"object"}, Description: "what is wrong with each offending input field",
				AdditionalProperties: AdditionalProperties{Schema: typed("string")}},
		},
		AdditionalProperties: AdditionalProperties{Has: new(false)},
	}
	b.s.components["Meta"] = meta
	b.s.components["ErrorBody"] = body
	b.s.components["ErrorEnvelope"] = &Schema{
		Type:     Types{"object"},
		Required: []string{"status", "data", "error", "meta"},
		Properties: map[string]*Schema{
			"status": {Type: Types{"string"}, Const: rest.StatusError},
			"data":   typed("null"),
			"error":  ref("ErrorBody"),
			"meta":   ref("Meta"),
		},
		AdditionalProperties: AdditionalProperties{Has: new(false)},
	}
	for _, name := range []string{"Meta", "ErrorBody", "ErrorEnvelope"} {
		b.s.taken[name] = key{}
	}
}

func domainCodes() string {
	codes := []gatehouse.Code{gatehouse.EInvalid, gatehouse.EUnauthenticated, gatehouse.EForbidden, gatehouse.ENotFound,
		gatehouse.EMethod, gatehouse.EConflict, gatehouse.EGone, gatehouse.EPrecondition, gatehouse.ETooLarge,
		gatehouse.EUnsupported, gatehouse.ERateLimited, gatehouse.EUnavailable, gatehouse.EInternal}
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}
