package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// discardWriter is a ResponseWriter that keeps headers and drops the body, so the benchmark
// measures the envelope, not a recorder's buffer.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkRespond is the envelope writer on GET /api/v1/me's payload: encoding, headers, write.
func BenchmarkRespond(b *testing.B) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	data := meResponse{ID: 42, Email: "bench-00042@example.com", Roles: []string{"maintainer"},
		Scopes: []string{"read", "write"}, Active: true, ConfirmedAt: &now, LastLoginAt: &now,
		LastLoginIP: "127.0.0.1", CurrentLoginAt: &now, LoginCount: 7, CreatedAt: now}
	r := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		if err := Respond(w, r, http.StatusOK, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRespondSmall is the health answer (the floor scenario's payload).
func BenchmarkRespondSmall(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/health", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		if err := Respond(w, r, http.StatusOK, map[string]string{"status": "ok"}); err != nil {
			b.Fatal(err)
		}
	}
}
