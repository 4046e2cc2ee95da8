package license

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/gatehousehq/gatehouse/internal/licensekey"
)

// State names where the license stands. Clients of the status endpoint may rely on these strings.
type State string

// The license states.
const (
	// StateCommunity: no key is configured. Gated features are off; nothing is sent anywhere.
	StateCommunity State = "community"
	// StatePending: a key is configured and the first check has not completed yet (start-up
	// never waits for it). Gated features are off until the server answers.
	StatePending State = "pending"
	// StateLicensed: the server's last answer is a valid license; features are as entitled.
	StateLicensed State = "licensed"
	// StateInvalid: the server refused the key (401/403) or said the license is not valid.
	// Gated features are off at once; no grace applies.
	StateInvalid State = "invalid"
	// StateExpired: the license's expires_at has passed (checked locally too, between
	// refreshes) or the server said it expired. Gated features are off.
	StateExpired State = "expired"
	// StateGrace: the server cannot be reached, and the last good answer is younger than the
	// grace period, so it stays in force.
	StateGrace State = "grace"
	// StateUnreachable: the server cannot be reached and there is no good answer within the
	// grace period (or none at all yet). Gated features are off.
	StateUnreachable State = "unreachable"
)

// states lists every state, for the state gauge.
var states = []State{StateCommunity, StatePending, StateLicensed, StateInvalid, StateExpired, StateGrace, StateUnreachable}

// grants reports whether gated features may be on in state s.
func (s State) grants() bool { return s == StateLicensed || s == StateGrace }

// snapshot is the client's published state. It is never modified once stored: the Run goroutine
// copies, changes and stores a new one.
type snapshot struct {
	// good is the last valid license answer; nil before one, and after the server refused the
	// key or said the license is not valid.
	good *license
	// rejected is StateInvalid or StateExpired when the server's last answer was negative.
	rejected State
	// failing means the last check could not reach the server (or got no usable answer).
	failing bool
	// serverID is the installation id for keepalives, kept across failures.
	serverID string

	lastCheck, lastSuccess time.Time
	lastErr                string
	lastKeepalive          time.Time
	keepaliveErr           string
}

// license is one valid answer of the server, with the answers of the features endpoint merged in.
type license struct {
	customer, tier, supportTier string
	issuedAt, expiresAt         time.Time
	features                    map[string]featureDoc
	limits                      Limits
}

// state evaluates s at now: expiry and the end of the grace period take effect at their time,
// between checks, without waiting for the next one.
func (c *Client) state(s *snapshot, now time.Time) State {
	switch {
	case c.key == "":
		return StateCommunity
	case s.rejected != "":
		return s.rejected
	case s.good == nil && s.lastCheck.IsZero():
		return StatePending
	case s.good == nil:
		return StateUnreachable
	case !s.good.expiresAt.IsZero() && !now.Before(s.good.expiresAt):
		return StateExpired
	case !now.Before(s.lastSuccess.Add(c.grace)):
		// Also covers a loop that stopped refreshing: no answer outlives the grace period.
		return StateUnreachable
	case s.failing:
		return StateGrace
	default:
		return StateLicensed
	}
}

// HasFeature reports whether the gated feature name is on now. It answers from the cached state
// and the clock alone: it never waits on the network, takes no lock, and is safe for concurrent
// use. A nil client has no features. ctx is accepted for symmetry with other checks; it is unused.
func (c *Client) HasFeature(_ context.Context, name string) bool {
	if c == nil {
		return false
	}
	s := c.snap.Load()
	if s.good == nil || !c.state(s, c.now()).grants() || !s.good.features[name].Entitled {
		return false
	}
	if n := c.usage[name]; n != nil {
		n.Add(1)
	}
	return true
}

// Status is the license state as admins see it (GET /api/v1/license). It never holds the key,
// only its masked form.
type Status struct {
	// State is where the license stands; see the State constants.
	State State
	// Valid reports whether gated features may be on (licensed, or grace).
	Valid bool
	// Tier is the tier in force: the license's tier when Valid, community otherwise.
	Tier string
	// LicensedTier is the tier of the last valid answer, even when it is no longer in force.
	LicensedTier string
	Customer     string
	SupportTier  string
	Product      string
	// Key is the masked key, such as PENG-XXXX-…-1A2B; empty without a key.
	Key       string
	ServerURL string
	ServerID  string
	// Features lists the watched features and every feature of the last valid answer.
	Features []FeatureStatus
	Limits   *Limits
	// IssuedAt and ExpiresAt come from the last valid answer; zero when unknown or perpetual.
	IssuedAt, ExpiresAt time.Time
	// LastCheck is the end of the last check, successful or not; LastSuccess the last valid
	// answer.
	LastCheck, LastSuccess time.Time
	// LastError is why the last check did not produce a valid license; empty after a success.
	LastError string
	// GraceUntil is when the last good answer stops counting if the server stays unreachable;
	// zero when there is no good answer.
	GraceUntil time.Time
	// LastKeepalive is the last accepted keepalive; LastKeepaliveError why the last one failed.
	LastKeepalive      time.Time
	LastKeepaliveError string
}

// FeatureStatus is one feature in Status.
type FeatureStatus struct {
	Name string
	// Entitled is what the last valid answer said about the feature.
	Entitled bool
	// Enabled is what HasFeature answers now (entitled and the license in force).
	Enabled     bool
	Units       int
	Description string
}

// Status returns the current license state. Like HasFeature it never blocks on the network.
// A nil client reports the community tier.
func (c *Client) Status() Status {
	if c == nil {
		return Status{State: StateCommunity, Tier: "community"}
	}
	s := c.snap.Load()
	now := c.now()
	st := c.state(s, now)
	out := Status{
		State: st, Valid: st.grants(), Tier: "community", Product: c.product, Key: licensekey.Mask(c.key),
		LastCheck: s.lastCheck, LastSuccess: s.lastSuccess, LastError: s.lastErr,
		LastKeepalive: s.lastKeepalive, LastKeepaliveError: s.keepaliveErr,
	}
	if c.key == "" {
		return out
	}
	out.ServerURL, out.ServerID = c.baseURL, s.serverID
	names := slices.Clone(c.watched)
	if g := s.good; g != nil {
		if out.Valid {
			out.Tier = g.tier
		}
		out.LicensedTier, out.Customer, out.SupportTier = g.tier, g.customer, g.supportTier
		out.IssuedAt, out.ExpiresAt = g.issuedAt, g.expiresAt
		limits := g.limits
		out.Limits = &limits
		out.GraceUntil = s.lastSuccess.Add(c.grace)
		names = append(names, slices.Collect(maps.Keys(g.features))...)
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		fs := FeatureStatus{Name: name}
		if s.good != nil {
			f := s.good.features[name]
			fs.Entitled, fs.Units, fs.Description = f.Entitled, f.Units, f.Description
			fs.Enabled = f.Entitled && out.Valid
		}
		out.Features = append(out.Features, fs)
	}
	return out
}
