package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
)

// A client that goes away while its request waits for the database (a load generator stopping, a
// closed tab) is not a server failure: the request is logged at INFO with status 499 and
// abandoned=true, no ERROR or WARN line is written, and the metrics count it under 499, apart
// from the 5xx an operator is paged for.
func TestAbandonedRequestIsNotAnError(t *testing.T) {
	started := make(chan struct{})
	wait := func(w http.ResponseWriter, r *http.Request) error {
		close(started)
		<-r.Context().Done()
		// What the store returns for database work cut short by the cancellation.
		return gatehouse.Wrap(gatehouse.EUnavailable, fmt.Errorf("query: %w", r.Context().Err()), "the request was cancelled or timed out")
	}
	ts := newTestServer(t, nil, WithRoutes(Route{Pattern: "GET /api/v1/wait", Handler: wait}))
	srv := httptest.NewServer(ts.handler)
	defer srv.Close()

	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/wait", nil)
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		done <- err
	}()
	<-started
	cancel() // the client closes its connection
	if err := <-done; err == nil {
		t.Fatal("the cancelled request got an answer")
	}

	var rec map[string]any
	for deadline := time.Now().Add(10 * time.Second); rec == nil && time.Now().Before(deadline); {
		for _, l := range ts.logs.lines(t) {
			if l["msg"] == "http request" {
				rec = l
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if rec == nil {
		t.Fatalf("no access-log line:\n%s", ts.logs.String())
	}
	if rec["status"] != float64(499) || rec["level"] != "INFO" || rec["abandoned"] != true {
		t.Errorf("access log of an abandoned request = %v, want status 499 at INFO, abandoned", rec)
	}
	for _, l := range ts.logs.lines(t) {
		if l["level"] == "ERROR" || l["level"] == "WARN" {
			t.Errorf("log line at %v for an abandoned request: %v", l["level"], l)
		}
	}

	body, _ := io.ReadAll(ts.serve(t, http.MethodGet, "/metrics", "").Body)
	if want := `gatehouse_http_requests_total{code="499",method="GET",route="/api/v1/wait"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("metrics lack %s", want)
	}
	if strings.Contains(string(body), `code="503",method="GET",route="/api/v1/wait"`) {
		t.Error("the abandoned request counted as a 503")
	}
}

// The same error while the client is still there is the 503 it was, logged as a failure.
func TestUnavailableWithClientStillThere(t *testing.T) {
	fail := func(w http.ResponseWriter, r *http.Request) error {
		return gatehouse.Wrap(gatehouse.EUnavailable, context.Canceled, "the request was cancelled or timed out")
	}
	ts := newTestServer(t, nil, WithRoutes(Route{Pattern: "GET /api/v1/fail503", Handler: fail}))
	if got := ts.serve(t, http.MethodGet, "/api/v1/fail503", "").Code; got != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", got)
	}
	if rec := ts.logs.find(t, "http request"); rec["status"] != float64(503) || rec["abandoned"] != nil {
		t.Errorf("access log = %v", rec)
	}
}
