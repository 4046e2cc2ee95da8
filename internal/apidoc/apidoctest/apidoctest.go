// Package apidoctest checks, in tests, that the API answers what its OpenAPI document says:
// Handler wraps the handler under test so that every response to a request under /api/ (and to
// the operations endpoints) is validated against the document of its API version, which the
// wrapped handler itself serves at /api/v{n}/openapi.json, with kin-openapi's openapi3filter. A
// response that does not match (an undocumented status, a member of the wrong type, a required
// one missing, an undocumented one) fails the test that made the request, naming the request,
// the status and the violation. Requests are checked too when the server accepted them (a 2xx):
// a request the document forbids but the server takes means the document is wrong.
package apidoctest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Source returns the OpenAPI document (JSON) of a major API version, or an error when the
// version does not answer. The API server's OpenAPI method is one (httpapi.Server).
type Source func(major int) ([]byte, error)

// Handler returns h with every API response validated against the OpenAPI documents src
// returns; a nil src asks h itself for GET /api/v{n}/openapi.json, as a client would (which the
// server's metrics and access log then count). A violation is reported with t.Errorf, so the
// test that made the request fails.
func Handler(t testing.TB, h http.Handler, src Source) http.Handler {
	registerDecoders()
	return &validator{t: t, h: h, src: src, docs: map[int]*document{}}
}

// FromServer is the Source of an API server: its OpenAPI method, in JSON.
func FromServer(s interface {
	OpenAPI(major int, format string) ([]byte, error)
}) Source {
	return func(major int) ([]byte, error) { return s.OpenAPI(major, "json") }
}

// statusClientClosedRequest is the status a server records for a request its client gave up on
// (rest.StatusClientClosedRequest): nobody reads that answer.
const statusClientClosedRequest = 499

var decoders sync.Once

// registerDecoders teaches openapi3filter the media types of the documents Gatehouse answers
// bare (the OpenAPI document and the key set are JSON).
func registerDecoders() {
	decoders.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/openapi+json", openapi3filter.JSONBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/jwk-set+json", openapi3filter.JSONBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/openapi+yaml", openapi3filter.YamlBodyDecoder)
	})
}

type validator struct {
	t   testing.TB
	h   http.Handler
	src Source
	mu  sync.Mutex
	// docs are the documents by major version, loaded on first use; nil when the version has
	// none (it does not answer).
	docs map[int]*document
}

// document is a loaded OpenAPI document with a mux that finds its operations the way the
// server's mux finds routes.
type document struct {
	spec *openapi3.T
	mux  *http.ServeMux
}

func (v *validator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	major, checked := versionOf(r.URL.Path)
	if !checked || r.Method == http.MethodHead || r.Method == http.MethodOptions {
		v.h.ServeHTTP(w, r)
		return
	}
	// The body is kept as the handler reads it, so that the handler reads it as it would
	// unwrapped (limits, timeouts and all).
	var reqBody bytes.Buffer
	var tee *teeBody
	if r.Body != nil && r.Body != http.NoBody {
		tee = &teeBody{ReadCloser: r.Body, copy: &reqBody}
		r.Body = tee
	}
	rec := &recorder{ResponseWriter: w, status: 0}
	v.h.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if tee != nil && rec.status < 300 {
		// What the handler left unread, for the request's validation (the server would
		// discard it now).
		_, _ = io.Copy(io.Discard, io.LimitReader(tee, 1<<20))
	}
	if rec.status == statusClientClosedRequest {
		return // nobody read the answer
	}
	doc := v.document(r.Context(), major)
	if doc == nil {
		return
	}
	if err := doc.check(r, reqBody.Bytes(), rec); err != nil {
		v.t.Errorf("OpenAPI: %s %s answered %d: %v\nbody: %s", r.Method, r.URL.RequestURI(), rec.status, err, clip(rec.body.Bytes()))
	}
}

// versionOf says which document covers a path: /api/v{n}/… is version n's; the operations
// endpoints are in every version's document, so the first version's is asked. Other paths (the
// pages) are not checked.
func versionOf(path string) (int, bool) {
	if rest, ok := strings.CutPrefix(path, "/api/v"); ok {
		seg, _, _ := strings.Cut(rest, "/")
		n, err := strconv.Atoi(seg)
		if err != nil || n < 1 || strconv.Itoa(n) != seg {
			return 0, false
		}
		return n, true
	}
	switch path {
	case "/healthz", "/readyz", "/.well-known/jwks.json":
		return 1, true
	}
	return 0, false
}

// document loads (once) the document of a major version from the handler under test.
func (v *validator) document(ctx context.Context, major int) *document {
	v.mu.Lock()
	defer v.mu.Unlock()
	if d, ok := v.docs[major]; ok {
		return d
	}
	body, err := v.fetch(ctx, major)
	if err != nil {
		// The version does not answer (unknown or retired): there is no document to hold its
		// answers to, and they are the version check's errors.
		v.docs[major] = nil
		return nil
	}
	d, err := load(ctx, body)
	if err != nil {
		v.t.Errorf("OpenAPI: the document of v%d is not valid: %v", major, err)
	}
	v.docs[major] = d
	return d
}

// loaded caches the documents loaded in this process by content: most test servers of a
// package serve one of a few documents, and loading and validating one takes a good part of a
// second on a busy machine. The loaded documents are only read.
var loaded = struct {
	sync.Mutex
	m map[[sha256.Size]byte]*document
}{m: map[[sha256.Size]byte]*document{}}

// load parses and validates a document, once per content.
func load(ctx context.Context, body []byte) (*document, error) {
	sum := sha256.Sum256(body)
	loaded.Lock()
	defer loaded.Unlock()
	if d, ok := loaded.m[sum]; ok {
		return d, nil
	}
	spec, err := openapi3.NewLoader().LoadFromData(body)
	if err == nil {
		err = spec.Validate(ctx)
	}
	if err != nil {
		return nil, err
	}
	d := &document{spec: spec, mux: http.NewServeMux()}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			d.mux.Handle(method+" "+path, &operation{path: path, item: item, method: method, op: op})
		}
	}
	loaded.m[sum] = d
	return d, nil
}

// fetch returns the document of a version.
func (v *validator) fetch(ctx context.Context, major int) ([]byte, error) {
	if v.src != nil {
		return v.src(major)
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("/api/v%d/openapi.json", major), nil)
	rec := httptest.NewRecorder()
	v.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d", req.URL.Path, rec.Code)
	}
	return rec.Body.Bytes(), nil
}

// operation is a mux entry: the document's operation of a pattern.
type operation struct {
	path, method string
	item         *openapi3.PathItem
	op           *openapi3.Operation
}

func (o *operation) ServeHTTP(http.ResponseWriter, *http.Request) {}

// check validates one exchange.
func (d *document) check(r *http.Request, reqBody []byte, rec *recorder) error {
	h, pattern := d.mux.Handler(r)
	o, ok := h.(*operation)
	if !ok || pattern == "" {
		// No operation: the server must have refused the request (404 for an unknown path, 405
		// for a wrong method), with the error envelope.
		if rec.status != http.StatusNotFound && rec.status != http.StatusMethodNotAllowed {
			return fmt.Errorf("no operation of the document matches the request, yet it answered %d", rec.status)
		}
		return d.errorEnvelope(rec)
	}
	params := pathValues(o.path, r)
	route := &routers.Route{Spec: d.spec, Server: d.spec.Servers[0], Path: o.path, PathItem: o.item, Method: o.method, Operation: o.op}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
	if rec.status >= 200 && rec.status < 300 {
		rq := r.Clone(r.Context())
		rq.Body = io.NopCloser(bytes.NewReader(reqBody))
		rin := *in
		rin.Request = rq
		if err := openapi3filter.ValidateRequest(r.Context(), &rin); err != nil {
			return fmt.Errorf("the server accepted a request the document refuses: %w", err)
		}
	}
	return openapi3filter.ValidateResponse(r.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.status,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		Options:                opts,
	})
}

// errorEnvelope validates an answer to a request no operation matches against the error
// envelope.
func (d *document) errorEnvelope(rec *recorder) error {
	ref := d.spec.Components.Schemas["ErrorEnvelope"]
	if ref == nil {
		return nil
	}
	var v any
	if err := jsonUnmarshal(rec.body.Bytes(), &v); err != nil {
		return fmt.Errorf("the answer is not JSON: %w", err)
	}
	return ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
}

// pathValues are the values of the path's wildcards in r.
func pathValues(path string, r *http.Request) map[string]string {
	out := map[string]string{}
	tmpl := strings.Split(strings.Trim(path, "/"), "/")
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	for i, s := range tmpl {
		if i < len(segs) && strings.HasPrefix(s, "{") {
			out[strings.Trim(s, "{}")] = segs[i]
		}
	}
	return out
}

// teeBody keeps a copy of what is read from a request body.
type teeBody struct {
	io.ReadCloser
	copy *bytes.Buffer
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.copy.Write(p[:n])
	return n, err
}

// recorder passes the response on and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
