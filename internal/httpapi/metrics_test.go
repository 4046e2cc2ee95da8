package httpapi

import (
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

func TestMetrics(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.serve(t, http.MethodGet, "/api/v1/health", "")
	ts.serve(t, http.MethodGet, "/api/v1/health", "")
	ts.serve(t, http.MethodPut, "/api/v1/things/42", "")
	ts.serve(t, http.MethodPut, "/api/v1/things/43", "")
	ts.serve(t, http.MethodGet, "/random/path/one", "")
	ts.serve(t, http.MethodGet, "/api/v9/x", "")
	ts.serve(t, "FOO", "/api/v1/health", "")
	ts.serve(t, http.MethodGet, "/api/v1/panic", "")

	rec := ts.serve(t, http.MethodGet, "/metrics", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	text := string(body)

	for _, want := range []string{
		`gatehouse_http_requests_total{code="200",method="GET",route="/api/v1/health"} 2`,
		// Path values do not create series: both ids count under the pattern.
		`gatehouse_http_requests_total{code="200",method="PUT",route="/api/v1/things/{id}"} 2`,
		`gatehouse_http_requests_total{code="404",method="GET",route="unmatched"} 2`,
		`gatehouse_http_requests_total{code="405",method="OTHER",route="unmatched"} 1`,
		`gatehouse_http_requests_total{code="500",method="GET",route="/api/v1/panic"} 1`,
		`gatehouse_http_request_duration_seconds_count{code="200",method="GET",route="/api/v1/health"} 2`,
		`gatehouse_build_info{goversion="` + runtime.Version() + `",version="test"} 1`,
		`go_sql_max_open_connections{db_name="gatehouse"} 10`,
		`go_sql_in_use_connections{db_name="gatehouse"} 1`,
		`go_sql_wait_count_total{db_name="gatehouse"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, unwanted := range []string{"/random/path/one", "/api/v9/x", "things/42", `method="FOO"`} {
		if strings.Contains(text, unwanted) {
			t.Errorf("metrics contain the raw value %q", unwanted)
		}
	}
}

func TestMetricsWithoutDBStats(t *testing.T) {
	ts := newTestServer(t, func(d *Deps) { d.DBStats = nil })
	rec := ts.serve(t, http.MethodGet, "/metrics", "")
	if strings.Contains(rec.Body.String(), "go_sql_") {
		t.Error("pool metrics exported without DBStats")
	}
}
