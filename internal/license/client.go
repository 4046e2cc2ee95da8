package license

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse/internal/licensekey"
)

// idleWake bounds how long Run sleeps when no refresh, keepalive or time boundary is near, so
// that a clock jump is noticed within a day at worst.
const idleWake = 24 * time.Hour

// Run keeps the license state current until ctx ends: it validates at once, then every
// RefreshInterval, retries failed checks with bounded exponential backoff and jitter, sends
// keepalives every KeepaliveInterval once the server has named this installation, and logs
// each state transition once. Start it in its own goroutine: nothing waits for the first
// answer. Without a key it logs the community tier and returns. Run may be called only once.
func (c *Client) Run(ctx context.Context) {
	if !c.running.CompareAndSwap(false, true) {
		c.log.Error("license client: Run called twice; the second call does nothing")
		return
	}
	if c.key == "" {
		c.observe()
		return
	}
	if u, err := url.Parse(c.baseURL); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		c.log.Warn("LICENSE_SERVER_URL uses plain http: the license key travels unencrypted", "server", c.baseURL)
	}

	refresh := time.NewTimer(0)
	defer refresh.Stop()
	keepalive := time.NewTimer(idleWake)
	keepalive.Stop()
	defer keepalive.Stop()
	boundary := time.NewTimer(idleWake)
	defer boundary.Stop()
	failures := 0
	keepaliveOn := false
	for {
		before := c.state(c.snap.Load(), c.now())
		refreshed := false
		select {
		case <-ctx.Done():
			return
		case <-refresh.C:
			refreshed = true
			failed := c.check(ctx)
			if ctx.Err() != nil {
				return
			}
			if failed {
				failures++
				refresh.Reset(c.backoff(failures))
			} else {
				failures = 0
				refresh.Reset(c.refresh)
			}
			if !keepaliveOn && c.snap.Load().good != nil && c.snap.Load().serverID != "" {
				keepaliveOn = true
				keepalive.Reset(0)
			}
		case <-keepalive.C:
			c.keepalive(ctx)
			if ctx.Err() != nil {
				return
			}
			keepalive.Reset(c.keepaliveEvery)
		case <-boundary.C:
		}
		after := c.observe()
		if !refreshed && after == StateExpired && before.grants() {
			// The license ran out between checks: ask at once whether it has been renewed.
			refresh.Reset(0)
		}
		boundary.Reset(c.untilBoundary())
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// backoff is the delay before retry number n (n >= 1) of a failed check: RetryMin doubled per
// further failure, never more than RefreshInterval, with jitter.
func (c *Client) backoff(n int) time.Duration {
	d := c.retryMin
	for i := 1; i < n && d < c.refresh; i++ {
		d *= 2
	}
	return c.jitter(min(d, c.refresh))
}

// equalJitter returns a random duration in [d/2, d], so that many instances that lost the
// server together do not retry in step.
func equalJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1) // #nosec G404 -- spreading retries needs no cryptographic randomness
}

// untilBoundary is how long until the state may change without a check: the expiry of the
// license or the end of its grace period.
func (c *Client) untilBoundary() time.Duration {
	s := c.snap.Load()
	wait := idleWake
	if s.good == nil || s.rejected != "" {
		return wait
	}
	now := c.now()
	for _, at := range []time.Time{s.good.expiresAt, s.lastSuccess.Add(c.grace)} {
		if d := at.Sub(now); !at.IsZero() && d > 0 && d < wait {
			wait = d
		}
	}
	return wait
}

// check validates the license and asks about every watched feature, then publishes the
// outcome. A check is all or nothing: if any call fails, the previous answer stands (subject to
// grace). It reports whether the check failed for want of a usable answer (the case retried with
// backoff); a definite answer, valid or not, is not a failure. Only the Run goroutine calls it.
func (c *Client) check(ctx context.Context) (failed bool) {
	lic, serverID, rejected, err := c.fetch(ctx)
	if ctx.Err() != nil {
		return true // shutting down: the interrupted check says nothing about the license
	}
	s := *c.snap.Load()
	s.lastCheck = c.now()
	switch {
	case err == nil:
		s.good, s.rejected, s.failing, s.lastErr, s.lastSuccess = lic, "", false, "", s.lastCheck
		if serverID != "" {
			s.serverID = serverID
		} else if s.serverID == "" {
			s.serverID = c.serverID
		}
	case rejected != "":
		s.good, s.rejected, s.failing, s.lastErr = nil, rejected, false, c.scrub(err.Error())
	default:
		failed = true
		s.failing, s.lastErr = true, c.scrub(err.Error())
		c.log.Debug("license check failed", "error", s.lastErr)
	}
	c.snap.Store(&s)
	return failed
}

// fetch performs the calls of one check. On a negative answer it returns the state it leads to
// (invalid or expired) with the reason.
func (c *Client) fetch(ctx context.Context) (lic *license, serverID string, rejected State, err error) {
	var doc licenseDoc
	if err := c.post(ctx, pathValidate, productBody{Product: c.product}, &doc); err != nil {
		if isRejected(err) {
			return nil, "", StateInvalid, fmt.Errorf("the license server refused the key: %w", err)
		}
		return nil, "", "", err
	}
	if doc.Valid == nil {
		return nil, "", "", errors.New("license server: POST " + pathValidate + ": the answer has no \"valid\" field")
	}
	expires, err := parseTime(doc.ExpiresAt)
	if err != nil {
		return nil, "", "", fmt.Errorf("license server: expires_at: %w", err)
	}
	issued, err := parseTime(doc.IssuedAt)
	if err != nil {
		return nil, "", "", fmt.Errorf("license server: issued_at: %w", err)
	}
	if !*doc.Valid {
		if !expires.IsZero() && !c.now().Before(expires) {
			return nil, "", StateExpired, fmt.Errorf("the license expired at %s", expires.UTC().Format(time.RFC3339))
		}
		return nil, "", StateInvalid, errors.New("the license server says the license is not valid")
	}
	lic = &license{
		customer: doc.Customer, tier: doc.Tier, supportTier: doc.Metadata.SupportTier,
		issuedAt: issued, expiresAt: expires, limits: doc.Limits,
		features: make(map[string]featureDoc, len(doc.Features)+len(c.watched)),
	}
	if lic.tier == "" {
		lic.tier = "community"
	}
	for _, f := range doc.Features {
		if f.Name != "" {
			lic.features[f.Name] = f
		}
	}
	// The features endpoint is the authority on each gated feature Gatehouse uses.
	for _, name := range c.watched {
		var fd featuresDoc
		if err := c.post(ctx, pathFeatures, featureBody{Product: c.product, Feature: name}, &fd); err != nil {
			if isRejected(err) {
				return nil, "", StateInvalid, fmt.Errorf("the license server refused the key: %w", err)
			}
			return nil, "", "", err
		}
		f := featureDoc{}
		if len(fd.Features) > 0 {
			f = fd.Features[0]
		}
		if f.Description == "" {
			f.Description = lic.features[name].Description
		}
		f.Name = name
		lic.features[name] = f
	}
	return lic, doc.Metadata.ServerID, "", nil
}

// keepalive reports this installation and its usage. A keepalive never changes the license
// state; its outcome is shown in Status. Without a server id it validates first, as the
// protocol asks. Only the Run goroutine calls it.
func (c *Client) keepalive(ctx context.Context) {
	s := c.snap.Load()
	if s.rejected != "" {
		return // the key is refused: there is nothing to keep alive
	}
	if s.serverID == "" {
		c.check(ctx)
		if s = c.snap.Load(); s.serverID == "" || ctx.Err() != nil {
			return
		}
	}
	body := keepaliveBody{
		Product: c.product, ServerID: s.serverID, Hostname: c.hostname, Version: c.version,
		UptimeSeconds: int64(c.now().Sub(c.started) / time.Second),
		UsageStats:    usageStats{FeatureUsage: make(map[string]featureUsage, len(c.usage))},
	}
	for name, n := range c.usage {
		body.UsageStats.FeatureUsage[name] = featureUsage{UsageCount: n.Load()}
	}
	if c.activeUsers != nil {
		if n, err := c.activeUsers(ctx); err != nil {
			c.log.Warn("license keepalive: counting active users failed; sending without", "error", err)
		} else {
			body.UsageStats.ActiveUsers = &n
		}
	}
	err := c.post(ctx, pathKeepalive, body, nil)
	if ctx.Err() != nil {
		return
	}
	next := *c.snap.Load()
	if err != nil {
		next.keepaliveErr = c.scrub(err.Error())
		c.log.Debug("license keepalive failed", "error", next.keepaliveErr)
	} else {
		next.lastKeepalive, next.keepaliveErr = c.now(), ""
	}
	c.snap.Store(&next)
}

// scrub removes the key from a message. No message is built from the key, but one that came
// from elsewhere (a proxy's error page echoed in a transport error) must not carry it onwards.
func (c *Client) scrub(msg string) string {
	if c.key == "" {
		return msg
	}
	return strings.ReplaceAll(msg, c.key, licensekey.Mask(c.key))
}

// observe logs the current state if it differs from the last one logged, and returns it. Each
// transition is logged once, not every check: info for the community tier and a valid license,
// a warning when gated features turn off or survive only on grace. Only the Run goroutine calls it.
func (c *Client) observe() State {
	s := c.snap.Load()
	st := c.state(s, c.now())
	sig := string(st)
	if st == StateLicensed && s.good != nil {
		// A changed license (tier, expiry, entitlements) is worth a line of its own.
		sig += "|" + s.good.tier + "|" + s.good.expiresAt.String() + "|" + strings.Join(entitled(s.good), ",")
	}
	if sig == c.logged {
		return st
	}
	c.logged = sig
	switch st {
	case StateCommunity:
		c.log.Info("no license key (LICENSE_KEY): community tier, licensed features are off")
	case StateLicensed:
		attrs := []any{"tier", s.good.tier, "customer", s.good.customer, "features", entitled(s.good), "key", licensekey.Mask(c.key)}
		if !s.good.expiresAt.IsZero() {
			attrs = append(attrs, "expires_at", s.good.expiresAt)
		}
		c.log.Info("license valid", attrs...)
	case StateGrace:
		c.log.Warn("license server unreachable: licensed features stay on until the grace period ends",
			"grace_until", s.lastSuccess.Add(c.grace), "last_success", s.lastSuccess, "error", s.lastErr)
	case StateUnreachable:
		attrs := []any{"error", s.lastErr}
		if !s.lastSuccess.IsZero() {
			attrs = append(attrs, "last_success", s.lastSuccess)
		}
		c.log.Warn("license server unreachable and no license answer within the grace period: licensed features are off", attrs...)
	case StateInvalid:
		c.log.Warn("license invalid: licensed features are off", "key", licensekey.Mask(c.key), "error", s.lastErr)
	case StateExpired:
		attrs := []any{"key", licensekey.Mask(c.key)}
		if s.good != nil {
			attrs = append(attrs, "expires_at", s.good.expiresAt)
		} else {
			attrs = append(attrs, "error", s.lastErr)
		}
		c.log.Warn("license expired: licensed features are off", attrs...)
	case StatePending:
		c.log.Debug("license check pending")
	}
	return st
}

// entitled lists the features the license grants, sorted.
func entitled(l *license) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(l.features)) {
		if l.features[name].Entitled {
			out = append(out, name)
		}
	}
	return out
}
