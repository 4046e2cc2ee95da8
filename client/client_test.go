package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/client"
)

// The client's own behaviour against canned answers: the end-to-end tests against a real
// service are in internal/app (client_api_test.go).

func fake(t *testing.T, h http.HandlerFunc) *client.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := client.New(srv.URL + "/")
	c.HTTPClient = srv.Client()
	return c
}

func envelope(w http.ResponseWriter, status int, data any, meta map[string]any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["version"] = 1
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": data, "meta": meta})
}

func TestIDDecodesNumbersAndStrings(t *testing.T) {
	var v struct {
		A, B client.ID
		C    *client.ID
	}
	if err := json.Unmarshal([]byte(`{"A": 42, "B": "9007199254740993", "C": null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 42 || v.B != 9007199254740993 || v.C != nil {
		t.Fatalf("decoded %+v", v)
	}
	for _, bad := range []string{`"x"`, `1.5`, `true`, `""`} {
		var id client.ID
		if err := json.Unmarshal([]byte(bad), &id); err == nil {
			t.Errorf("%s decoded as %d", bad, id)
		}
	}
	if b, _ := json.Marshal(client.ID(7)); string(b) != "7" {
		t.Errorf("ID(7) encodes as %s", b)
	}
}

func TestRequestAndErrorEnvelope(t *testing.T) {
	c := fake(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/teams/7" || r.Method != http.MethodPatch {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("If-Match") != `"abc"` || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", r.Header)
		}
		if b, _ := io.ReadAll(r.Body); string(b) != `{"name":"x"}` {
			t.Errorf("body %s", b)
		}
		w.Header().Set("X-Request-ID", "RID")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"status":"error","data":null,"error":{"code":"invalid","message":"invalid request: name: too short","fields":{"name":"too short"}},"meta":{"version":2}}`)
	}).WithVersion(2).WithToken("tok")
	name := "x"
	_, err := c.UpdateTeam(context.Background(), 7, client.TeamPatch{Name: &name}, client.IfMatch(`"abc"`))
	e, ok := errors.AsType[*client.Error](err)
	if !ok || e.Status != 400 || e.Code != "invalid" || e.Fields["name"] != "too short" || e.RequestID != "RID" || client.CodeOf(err) != "invalid" {
		t.Fatalf("error %#v", err)
	}
	if !strings.Contains(e.Error(), "400 invalid: invalid request") {
		t.Errorf("message %q", e.Error())
	}
}

func TestNotAnEnvelope(t *testing.T) {
	c := fake(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html>bad gateway</html>")
	})
	_, err := c.Me(context.Background())
	if e, ok := errors.AsType[*client.Error](err); !ok || e.Status != 502 || e.Code != "" || !strings.Contains(e.Message, "bad gateway") {
		t.Fatalf("error %#v", err)
	}
}

func TestLoginShapes(t *testing.T) {
	c := fake(t, func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body["email"] == "two@example.com" {
			envelope(w, 200, map[string]any{"two_factor_required": true, "challenge": "ch", "methods": []string{"totp", "recovery_code"}, "expires_at": "2026-12-01T10:00:00Z"}, nil)
			return
		}
		envelope(w, 200, map[string]any{"access_token": "a", "refresh_token": "r", "token_type": "Bearer", "expires_in": 900, "scope": "read write"}, nil)
	})
	ctx := context.Background()
	res, err := c.Login(ctx, client.LoginRequest{Email: "one@example.com", Password: "pw"})
	if err != nil || res.Tokens == nil || res.TwoFactor != nil || res.Tokens.AccessToken != "a" || res.Tokens.ExpiresIn != 900 {
		t.Fatalf("login: %+v, %v", res, err)
	}
	res, err = c.Login(ctx, client.LoginRequest{Email: "two@example.com", Password: "pw"})
	if err != nil || res.Tokens != nil || res.TwoFactor == nil || res.TwoFactor.Challenge != "ch" || len(res.TwoFactor.Methods) != 2 {
		t.Fatalf("login with a second factor: %+v, %v", res, err)
	}
}

func TestPagesAndETags(t *testing.T) {
	c := fake(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("cursor") {
		case "":
			if r.URL.Query().Get("limit") != "2" {
				t.Errorf("query %s", r.URL.RawQuery)
			}
			envelope(w, 200, []map[string]any{{"id": 1, "name": "a"}, {"id": "2", "name": "b"}}, map[string]any{"limit": 2, "next_cursor": "c2"})
		case "c2":
			envelope(w, 200, []map[string]any{{"id": 3, "name": "c"}}, map[string]any{"limit": 2})
		}
	})
	var names []string
	for team, err := range client.All(context.Background(), client.ListOptions{Limit: 2}, c.ListTeams) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, team.Name+team.ID.String())
	}
	if strings.Join(names, ",") != "a1,b2,c3" {
		t.Fatalf("walked %v", names)
	}

	c = fake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"e1"`)
		status := http.StatusOK
		if r.Method == http.MethodPut {
			status = http.StatusCreated
		}
		envelope(w, status, map[string]any{"user_id": "5", "email": "x@example.com", "role": "member"}, nil)
	})
	m, created, err := c.SetMember(context.Background(), 1, 5, "member")
	if err != nil || !created || m.UserID != 5 || m.ETag != `"e1"` {
		t.Fatalf("SetMember: %+v %v %v", m, created, err)
	}
}
