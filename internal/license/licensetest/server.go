// Package licensetest is a fake license server for tests. It implements the license server's
// documented protocol (POST /api/v2/validate, /api/v2/features and /api/v2/keepalive, the key
// as Bearer token, the product in every body) for one license, with switchable misbehaviour:
// refused keys, expired or revoked licenses, features entitled or not, slow answers, a server
// that is down or answers 503, and one that flaps. It records every request it receives so that
// tests can assert what the client sent.
//
// New serves on a loopback listener (httptest). NewInMemory serves through an in-process
// transport (Server.Client) with no listener, for tests inside a testing/synctest bubble, where
// a real network would keep the fake clock from advancing.
package licensetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The protocol's endpoints.
const (
	PathValidate  = "/api/v2/validate"
	PathFeatures  = "/api/v2/features"
	PathKeepalive = "/api/v2/keepalive"
)

// Well-formed keys: ValidKey is the one a default License accepts, OtherKey one it refuses.
const (
	ValidKey = "PENG-TEST-0000-0000-0000-1A2B"
	OtherKey = "PENG-TEST-9999-9999-9999-9Z9Z"
)

// License is the one license the fake server knows.
type License struct {
	Key      string // the accepted key; default ValidKey
	Product  string // the licensed product; default "gatehouse"
	Customer string
	Tier     string // community, professional or enterprise; default enterprise
	// IssuedAt and ExpiresAt are sent when set; the license is valid before ExpiresAt (by the
	// server's clock) and answered as not valid from then on.
	IssuedAt, ExpiresAt time.Time
	// Revoked makes validate answer valid: false before expiry.
	Revoked bool
	// Features maps feature names to their entitlement; unknown names are not entitled.
	Features    map[string]bool
	ServerID    string // metadata.server_id; default srv_test
	SupportTier string
	Limits      Limits
}

// Limits of the license.
type Limits struct {
	MaxServers        int `json:"max_servers"`
	MaxUsers          int `json:"max_users"`
	DataRetentionDays int `json:"data_retention_days"`
}

// Enterprise returns a valid enterprise license for ValidKey, entitled to both SSO features.
func Enterprise() License {
	return License{
		Customer: "Example Corp", Tier: "enterprise",
		Features: map[string]bool{"sso_saml": true, "sso_oauth": true},
		Limits:   Limits{MaxServers: -1, MaxUsers: -1, DataRetentionDays: 365},
	}
}

func (l License) withDefaults() License {
	if l.Key == "" {
		l.Key = ValidKey
	}
	if l.Product == "" {
		l.Product = "gatehouse"
	}
	if l.Tier == "" {
		l.Tier = "enterprise"
	}
	if l.ServerID == "" {
		l.ServerID = "srv_test"
	}
	if l.SupportTier == "" {
		l.SupportTier = "email"
	}
	return l
}

// Request is one request the server received, recorded on arrival (before any delay).
type Request struct {
	Time          time.Time // by the server's clock
	Method, Path  string
	Authorization string // the raw header
	ContentType   string
	Body          []byte
	// Product is the body's "product"; HasProduct whether the body had one.
	Product    string
	HasProduct bool
	Feature    string     // the body's "feature" (features requests)
	Keepalive  *Keepalive // the decoded body of a keepalive
}

// Bearer returns the token of the Authorization header ("" without a Bearer one).
func (r Request) Bearer() string {
	tok, ok := strings.CutPrefix(r.Authorization, "Bearer ")
	if !ok {
		return ""
	}
	return tok
}

// Keepalive is the body of POST /api/v2/keepalive.
type Keepalive struct {
	Product       string `json:"product"`
	ServerID      string `json:"server_id"`
	Hostname      string `json:"hostname"`
	Version       string `json:"version"`
	UptimeSeconds int64  `json:"uptime_seconds"`
	UsageStats    Usage  `json:"usage_stats"`
}

// Usage is a keepalive's usage_stats.
type Usage struct {
	ActiveUsers  *int                    `json:"active_users"`
	FeatureUsage map[string]FeatureUsage `json:"feature_usage"`
}

// FeatureUsage is one feature's usage in a keepalive.
type FeatureUsage struct {
	UsageCount int64 `json:"usage_count"`
}

type override struct {
	status int
	body   []byte
}

// Server is the fake license server. Its setters may be called at any time, also while the
// client under test is running.
type Server struct {
	// URL is the base URL to configure as LICENSE_SERVER_URL.
	URL string

	mu        sync.Mutex
	lic       License
	now       func() time.Time
	status    int
	down      bool
	flapping  bool
	flapDown  bool
	delay     time.Duration
	hold      chan struct{}
	overrides map[string]override
	reqs      []Request
	changed   chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	ts     *httptest.Server
	client *http.Client
}

func newServer(lic License) *Server {
	return &Server{
		lic: lic.withDefaults(), now: time.Now, overrides: map[string]override{},
		changed: make(chan struct{}), done: make(chan struct{}),
	}
}

// New starts a fake license server for lic on a loopback port; it is closed when the test ends.
func New(t testing.TB, lic License) *Server {
	t.Helper()
	s := newServer(lic)
	s.ts = httptest.NewServer(s)
	s.URL = s.ts.URL
	s.client = s.ts.Client()
	t.Cleanup(s.Close)
	return s
}

// NewInMemory returns a fake license server reached only through s.Client(), which hands each
// request to the handler in-process. Create it inside the synctest bubble that uses it.
func NewInMemory(t testing.TB, lic License) *Server {
	t.Helper()
	s := newServer(lic)
	s.URL = "http://license.test"
	s.client = &http.Client{Transport: inMemory{s}}
	t.Cleanup(s.Close)
	return s
}

// Client returns an HTTP client that reaches the server.
func (s *Server) Client() *http.Client { return s.client }

// Close stops the server: requests still waiting (Hold, SetDelay) are let go, and a listening
// server's port refuses connections from then on.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		if s.ts != nil {
			s.ts.CloseClientConnections()
			s.ts.Close()
		}
	})
}

// SetLicense replaces the license.
func (s *Server) SetLicense(l License) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lic = l.withDefaults()
}

// SetNow sets the server's clock (expiry decisions, request times). Default time.Now.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetStatus makes every request fail with the status code (such as 503, or 401 for a refused
// key regardless of the key); 0 restores normal answers.
func (s *Server) SetStatus(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = code
}

// SetDown makes the server drop every connection without an answer (the client sees a network
// error), or restores it.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// SetFlapping makes the server alternate on every validate request between up (the first) and
// down (503); the other requests follow the last validate's phase.
func (s *Server) SetFlapping(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flapping, s.flapDown = on, true
}

// SetDelay makes every answer wait d first, or until the client gives up: a delay beyond the
// client's timeout makes the server slow.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Hold makes every request arriving from now on wait (recorded, unanswered) until release is
// called or the client gives up. release may be called more than once.
func (s *Server) Hold() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.hold = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.hold == ch {
				s.hold = nil
			}
			s.mu.Unlock()
			close(ch)
		})
	}
}

// Override answers every request to path with status and body verbatim (a malformed document,
// an oversized one, an unusual status); status 0 removes the override.
func (s *Server) Override(path string, status int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.overrides, path)
		return
	}
	s.overrides[path] = override{status: status, body: body}
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Count returns how many requests to path were received.
func (s *Server) Count(path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Path == path {
			n++
		}
	}
	return n
}

// WaitFor waits until cond holds for the requests received so far, and returns them. It returns
// ctx's error if ctx ends first.
func (s *Server) WaitFor(ctx context.Context, cond func([]Request) bool) ([]Request, error) {
	for {
		s.mu.Lock()
		reqs := append([]Request(nil), s.reqs...)
		changed := s.changed
		s.mu.Unlock()
		if cond(reqs) {
			return reqs, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return reqs, ctx.Err()
		}
	}
}

// ServeHTTP implements the protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rec := Request{
		Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"),
		ContentType: r.Header.Get("Content-Type"), Body: body,
	}
	var fields struct {
		Product *string `json:"product"`
		Feature string  `json:"feature"`
	}
	bodyOK := json.Unmarshal(body, &fields) == nil
	if fields.Product != nil {
		rec.Product, rec.HasProduct = *fields.Product, true
	}
	rec.Feature = fields.Feature
	if r.URL.Path == PathKeepalive {
		var k Keepalive
		if json.Unmarshal(body, &k) == nil {
			rec.Keepalive = &k
		}
	}

	s.mu.Lock()
	rec.Time = s.now()
	s.reqs = append(s.reqs, rec)
	close(s.changed)
	s.changed = make(chan struct{})
	hold, delay, down, status := s.hold, s.delay, s.down, s.status
	if s.flapping {
		if r.URL.Path == PathValidate {
			s.flapDown = !s.flapDown
		}
		if s.flapDown {
			status = http.StatusServiceUnavailable
		}
	}
	ov, overridden := s.overrides[r.URL.Path]
	lic, now := s.lic, s.now()
	s.mu.Unlock()

	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	switch {
	case down:
		panic(http.ErrAbortHandler) // drop the connection without an answer
	case status != 0:
		writeError(w, status, http.StatusText(status))
		return
	case overridden:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ov.status)
		_, _ = w.Write(ov.body)
		return
	case r.Method != http.MethodPost:
		writeError(w, http.StatusMethodNotAllowed, "POST only")
		return
	case !strings.HasPrefix(rec.ContentType, "application/json"):
		writeError(w, http.StatusUnsupportedMediaType, "JSON bodies only")
		return
	case !bodyOK:
		writeError(w, http.StatusBadRequest, "the body is not JSON")
		return
	case rec.Bearer() != lic.Key:
		writeError(w, http.StatusUnauthorized, "invalid license key")
		return
	case !rec.HasProduct || rec.Product == "":
		writeError(w, http.StatusBadRequest, "product is required")
		return
	}
	valid := !lic.Revoked && rec.Product == lic.Product && (lic.ExpiresAt.IsZero() || now.Before(lic.ExpiresAt))
	switch r.URL.Path {
	case PathValidate:
		writeJSON(w, document(lic, valid))
	case PathFeatures:
		if rec.Feature == "" {
			writeError(w, http.StatusBadRequest, "feature is required")
			return
		}
		writeJSON(w, map[string]any{"features": []feature{featureOf(lic, rec.Feature, valid)}})
	case PathKeepalive:
		if rec.Keepalive == nil || rec.Keepalive.ServerID != lic.ServerID {
			writeError(w, http.StatusBadRequest, "unknown server_id")
			return
		}
		writeJSON(w, map[string]any{"success": true})
	default:
		writeError(w, http.StatusNotFound, "no such endpoint")
	}
}

type feature struct {
	Name        string         `json:"name"`
	Entitled    bool           `json:"entitled"`
	Units       int            `json:"units"`
	Description string         `json:"description"`
	Metadata    map[string]any `json:"metadata"`
}

func featureOf(lic License, name string, valid bool) feature {
	return feature{Name: name, Entitled: valid && lic.Features[name], Units: 0, Description: "feature " + name, Metadata: map[string]any{}}
}

func document(lic License, valid bool) map[string]any {
	features := []feature{}
	for name := range lic.Features {
		features = append(features, featureOf(lic, name, valid))
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	return map[string]any{
		"customer": lic.Customer, "product": lic.Product, "license_version": "2.0",
		"license_key": lic.Key, "expires_at": stamp(lic.ExpiresAt), "issued_at": stamp(lic.IssuedAt),
		"tier": lic.Tier, "valid": valid, "features": features, "limits": lic.Limits,
		"metadata": map[string]any{"server_id": lic.ServerID, "support_tier": lic.SupportTier, "custom_fields": map[string]any{}},
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, err := json.Marshal(map[string]string{"error": msg})
	if err != nil {
		return
	}
	_, _ = w.Write(b)
}
