package license

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The license server's endpoints.
const (
	pathValidate  = "/api/v2/validate"
	pathFeatures  = "/api/v2/features"
	pathKeepalive = "/api/v2/keepalive"
)

// licenseDoc is the license document validate answers with. license_key is deliberately not
// decoded: the client has no use for it and must never keep a second copy of the key around.
type licenseDoc struct {
	Customer       string       `json:"customer"`
	Product        string       `json:"product"`
	LicenseVersion string       `json:"license_version"`
	ExpiresAt      string       `json:"expires_at"`
	IssuedAt       string       `json:"issued_at"`
	Tier           string       `json:"tier"`
	Valid          *bool        `json:"valid"`
	Features       []featureDoc `json:"features"`
	Limits         Limits       `json:"limits"`
	Metadata       struct {
		ServerID    string `json:"server_id"`
		SupportTier string `json:"support_tier"`
	} `json:"metadata"`
}

// featureDoc is one feature object of the protocol.
type featureDoc struct {
	Name        string `json:"name"`
	Entitled    bool   `json:"entitled"`
	Units       int    `json:"units"`
	Description string `json:"description"`
}

// featuresDoc is the answer of POST /api/v2/features.
type featuresDoc struct {
	Features []featureDoc `json:"features"`
}

// Limits are the license's limits as the server states them (-1 means unlimited).
type Limits struct {
	MaxServers        int `json:"max_servers"`
	MaxUsers          int `json:"max_users"`
	DataRetentionDays int `json:"data_retention_days"`
}

type productBody struct {
	Product string `json:"product"`
}

type featureBody struct {
	Product string `json:"product"`
	Feature string `json:"feature"`
}

type keepaliveBody struct {
	Product       string     `json:"product"`
	ServerID      string     `json:"server_id"`
	Hostname      string     `json:"hostname"`
	Version       string     `json:"version"`
	UptimeSeconds int64      `json:"uptime_seconds"`
	UsageStats    usageStats `json:"usage_stats"`
}

type usageStats struct {
	// ActiveUsers is absent when it could not be counted, rather than a misleading zero.
	ActiveUsers  *int                    `json:"active_users,omitempty"`
	FeatureUsage map[string]featureUsage `json:"feature_usage"`
}

type featureUsage struct {
	UsageCount int64 `json:"usage_count"`
}

// callError is a failed call to the license server. rejected means the server refused the key
// (401 or 403): the license is invalid and no grace applies. Anything else (network errors,
// timeouts, other statuses, unreadable answers) means the server could not be relied on, and
// the last good answer stays in force for the grace period.
type callError struct {
	path     string
	status   int
	rejected bool
	err      error
}

func (e *callError) Error() string {
	switch {
	case e.status != 0:
		return fmt.Sprintf("license server: POST %s: %d %s", e.path, e.status, http.StatusText(e.status))
	default:
		return fmt.Sprintf("license server: POST %s: %v", e.path, e.err)
	}
}

func (e *callError) Unwrap() error { return e.err }

// isRejected reports whether err is the server refusing the key.
func isRejected(err error) bool {
	ce, ok := errors.AsType[*callError](err)
	return ok && ce.rejected
}

// post sends one request with the key as Bearer token and decodes a 200 answer into out (when
// not nil). Every call has its own timeout and a bounded body.
func (c *Client) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return &callError{path: path, err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, bytes.NewReader(b))
	if err != nil {
		return &callError{path: path, err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.agent)
	resp, err := c.http.Do(req)
	if err != nil {
		return &callError{path: path, err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if resp.StatusCode != http.StatusOK {
		code := resp.StatusCode
		return &callError{path: path, status: code, rejected: code == http.StatusUnauthorized || code == http.StatusForbidden}
	}
	switch {
	case err != nil:
		return &callError{path: path, err: fmt.Errorf("reading the answer: %w", err)}
	case len(data) > maxBody:
		return &callError{path: path, err: fmt.Errorf("answer larger than %d bytes", maxBody)}
	case out == nil:
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &callError{path: path, err: fmt.Errorf("unreadable answer: %w", err)}
	}
	return nil
}

// parseTime reads the protocol's ISO 8601 timestamps: RFC 3339, or without a zone (taken as
// UTC), or a bare date (the license then runs to the end of that day, UTC). Empty is zero.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, time.UTC); err == nil {
		return t.AddDate(0, 0, 1), nil
	}
	return time.Time{}, fmt.Errorf("not an ISO 8601 time: %q", s)
}
