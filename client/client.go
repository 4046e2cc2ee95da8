package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// DefaultVersion is the API major version a Client speaks unless Version says otherwise.
const DefaultVersion = 1

// maxResponseBytes bounds how much of a response body the client reads: far above anything the
// API sends, it keeps a misbehaving server or proxy from exhausting memory.
const maxResponseBytes = 16 << 20

// TokenSource supplies the bearer credential of each request: an access token or an API key.
// An empty token sends the request without Authorization.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// StaticToken is a TokenSource that always supplies the same token (an API key, or an access
// token the caller refreshes itself).
type StaticToken string

// Token returns the token.
func (t StaticToken) Token(context.Context) (string, error) { return string(t), nil }

// Client calls one Gatehouse service. Its fields may be set after New and before the first
// request; a Client is safe for concurrent use once set up.
type Client struct {
	// BaseURL is the service's address without the /api part ("https://auth.example.com").
	BaseURL string
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Version is the API major version requests go to (/api/v{Version}/…); 0 means
	// DefaultVersion.
	Version int
	// Tokens supplies the bearer credential; nil sends requests without one (registration,
	// sign-in, refresh).
	Tokens TokenSource
	// UserAgent, when set, is sent as the User-Agent header (it shows in the account's
	// sessions list).
	UserAgent string
}

// New returns a client of the service at baseURL, speaking DefaultVersion, with no credential.
func New(baseURL string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/")}
}

// WithToken returns a copy of c that sends token (an access token or an API key) as its bearer
// credential.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.Tokens = StaticToken(token)
	return &cp
}

// WithVersion returns a copy of c that speaks API major version v.
func (c *Client) WithVersion(v int) *Client {
	cp := *c
	cp.Version = v
	return &cp
}

// Error is a failure the service answered with its error envelope.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is the envelope's error.code: "invalid", "unauthenticated", "forbidden",
	// "not_found", "conflict", "precondition_failed", "rate_limited", "unavailable", … or a more
	// specific reason (see docs/api.md). Empty when the answer was not an envelope.
	Code string
	// Message is meant for people and may change.
	Message string
	// Fields names the request fields at fault (JSON paths into the request body) and what is
	// wrong with each; nil when no field is.
	Fields map[string]string
	// RequestID is the X-Request-ID of the answer, to quote when reporting a problem.
	RequestID string
	// RetryAfter is the Retry-After header (seconds) of a 429 or 503, "" when absent.
	RetryAfter string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gatehouse: %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// CodeOf returns the error code of err when it is (or wraps) an *Error, "" otherwise.
func CodeOf(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return ""
}

// ID is a resource identifier. It decodes from a JSON number (API v1) or a decimal string
// (API v2) and encodes as a number, which both versions accept in requests.
type ID int64

// String returns the decimal form, as paths use it.
func (id ID) String() string { return strconv.FormatInt(int64(id), 10) }

// UnmarshalJSON accepts 42 and "42"; null leaves the ID unchanged.
func (id *ID) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = str
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("client: id %s is not an integer", b)
	}
	*id = ID(n)
	return nil
}

// Message is the answer of the endpoints that only report what they did.
type Message struct {
	Message string `json:"message"`
}

// ListOptions select a page of a list: Limit items (0: the service's default, 50; at most 100)
// after Cursor (the NextCursor of the previous page; "" for the first).
type ListOptions struct {
	Limit  int
	Cursor string
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	return q
}

// Page is one page of a list.
type Page[T any] struct {
	Items []T
	// Limit is the page size the service used.
	Limit int
	// NextCursor fetches the next page (ListOptions.Cursor); "" on the last page.
	NextCursor string
}

// All walks every item of a list, page after page, starting with opts (its Limit is kept for
// every page). It stops at the first error, which it yields with a zero item.
func All[T any](ctx context.Context, opts ListOptions, list func(context.Context, ListOptions) (*Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			p, err := list(ctx, opts)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, x := range p.Items {
				if !yield(x, nil) {
					return
				}
			}
			if p.NextCursor == "" {
				return
			}
			opts.Cursor = p.NextCursor
		}
	}
}

// RequestOption changes one request, for example to make it conditional (IfMatch).
type RequestOption func(*http.Request)

// IfMatch makes a change conditional on the resource's ETag (the ETag field of the resource
// as it was read): the service refuses it with 412 "precondition_failed" when the resource has
// changed since.
func IfMatch(etag string) RequestOption {
	return func(r *http.Request) {
		if etag != "" {
			r.Header.Set("If-Match", etag)
		}
	}
}

// Header sets a request header, for example X-Request-ID to correlate logs.
func Header(name, value string) RequestOption {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

// envelope is the service's answer around data.
type envelope struct {
	Status string          `json:"status"`
	Data   json.RawMessage `json:"data"`
	Error  *struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
	Meta struct {
		Version    int    `json:"version"`
		RequestID  string `json:"request_id"`
		Limit      int    `json:"limit"`
		NextCursor string `json:"next_cursor"`
	} `json:"meta"`
}

// result is what a call returns besides the decoded data.
type result struct {
	status int
	header http.Header
	env    envelope
}

// noBody marks a request that sends no body at all (not even null).
var noBody any = struct{ none bool }{}

// call sends method path (relative to /api/v{n}) with body JSON-encoded (noBody for none), and
// decodes the envelope's data into out (nil to ignore it).
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any, opts ...RequestOption) (*result, error) {
	v := c.Version
	if v == 0 {
		v = DefaultVersion
	}
	u := c.BaseURL + "/api/v" + strconv.Itoa(v) + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != noBody {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("client: encoding the %s %s request: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if c.Tokens != nil {
		tok, err := c.Tokens.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("client: token for %s %s: %w", method, path, err)
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	for _, o := range opts {
		o(req)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("client: reading the answer to %s %s: %w", method, path, err)
	}
	res := &result{status: resp.StatusCode, header: resp.Header}
	envErr := json.Unmarshal(raw, &res.env)
	if resp.StatusCode >= 400 || res.env.Status == "error" {
		e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-ID"), RetryAfter: resp.Header.Get("Retry-After")}
		if envErr == nil && res.env.Error != nil {
			e.Code, e.Message, e.Fields = res.env.Error.Code, res.env.Error.Message, res.env.Error.Fields
		} else {
			e.Message = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
		}
		return res, e
	}
	if envErr != nil {
		return res, fmt.Errorf("client: %s %s answered %d without an envelope: %w", method, path, resp.StatusCode, envErr)
	}
	if out != nil {
		if err := json.Unmarshal(res.env.Data, out); err != nil {
			return res, fmt.Errorf("client: decoding the answer to %s %s: %w", method, path, err)
		}
	}
	return res, nil
}

// list fetches one page of a list.
func list[T any](ctx context.Context, c *Client, path string, opts ListOptions) (*Page[T], error) {
	var items []T
	res, err := c.call(ctx, http.MethodGet, path, opts.query(), noBody, &items)
	if err != nil {
		return nil, err
	}
	return &Page[T]{Items: items, Limit: res.env.Meta.Limit, NextCursor: res.env.Meta.NextCursor}, nil
}
