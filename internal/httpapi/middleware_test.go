package httpapi

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestRequestID(t *testing.T) {
	ts := newTestServer(t, nil)
	generated := regexp.MustCompile(`^[A-Z2-7]{26}$`)
	tests := []struct {
		name     string
		incoming string
		accept   bool
	}{
		{name: "none", incoming: ""},
		{name: "simple", incoming: "abc-123", accept: true},
		{name: "every allowed character", incoming: "AZaz09._:-", accept: true},
		{name: "uuid", incoming: "0b9c7e2a-3f51-4c8e-9d7a-6f1e2b3c4d5e", accept: true},
		{name: "128 characters", incoming: strings.Repeat("a", 128), accept: true},
		{name: "129 characters", incoming: strings.Repeat("a", 129)},
		{name: "space", incoming: "abc 123"},
		{name: "quote", incoming: `abc"123`},
		{name: "log forging", incoming: "abc\\n{\"level\":\"ERROR\"}"},
		{name: "non-ASCII", incoming: "abcé"},
		{name: "slash", incoming: "a/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.incoming != "" {
				headers = []string{HeaderRequestID, tt.incoming}
			}
			rec := ts.serve(t, http.MethodGet, "/api/v1/health", "", headers...)
			got := rec.Header().Get(HeaderRequestID)
			if tt.accept && got != tt.incoming {
				t.Errorf("id = %q, want the incoming %q", got, tt.incoming)
			}
			if !tt.accept && !generated.MatchString(got) {
				t.Errorf("id = %q, want a generated one", got)
			}
			if env := envelope(t, rec); env.Meta.RequestID != got {
				t.Errorf("meta.request_id = %q, header %q", env.Meta.RequestID, got)
			}
		})
	}

	// Generated ids differ between requests.
	a := ts.serve(t, http.MethodGet, "/api/v1/health", "").Header().Get(HeaderRequestID)
	b := ts.serve(t, http.MethodGet, "/api/v1/health", "").Header().Get(HeaderRequestID)
	if a == b {
		t.Errorf("two requests got the same id %q", a)
	}
}

func TestAccessLog(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.serve(t, http.MethodGet, "/api/v1/health?token=s3cr3t-link&x=1&refresh_token=r3fresh&Token=upper", "",
		"Authorization", "Bearer top-secret-jwt", "Cookie", "session=cookie-secret", HeaderRequestID, "log-1")
	ts.postJSON(t, "/api/v1/echo", `{"name":"body-secret"}`)

	logs := ts.logs.String()
	for _, secret := range []string{"s3cr3t-link", "r3fresh", "upper", "top-secret-jwt", "cookie-secret", "body-secret"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	rec := ts.logs.find(t, "http request")
	want := map[string]any{
		"level":      "INFO",
		"method":     "GET",
		"path":       "/api/v1/health?token=REDACTED&x=1&refresh_token=REDACTED&Token=REDACTED",
		"route":      "/api/v1/health", // as the metrics label
		"status":     float64(200),
		"request_id": "log-1",
		"remote_ip":  "192.0.2.1",
		"proto":      "HTTP/1.1",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("log %s = %#v, want %#v", k, rec[k], v)
		}
	}
	if b, _ := rec["bytes"].(float64); b <= 0 {
		t.Errorf("log bytes = %v", rec["bytes"])
	}
	if _, ok := rec["duration_ms"].(float64); !ok {
		t.Errorf("log duration_ms = %v", rec["duration_ms"])
	}
}

func TestAccessLogOfPanic(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.serve(t, http.MethodGet, "/api/v1/panic", "")
	rec := ts.logs.find(t, "http request")
	if rec["status"] != float64(500) || rec["panic"] != true || rec["level"] != "ERROR" {
		t.Errorf("access log of a panic = %v", rec)
	}
}
