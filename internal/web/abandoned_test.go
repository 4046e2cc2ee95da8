package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/rest"
)

// A page whose database work stopped because the browser went away (a closed tab) is recorded
// as abandoned (499), with no ERROR line; the same error with the browser still there is the
// 503 error page, logged as a failure.
func TestServerErrorOfAbandonedPage(t *testing.T) {
	var logs bytes.Buffer
	w := &Web{log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	cancelled := gatehouse.Wrap(gatehouse.EUnavailable, context.Canceled, "the request was cancelled or timed out")

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the browser went away
	rec := httptest.NewRecorder()
	w.serverError(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/profile", nil), cancelled)
	if rec.Code != rest.StatusClientClosedRequest || logs.Len() != 0 {
		t.Errorf("abandoned page: status %d, log %q; want 499 and no line at INFO or above", rec.Code, logs.String())
	}

	rec = httptest.NewRecorder()
	w.serverError(rec, httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/profile", nil), cancelled)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("page with its browser: status %d, log %q; want 503 and an ERROR line", rec.Code, logs.String())
	}
}
