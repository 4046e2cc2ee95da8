package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Response is an answer of the server, its envelope decoded.
type Response struct {
	Status int
	Header http.Header
	Body   struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  *struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		} `json:"error"`
		Meta struct {
			Version    int    `json:"version"`
			Limit      int    `json:"limit"`
			NextCursor string `json:"next_cursor"`
		} `json:"meta"`
	}
	// Raw is the body as received.
	Raw []byte
}

// Data decodes the envelope's data into v.
func (r *Response) Data(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body.Data, v); err != nil {
		t.Fatalf("servertest: data: %v\n%s", err, r.Raw)
	}
}

// Code is the error code of an error envelope, "" for a success.
func (r *Response) Code() string {
	if r.Body.Error == nil {
		return ""
	}
	return r.Body.Error.Code
}

// Field is the problem the error envelope reports for a request field, "" when none.
func (r *Response) Field(name string) string {
	if r.Body.Error == nil {
		return ""
	}
	return r.Body.Error.Fields[name]
}

// Expect fails the test unless the answer has the status and, for an error, the code ("" for a
// success).
func (r *Response) Expect(t testing.TB, status int, code string) *Response {
	t.Helper()
	if r.Status != status || r.Code() != code {
		t.Fatalf("servertest: got %d %q, want %d %q\n%s", r.Status, r.Code(), status, code, r.Raw)
	}
	return r
}

// Do sends a request with a bearer token ("" for none) and a body: JSON-encoded, or sent as is
// when it is a string; nil for none. header adds request headers as name, value pairs
// ("If-Match", etag).
func (e *Env) Do(method, path, token string, body any, header ...string) *Response {
	e.t.Helper()
	return do(e.t, e.srv.Client(), e.URL, method, path, token, body, header...)
}

func do(t testing.TB, c *http.Client, base, method, path, token string, body any, header ...string) *Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if len(header)%2 != 0 {
		t.Fatalf("servertest: Do: header %q has no value", header[len(header)-1])
	}
	for i := 0; i < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out := &Response{Status: resp.StatusCode, Header: resp.Header}
	if out.Raw, err = io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(path, "/api/") {
		if err := json.Unmarshal(out.Raw, &out.Body); err != nil {
			t.Fatalf("servertest: %s %s: not an envelope: %v\n%s", method, path, err, out.Raw)
		}
	}
	return out
}
