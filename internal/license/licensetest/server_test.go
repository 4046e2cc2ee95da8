package licensetest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, s *Server, path, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestProtocol(t *testing.T) {
	for name, newServer := range map[string]func(testing.TB, License) *Server{"listening": New, "in memory": NewInMemory} {
		t.Run(name, func(t *testing.T) {
			lic := Enterprise()
			lic.ExpiresAt = time.Now().Add(time.Hour)
			lic.Features["sso_oauth"] = false
			s := newServer(t, lic)
			tests := []struct {
				name, path, key, body string
				status                int
				check                 func(map[string]any) bool
			}{
				{"validate", PathValidate, ValidKey, `{"product":"gatehouse"}`, 200, func(m map[string]any) bool {
					md, _ := m["metadata"].(map[string]any)
					return m["valid"] == true && m["tier"] == "enterprise" && m["license_version"] == "2.0" && md["server_id"] == "srv_test"
				}},
				{"other product", PathValidate, ValidKey, `{"product":"other"}`, 200, func(m map[string]any) bool { return m["valid"] == false }},
				{"wrong key", PathValidate, OtherKey, `{"product":"gatehouse"}`, 401, nil},
				{"no key", PathValidate, "", `{"product":"gatehouse"}`, 401, nil},
				{"no product", PathValidate, ValidKey, `{}`, 400, nil},
				{"not JSON", PathValidate, ValidKey, `product=gatehouse`, 400, nil},
				{"entitled", PathFeatures, ValidKey, `{"product":"gatehouse","feature":"sso_saml"}`, 200, func(m map[string]any) bool {
					fs, _ := m["features"].([]any)
					f, _ := fs[0].(map[string]any)
					return len(fs) == 1 && f["name"] == "sso_saml" && f["entitled"] == true
				}},
				{"not entitled", PathFeatures, ValidKey, `{"product":"gatehouse","feature":"sso_oauth"}`, 200, func(m map[string]any) bool {
					fs, _ := m["features"].([]any)
					f, _ := fs[0].(map[string]any)
					return f["entitled"] == false
				}},
				{"no feature", PathFeatures, ValidKey, `{"product":"gatehouse"}`, 400, nil},
				{"keepalive", PathKeepalive, ValidKey, `{"product":"gatehouse","server_id":"srv_test","usage_stats":{"active_users":3}}`, 200, nil},
				{"keepalive of an unknown server", PathKeepalive, ValidKey, `{"product":"gatehouse","server_id":"x"}`, 400, nil},
				{"unknown path", "/api/v2/nope", ValidKey, `{"product":"gatehouse"}`, 404, nil},
			}
			for _, tt := range tests {
				status, body := post(t, s, tt.path, tt.key, tt.body)
				if status != tt.status || (tt.check != nil && !tt.check(body)) {
					t.Errorf("%s: %d %v", tt.name, status, body)
				}
			}
			reqs := s.Requests()
			if len(reqs) != len(tests) {
				t.Fatalf("%d requests recorded", len(reqs))
			}
			if k := reqs[9].Keepalive; k == nil || k.UsageStats.ActiveUsers == nil || *k.UsageStats.ActiveUsers != 3 {
				t.Errorf("keepalive not decoded: %+v", k)
			}
			if reqs[0].Bearer() != ValidKey || !reqs[0].HasProduct || reqs[4].HasProduct {
				t.Errorf("recorded %+v / %+v", reqs[0], reqs[4])
			}

			// Expired: valid false once ExpiresAt has passed by the server's clock.
			s.SetNow(func() time.Time { return lic.ExpiresAt })
			if _, body := post(t, s, PathValidate, ValidKey, `{"product":"gatehouse"}`); body["valid"] != false {
				t.Errorf("expired license answered %v", body)
			}
		})
	}
}

func TestMisbehaviour(t *testing.T) {
	s := New(t, Enterprise())
	validate := func() int { code, _ := post(t, s, PathValidate, ValidKey, `{"product":"gatehouse"}`); return code }

	s.SetStatus(http.StatusServiceUnavailable)
	if code := validate(); code != 503 {
		t.Errorf("SetStatus(503): %d", code)
	}
	s.SetStatus(0)
	s.SetDown(true)
	if code := validate(); code != 0 {
		t.Errorf("down: answered %d", code)
	}
	s.SetDown(false)
	s.SetFlapping(true)
	var got []int
	for range 4 {
		got = append(got, validate())
	}
	if want := []int{200, 503, 200, 503}; !equal(got, want) {
		t.Errorf("flapping: %v, want %v", got, want)
	}
	s.SetFlapping(false)
	s.Override(PathValidate, 200, []byte("garbage"))
	if code := validate(); code != 200 {
		t.Errorf("override: %d", code)
	}
	s.Override(PathValidate, 0, nil)

	// Slow: the client's timeout ends the wait.
	s.SetDelay(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+PathValidate, bytes.NewReader([]byte(`{"product":"gatehouse"}`)))
	if resp, err := s.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Error("a slow server answered within the timeout")
	}
	s.SetDelay(0)

	// Hold: recorded at once, answered on release.
	release := s.Hold()
	n := len(s.Requests())
	done := make(chan int)
	go func() { done <- validate() }()
	if _, err := s.WaitFor(t.Context(), func(r []Request) bool { return len(r) > n }); err != nil {
		t.Fatal(err)
	}
	release()
	if code := <-done; code != 200 {
		t.Errorf("held request: %d", code)
	}

	s.Close()
	if code := validate(); code != 0 {
		t.Errorf("closed server answered %d", code)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
