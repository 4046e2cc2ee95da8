package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
	"github.com/gatehousehq/gatehouse/internal/tracing/otlptest"
)

// flush exports every finished span to the receiver now.
func (e *env) flush() {
	e.t.Helper()
	if err := e.app.Tracing.ForceFlush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func spanNamed(spans []otlptest.Span, name string) (otlptest.Span, bool) {
	for _, s := range spans {
		if s.Name == name {
			return s, true
		}
	}
	return otlptest.Span{}, false
}

// A login exported through the real OTLP/HTTP exporter to an in-process receiver: one server
// span carrying the request id, with the bcrypt and database spans as its children in the same
// trace; an incoming traceparent is honoured.
func TestTracingLoginSpans(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		recv := otlptest.Start(t)
		cfg := testConfig(db)
		cfg.Tracing = config.Tracing{On: true, URL: recv.URL(), ServiceName: "gatehouse-test",
			Headers: map[string]string{"Authorization": "Bearer collector-key"}}
		e := start(t, cfg, false)
		if e.app.Tracing == nil {
			t.Fatal("tracing configured but off")
		}
		e.createUser("ann@example.com", "correct horse battery staple")

		r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "ann@example.com", "password": "correct horse battery staple"})
		e.expect(r, http.StatusOK, "")
		reqID := r.Header.Get("X-Request-ID")
		e.flush()

		spans := recv.Spans()
		server, ok := spanNamed(spans, "POST /api/v1/auth/login")
		if !ok {
			t.Fatalf("no server span for the login among %d spans: %v", len(spans), names(spans))
		}
		if server.Kind != "SPAN_KIND_SERVER" || server.Attributes["gatehouse.request_id"] != reqID || reqID == "" ||
			server.Attributes["http.response.status_code"] != "200" || server.Attributes["http.route"] != "/api/v1/auth/login" ||
			server.ParentSpanID != "" {
			t.Fatalf("server span %+v (request id %q)", server, reqID)
		}
		if server.Resource["service.name"] != "gatehouse-test" {
			t.Errorf("resource %v", server.Resource)
		}
		verify, ok := spanNamed(spans, "password.verify")
		if !ok || verify.TraceID != server.TraceID || verify.ParentSpanID != server.SpanID {
			t.Fatalf("password.verify %+v is not a child of the server span %s", verify, server.SpanID)
		}
		dbSpan, ok := spanNamed(spans, "store.UserByEmail")
		if !ok || dbSpan.TraceID != server.TraceID || dbSpan.ParentSpanID != server.SpanID ||
			dbSpan.Attributes["db.system"] == "" || dbSpan.Attributes["db.operation.name"] != "UserByEmail" {
			t.Fatalf("store.UserByEmail %+v is not a database child of the server span (spans: %v)", dbSpan, names(spans))
		}
		if _, ok := spanNamed(spans, "store.CreateSession"); !ok {
			t.Errorf("no span for the session write: %v", names(spans))
		}
		if h := recv.Headers(); len(h) == 0 || h[0].Get("Authorization") != "Bearer collector-key" {
			t.Errorf("OTEL_EXPORTER_OTLP_HEADERS not sent: %v", h)
		}

		// An authenticated request records the user; a caller's traceparent makes the span its child.
		tk := e.login("ann@example.com", "correct horse battery staple")
		const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
		r = e.doWithHeader("GET", "/api/v1/me", tk.AccessToken, nil, "traceparent", "00-"+traceID+"-"+parentID+"-01")
		e.expect(r, http.StatusOK, "")
		e.flush()
		me, ok := spanNamed(recv.Spans(), "GET /api/v1/me")
		if !ok || me.TraceID != traceID || me.ParentSpanID != parentID || me.Attributes["user.id"] == "" ||
			me.Attributes["gatehouse.request_id"] != r.Header.Get("X-Request-ID") {
			t.Fatalf("GET /api/v1/me span %+v: want trace %s, parent %s, a user id", me, traceID, parentID)
		}
		for _, s := range recv.Spans() {
			if strings.HasPrefix(s.Name, "store.") && s.TraceID == traceID && s.Attributes["db.system"] == "" {
				t.Errorf("database span without db.system: %+v", s)
			}
		}

		// Pages get server spans too, named after their route.
		e.do("GET", "/login", "", nil)
		e.flush()
		if page, ok := spanNamed(recv.Spans(), "GET /login"); !ok || page.Attributes["http.response.status_code"] != "200" {
			t.Fatalf("no span for the login page: %v", names(recv.Spans()))
		}
	})
}

// Off by default: without an endpoint or TRACING_ENABLED the app has no tracer provider, so no
// span is made anywhere (every instrumented package skips its span code on a nil provider).
func TestTracingOffByDefault(t *testing.T) {
	cfg, err := config.Load(func(name string) string {
		if name == "OTEL_SERVICE_NAME" {
			return "named-but-off"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Tracing.On {
		t.Fatalf("tracing on by default: %+v", cfg.Tracing)
	}
	// Whether a provider exists does not depend on the engine.
	c := testConfig(testdb.New(t, config.DBSQLite))
	c.Tracing = cfg.Tracing
	a, err := app.New(context.Background(), c, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	if a.Tracing != nil || a.Tracing.TracerProvider() != nil {
		t.Fatal("a tracer provider exists with tracing off")
	}
}

func names(spans []otlptest.Span) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}
