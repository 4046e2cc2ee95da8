package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// BenchmarkChainTraced is BenchmarkChain with tracing on: every request makes a sampled server
// span, handed to a batch processor whose exporter drops it. It is the per-request price of
// tracing in the HTTP layer (BenchmarkChain, tracing off, is the chain without the layer).
func BenchmarkChainTraced(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardExporter{}))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	logger := slog.New(slog.NewJSONHandler(discardLog{}, &slog.HandlerOptions{Level: slog.LevelError}))
	h := NewServer(Deps{Logger: logger, TracerProvider: tp})
	r := httptest.NewRequest(http.MethodGet, "/api/v1/health", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }
