package httpapi

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchmarkChain serves one request through the whole middleware chain (request id, recovery,
// access log, metrics, body limit, version headers, dispatch) with a logger at level, so the
// figure is the per-request cost of the HTTP layer itself, without the network.
func benchmarkChain(b *testing.B, level slog.Level) {
	logger := slog.New(slog.NewJSONHandler(discardLog{}, &slog.HandlerOptions{Level: level}))
	h := NewServer(Deps{Logger: logger})
	r := httptest.NewRequest(http.MethodGet, "/api/v1/health", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkChain is the chain as the bench runs it (LOG_LEVEL=error: no access log line).
func BenchmarkChain(b *testing.B) { benchmarkChain(b, slog.LevelError) }

// BenchmarkChainLogged is the chain with the access log written (LOG_LEVEL=info, the default).
func BenchmarkChainLogged(b *testing.B) { benchmarkChain(b, slog.LevelInfo) }

// discardLog is a log destination that drops everything.
type discardLog struct{}

func (discardLog) Write(p []byte) (int, error) { return len(p), nil }
