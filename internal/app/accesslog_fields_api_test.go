package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// The access log names a request's route as the metrics label does (the path pattern; the
// method has its own field), and page requests are logged like API requests: with the request
// id (the caller's X-Request-ID, echoed) and the client's address. Before, the API's route was
// "GET /api/v1/health" and a page line had neither id nor address.
func TestAccessLogFieldsAgree(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		var logs logBuffer
		_, srv := startTLS(t, testConfig(db), &logs)
		c := srv.Client()
		// get returns the answer's X-Request-ID.
		get := func(path, id string) string {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			req.Header.Set("X-Request-ID", id)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			return resp.Header.Get("X-Request-ID")
		}
		get("/api/v1/health", "api-1")
		if got := get("/login", "page-1"); got != "page-1" {
			t.Errorf("a page echoes X-Request-ID %q, want page-1", got)
		}
		get("/no/such/page", "page-2")
		resp, err := c.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		var metrics strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			metrics.Write(buf[:n])
			if err != nil {
				break
			}
		}
		_ = resp.Body.Close()

		byID := map[string]map[string]any{}
		deadline := time.Now().Add(5 * time.Second)
		for len(byID) < 3 && time.Now().Before(deadline) {
			for line := range strings.SplitSeq(logs.String(), "\n") {
				var rec map[string]any
				if json.Unmarshal([]byte(line), &rec) == nil && (rec["msg"] == "http request" || rec["msg"] == "page") {
					if id, _ := rec["request_id"].(string); id != "" {
						byID[id] = rec
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		for id, want := range map[string]string{"api-1": "/api/v1/health", "page-1": "/login", "page-2": "unmatched"} {
			rec := byID[id]
			if rec == nil {
				t.Errorf("no access log line with request_id %s:\n%s", id, logs.String())
				continue
			}
			if rec["route"] != want {
				t.Errorf("%s: route %v, want %q", id, rec["route"], want)
			}
			if ip, _ := rec["remote_ip"].(string); ip != "127.0.0.1" {
				t.Errorf("%s: remote_ip %v, want 127.0.0.1", id, rec["remote_ip"])
			}
			if rec["method"] != "GET" || rec["proto"] == nil || rec["status"] == nil {
				t.Errorf("%s: line lacks method, proto or status: %v", id, rec)
			}
		}
		// The API's route is the route label of its metrics series.
		if !strings.Contains(metrics.String(), `route="/api/v1/health"`) {
			t.Errorf(`/metrics has no series with route="/api/v1/health"`)
		}
	})
}
