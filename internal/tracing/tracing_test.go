package tracing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/gatehousehq/gatehouse/internal/tracing"
	"github.com/gatehousehq/gatehouse/internal/tracing/otlptest"
)

func recorder() (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	exp := tracetest.NewInMemoryExporter()
	return sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)), exp
}

// Outgoing calls (the license client's) make a client span and carry its traceparent, so the
// called service joins the trace.
func TestClientSpanAndTraceparent(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("traceparent")
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	tp, exp := recorder()
	c := tracing.Client(srv.Client(), tp, "test")
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/api/v2/validate?key=secret", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	want := "00-" + s.SpanContext.TraceID().String() + "-" + s.SpanContext.SpanID().String() + "-01"
	if s.Name != "HTTP POST" || got != want {
		t.Fatalf("span %q, traceparent %q, want %q", s.Name, got, want)
	}
	for _, a := range s.Attributes {
		if a.Value.String() == "" || a.Key == "url.full" || a.Key == "url.query" {
			t.Errorf("attribute %s=%q", a.Key, a.Value.String())
		}
		if a.Key == "http.response.status_code" && a.Value.AsInt64() != http.StatusTeapot {
			t.Errorf("status %v", a.Value.String())
		}
	}
	// With tracing off the client is returned as it is.
	if tracing.Client(srv.Client(), nil, "test").Transport != srv.Client().Transport {
		t.Error("client wrapped with tracing off")
	}
}

// The page wrapper names the server span after the route and follows an incoming traceparent.
func TestHandlerSpan(t *testing.T) {
	tp, exp := recorder()
	h := tracing.Handler(tp, "test", func(*http.Request) string { return "/reset-password" },
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	r := httptest.NewRequest(http.MethodGet, "/reset-password?token=SECRET", nil)
	r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), r)
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != "GET /reset-password" || spans[0].Parent.SpanID().String() != "00f067aa0ba902b7" ||
		spans[0].SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || spans[0].Status.Code.String() != "Error" {
		t.Fatalf("spans %+v", spans)
	}
	for _, a := range spans[0].Attributes {
		if a.Value.String() == "/reset-password?token=SECRET" {
			t.Errorf("raw URL recorded as %s", a.Key)
		}
	}
	plain := &plainHandler{}
	if tracing.Handler(nil, "test", nil, plain) != http.Handler(plain) {
		t.Error("handler wrapped with tracing off")
	}
}

// New exports through OTLP/HTTP to the configured URL with the configured headers and service
// name, and Shutdown flushes what is queued.
func TestNewExportsAndFlushesOnShutdown(t *testing.T) {
	recv := otlptest.Start(t)
	p, err := tracing.New(context.Background(), tracing.Config{URL: recv.URL(), ServiceName: "svc", ServiceVersion: "1.2.3",
		Headers: map[string]string{"X-Key": "k"}})
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.TracerProvider().Tracer("test").Start(context.Background(), "work")
	span.End()
	if recv.Requests() != 0 {
		t.Fatal("exported before the batch was due")
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := recv.Spans()
	if len(spans) != 1 || spans[0].Name != "work" || spans[0].Resource["service.name"] != "svc" ||
		spans[0].Resource["service.version"] != "1.2.3" || recv.Headers()[0].Get("X-Key") != "k" {
		t.Fatalf("received %+v", spans)
	}
	var off *tracing.Provider
	if off.TracerProvider() != nil || off.Shutdown(context.Background()) != nil || off.ForceFlush(context.Background()) != nil {
		t.Fatal("a nil provider is not a quiet no-op")
	}
	if _, err := tracing.New(context.Background(), tracing.Config{URL: recv.URL(), Sampler: "sometimes"}); err == nil {
		t.Fatal("unknown sampler accepted")
	}
}

type plainHandler struct{}

func (*plainHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}
