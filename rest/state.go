package rest

import (
	"context"
	json "encoding/json/v2"
	"log/slog"
	"net/http"
	"time"
)

// State is what the serving layer knows of one request and what this package needs of it: the
// request id and API version for the envelope's meta, the body limit Decode enforces, and the
// logger and route the error writer records. Gatehouse's API server creates one per request and
// puts it in the context with NewContext; handlers only read it, through the functions of this
// package. A request without a State (a handler called directly in a test) still gets sensible
// defaults.
type State struct {
	// ID is the request id (X-Request-ID), echoed in meta.request_id and every log line.
	ID string
	// MetaVersion is what meta.version reports.
	MetaVersion int
	// BodyLimit is the body size limit in force for the request.
	BodyLimit int64
	// Pattern is the route pattern serving the request, "" when none matched.
	Pattern string
	// Now is the server's clock, for meta.timestamp. Nil means time.Now.
	Now func() time.Time
	// Logger receives the causes of 5xx errors. Nil discards them.
	Logger *slog.Logger
	// HeaderSent, when not nil, reports whether the response status has gone out: the error
	// writer then only logs, because a second envelope would corrupt the response.
	HeaderSent *bool
	// DecodeOptions, when not nil, join the options Decode and DecodeOptional unmarshal request
	// bodies with (after the rules of this package, which they cannot relax: unknown members,
	// duplicate names and the rest are still refused). It is how the serving layer applies an
	// API version's wire rules to every handler without the handler knowing the version:
	// Gatehouse's v2 reads identifiers given as strings into integer fields, and a merge patch's
	// null into a pointer field as a removal (docs/api.md, "What changed in v2").
	DecodeOptions json.Options
	// Ext is the serving layer's own per-request state; this package never reads it.
	Ext any
}

type stateKey struct{}

// NewContext returns ctx carrying st.
func NewContext(ctx context.Context, st *State) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

// StateOf returns the request's State, or nil for a request that did not come through a server
// that sets one.
func StateOf(r *http.Request) *State {
	st, _ := r.Context().Value(stateKey{}).(*State)
	return st
}

// RequestID returns the id of the request being served, for log lines and for errors reported to
// other systems. It is empty outside a request served by Gatehouse's handler.
func RequestID(ctx context.Context) string {
	if st, ok := ctx.Value(stateKey{}).(*State); ok {
		return st.ID
	}
	return ""
}

func (st *State) now() time.Time {
	if st.Now == nil {
		return time.Now()
	}
	return st.Now()
}

func (st *State) headerSent() bool { return st.HeaderSent != nil && *st.HeaderSent }
