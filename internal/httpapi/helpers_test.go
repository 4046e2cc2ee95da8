package httpapi

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json/jsontext"
	json "encoding/json/v2"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/apidoc/apidoctest"
	"github.com/gatehousehq/gatehouse/rest"

	"github.com/prometheus/client_golang/prometheus"
)

// fixedNow is the frozen clock of every test server.
var fixedNow = time.Date(2026, time.November, 27, 12, 30, 45, 123456789, time.UTC)

const fixedTimestamp = "2026-11-27T12:30:45Z"

// internalMessage is the message of every internal error envelope.
const internalMessage = rest.InternalMessage

// syncBuffer is a log destination safe for handlers running on server goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the JSON log records written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		out = append(out, rec)
	}
	return out
}

// find returns the first log record with the given message.
func (b *syncBuffer) find(t *testing.T, msg string) map[string]any {
	t.Helper()
	for _, rec := range b.lines(t) {
		if rec["msg"] == msg {
			return rec
		}
	}
	t.Fatalf("no log record %q in:\n%s", msg, b.String())
	return nil
}

type testServer struct {
	handler  http.Handler
	logs     *syncBuffer
	registry *prometheus.Registry
}

// testDeps are the dependencies of a test server; ready may be replaced per test.
func testDeps(logs *syncBuffer) Deps {
	return Deps{
		Logger:   slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:      func() time.Time { return fixedNow },
		Version:  "test",
		Ready:    func(context.Context) error { return nil },
		DBStats:  func() sql.DBStats { return sql.DBStats{MaxOpenConnections: 10, OpenConnections: 3, InUse: 1, Idle: 2} },
		Registry: prometheus.NewRegistry(),
	}
}

// newTestServer builds a server with the probe routes below; edit changes the deps.
func newTestServer(t *testing.T, edit func(*Deps), opts ...Option) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	deps := testDeps(logs)
	if edit != nil {
		edit(&deps)
	}
	opts = append([]Option{WithRoutes(probeRoutes()...)}, opts...)
	// Every answer is checked against the server's OpenAPI document.
	srv := NewServer(deps, opts...)
	return &testServer{handler: apidoctest.Handler(t, srv, apidoctest.FromServer(srv)), logs: logs, registry: deps.Registry}
}

// echoRequest exercises Decode's type checks.
type echoRequest struct {
	Name  string         `json:"name"`
	Age   int            `json:"age"`
	Tags  []string       `json:"tags"`
	Sub   echoSub        `json:"sub"`
	Extra map[string]any `json:"extra"`
	When  time.Time      `json:"when,omitzero"`
}

type echoSub struct {
	X int `json:"x"`
}

// signupRequest exercises Validatable and Problems.
type signupRequest struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

func (req signupRequest) Validate() error {
	var p Problems
	p.Check(req.Email != "", "email", "is required")
	p.Check(strings.Contains(req.Email, "@"), "email", "must be an email address")
	p.Check(len(req.Name) <= 5, "name", "must be at most 5 characters")
	return p.Err()
}

// probeRoutes are registered through the public route API, the way a host application would.
func probeRoutes() []Route {
	echo := func(w http.ResponseWriter, r *http.Request) error {
		var req echoRequest
		if err := Decode(r, &req); err != nil {
			return err
		}
		return Respond(w, r, http.StatusOK, req)
	}
	return []Route{
		{Pattern: "POST /api/v1/echo", Handler: echo},
		{Pattern: "POST /api/v1/small", Handler: echo, BodyLimit: 16},
		{Pattern: "POST /api/v1/signup", Handler: func(w http.ResponseWriter, r *http.Request) error {
			var req signupRequest
			if err := Decode(r, &req); err != nil {
				return err
			}
			return Respond(w, r, http.StatusCreated, req)
		}},
		{Pattern: "GET /api/v1/panic", Handler: func(http.ResponseWriter, *http.Request) error {
			panic("secret panic text")
		}},
		{Pattern: "GET /api/v1/panic-late", Handler: func(w http.ResponseWriter, _ *http.Request) error {
			_, _ = io.WriteString(w, "partial")
			http.NewResponseController(w).Flush()
			panic("late panic")
		}},
		{Pattern: "GET /api/v1/fail", Handler: func(http.ResponseWriter, *http.Request) error {
			return errors.New("query failed: password=hunter2 host=db.internal")
		}},
		{Pattern: "GET /api/v1/fail-after-write", Handler: func(w http.ResponseWriter, r *http.Request) error {
			if err := Respond(w, r, http.StatusOK, "written"); err != nil {
				return err
			}
			return errors.New("too late to tell the client")
		}},
		{Pattern: "DELETE /api/v1/things/{id}", Handler: func(w http.ResponseWriter, r *http.Request) error {
			return gatehouse.Errorf(gatehouse.EConflict, "thing %s is in use", r.PathValue("id"))
		}},
		{Pattern: "PUT /api/v1/things/{id}", Handler: func(w http.ResponseWriter, r *http.Request) error {
			return Respond(w, r, http.StatusOK, r.PathValue("id"))
		}},
		{Pattern: "GET /api/v1/proto", Handler: func(w http.ResponseWriter, r *http.Request) error {
			return Respond(w, r, http.StatusOK, r.ProtoMajor)
		}},
		{Pattern: "GET /custom", Handler: func(w http.ResponseWriter, r *http.Request) error {
			return Respond(w, r, http.StatusOK, "host route")
		}},
	}
}

// serve sends one request through the handler in-process. Header pairs follow the body.
func (ts *testServer) serve(t *testing.T, method, target, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, target, rd)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	ts.handler.ServeHTTP(rec, req)
	return rec
}

// postJSON sends body with the JSON content type.
func (ts *testServer) postJSON(t *testing.T, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	return ts.serve(t, http.MethodPost, target, body, "Content-Type", "application/json")
}

// wireEnvelope is the envelope as a client decodes it, keeping data raw.
type wireEnvelope struct {
	Status string         `json:"status"`
	Data   jsontext.Value `json:"data"`
	Error  *ErrorBody     `json:"error"`
	Meta   Meta           `json:"meta"`
}

// envelope checks the invariants every API response shares and returns the decoded envelope.
func envelope(t *testing.T, rec *httptest.ResponseRecorder) wireEnvelope {
	t.Helper()
	h := rec.Header()
	if got := h.Get("Content-Type"); got != ContentTypeJSON {
		t.Errorf("Content-Type = %q, want %q", got, ContentTypeJSON)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	if got := h.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
	// Decode strictly: the envelope has exactly these members, each once.
	var env wireEnvelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("body is not an envelope: %v\n%s", err, rec.Body)
	}
	var members map[string]jsontext.Value
	if err := json.Unmarshal(rec.Body.Bytes(), &members); err != nil {
		t.Fatal(err)
	}
	if _, ok := members["data"]; !ok {
		t.Errorf("envelope has no data member: %s", rec.Body)
	}
	switch env.Status {
	case StatusSuccess:
		if env.Error != nil {
			t.Errorf("success envelope has an error: %s", rec.Body)
		}
		if rec.Code >= 400 {
			t.Errorf("success envelope with status %d", rec.Code)
		}
	case StatusError:
		if string(env.Data) != "null" {
			t.Errorf("error envelope data = %s, want null", env.Data)
		}
		if env.Error == nil || env.Error.Code == "" || env.Error.Message == "" {
			t.Errorf("error envelope without code and message: %s", rec.Body)
		}
		if env.Error != nil && rec.Code != StatusFor(gatehouse.Code(env.Error.Code)) {
			t.Errorf("status %d does not match code %q", rec.Code, env.Error.Code)
		}
		if fields, ok := members["error"]; ok && env.Error != nil && env.Error.Fields == nil && bytes.Contains(fields, []byte(`"fields"`)) {
			t.Errorf("empty fields should be omitted: %s", rec.Body)
		}
	default:
		t.Errorf("status member = %q", env.Status)
	}
	if env.Meta.Timestamp != fixedTimestamp {
		t.Errorf("meta.timestamp = %q, want %q", env.Meta.Timestamp, fixedTimestamp)
	}
	if id := h.Get(HeaderRequestID); id == "" || env.Meta.RequestID != id {
		t.Errorf("meta.request_id = %q, X-Request-ID = %q", env.Meta.RequestID, id)
	}
	return env
}
