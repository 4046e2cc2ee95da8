package rest

import (
	"bytes"
	json "encoding/json/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ContentTypeJSON is the media type of every envelope, and the one request bodies must declare.
const ContentTypeJSON = "application/json; charset=utf-8"

// The values of Envelope.Status.
const (
	StatusSuccess = "success"
	StatusError   = "error"
)

// Envelope is the wire shape of every API response. Clients can always read status and meta, and
// find either data (on success) or error (on failure) without looking at the HTTP status.
type Envelope struct {
	Status string `json:"status"`
	// Data is the payload on success and null on error.
	Data  any        `json:"data"`
	Error *ErrorBody `json:"error,omitzero"`
	Meta  Meta       `json:"meta"`
}

// ErrorBody describes a failure. Code is one of the domain codes (gatehouse.Code); Message is
// safe to show; Fields maps each offending input field to what is wrong with it.
type ErrorBody struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// Meta is attached to every response so that a client, or a support request quoting a response,
// identifies which API version answered, when, and for which request.
type Meta struct {
	// Version is the major API version of the request path (the current version for paths
	// outside /api/v{N}/).
	Version   int    `json:"version"`
	Timestamp string `json:"timestamp"`
	RequestID string `json:"request_id"`
	// Limit and NextCursor describe a page of a list response; NextCursor is empty on the last
	// page.
	Limit      int    `json:"limit,omitzero"`
	NextCursor string `json:"next_cursor,omitzero"`
}

// metaFor builds the meta block from what the middleware learned about the request. A request
// that did not pass through the server (a handler called directly in a test) still gets a
// sensible block.
func metaFor(r *http.Request) Meta {
	st := StateOf(r)
	if st == nil {
		return Meta{Version: 0, Timestamp: time.Now().UTC().Format(time.RFC3339)}
	}
	return Meta{
		Version:   st.MetaVersion,
		Timestamp: timestampOf(st.now()),
		RequestID: st.ID,
	}
}

// stamp is a formatted meta.timestamp and the second it names.
type stamp struct {
	sec  int64
	text string
}

// lastStamp remembers the last timestamp formatted. The text depends only on the Unix second
// (RFC 3339 in UTC, no fraction), so one cache serves every server and clock, and a busy server
// formats (and allocates) it once a second instead of once a response.
var lastStamp atomic.Pointer[stamp]

// timestampOf returns t as meta.timestamp shows it.
func timestampOf(t time.Time) string {
	sec := t.Unix()
	if c := lastStamp.Load(); c != nil && c.sec == sec {
		return c.text
	}
	text := t.UTC().Format(time.RFC3339)
	lastStamp.Store(&stamp{sec: sec, text: text})
	return text
}

// encodeEnvelope marshals deterministically (sorted map keys) so that responses, and the golden
// files of later tests, do not change from run to run.
func encodeEnvelope(env Envelope) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.MarshalWrite(&buf, env, json.Deterministic(true)); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// envelopeBuffers recycles the encoding buffers of sendEnvelope: every success response needs
// one, and a buffer that grew for a large page is reused instead of grown again.
var envelopeBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps the pool from pinning the memory of an exceptionally large response.
const maxPooledBuffer = 64 << 10

// sendEnvelope encodes env like encodeEnvelope, into a pooled buffer, and writes it with
// writeBody. Nothing is written when encoding fails.
func sendEnvelope(w http.ResponseWriter, status int, env Envelope) error {
	buf, _ := envelopeBuffers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			envelopeBuffers.Put(buf)
		}
	}()
	// A pointer, so that the encoder need not copy the envelope to make it addressable.
	if err := json.MarshalWrite(buf, &env, json.Deterministic(true)); err != nil {
		return err
	}
	buf.WriteByte('\n')
	writeBody(w, status, buf.Bytes())
	return nil
}

// The header values of every envelope response; see writeBody.
var (
	headerJSON    = []string{ContentTypeJSON}
	headerNosniff = []string{"nosniff"}
	headerNoStore = []string{"no-store"}
)

// writeBody sends an encoded envelope with the headers every API response carries: nosniff so a
// browser never renders it as HTML, and no-store because responses hold account data that must
// not linger in shared caches.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	// The fixed values are shared, already canonical, one-element slices: Set would allocate a
	// new slice for each of them on every response. Sharing is safe because a later Add appends
	// to a full slice, which copies it, and nothing in net/http writes into a header's values.
	h["Content-Type"] = headerJSON
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h["X-Content-Type-Options"] = headerNosniff
	h["Cache-Control"] = headerNoStore
	w.WriteHeader(status)
	// A write error means the client went away; there is no one left to tell.
	_, _ = w.Write(body)
}
