package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// Device tokens are OWASP's "device cookies" (Slow down online guessing attacks with device
// cookies): a client that signed in to an account with its password gets a token signed with
// a server key that names the account, a random nonce and the time it was issued. Presented
// with a later sign-in to the same account, it makes the client a trusted device: the
// per-account backoff and lockout, which failures from anywhere push up, do not apply to it;
// it has its own small failure budget instead (Options.DeviceFailures per 24 hours), after
// which the token is not trusted any more until it expires. Per-address limits apply to every
// client. So an attacker guessing from many addresses slows down and locks out the unknown
// clients of an account, never the owner's own browser or app.
//
// The format is "d1." + base64url(user id, 8 bytes | nonce, 16 bytes | issued at, unix
// seconds, 8 bytes) + "." + base64url(HMAC-SHA-256(key, "gatehouse-device-v1." + that
// payload)). Nothing is stored for a token until it fails: its counter is a row of the
// throttles table keyed by the nonce, shared by every instance.

const (
	deviceTokenPrefix = "d1."
	devicePayloadLen  = 8 + 16 + 8
	// DefaultDeviceMaxAge is SECURITY_DEVICE_TOKEN_MAX_AGE's default.
	DefaultDeviceMaxAge = 180 * 24 * time.Hour
	// DefaultDeviceFailures is SECURITY_DEVICE_TOKEN_FAILURES's default.
	DefaultDeviceFailures = 5
)

// deviceToken is a verified device token.
type deviceToken struct {
	UserID   int64
	Nonce    string // hex
	IssuedAt time.Time
}

// NewDeviceKey returns a new random key for device tokens (32 bytes, base64), generated at
// the first start and stored in the database like the password salt.
func NewDeviceKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func (s *Service) devicesOn() bool { return len(s.opts.DeviceKey) > 0 && s.opts.DeviceMaxAge > 0 }

func (s *Service) deviceMAC(payload []byte) []byte {
	m := hmac.New(sha256.New, s.opts.DeviceKey)
	m.Write([]byte("gatehouse-device-v1."))
	m.Write(payload)
	return m.Sum(nil)
}

// issueDeviceToken returns a new device token for u ("" when device tokens are off).
func (s *Service) issueDeviceToken(u *gatehouse.User) string {
	if !s.devicesOn() {
		return ""
	}
	p := make([]byte, devicePayloadLen)
	binary.BigEndian.PutUint64(p[0:8], uint64(u.ID)) // #nosec G115 -- ids are positive
	_, _ = rand.Read(p[8:24])
	binary.BigEndian.PutUint64(p[24:32], uint64(s.now().Unix())) // #nosec G115 -- after 1970
	enc := base64.RawURLEncoding
	return deviceTokenPrefix + enc.EncodeToString(p) + "." + enc.EncodeToString(s.deviceMAC(p))
}

// parseDeviceToken returns the token when its signature is right and it has not expired;
// nil otherwise (and for "").
func (s *Service) parseDeviceToken(tok string) *deviceToken {
	if tok == "" || !s.devicesOn() || len(tok) > 200 {
		return nil
	}
	rest, ok := strings.CutPrefix(tok, deviceTokenPrefix)
	if !ok {
		return nil
	}
	ps, ms, ok := strings.Cut(rest, ".")
	if !ok {
		return nil
	}
	enc := base64.RawURLEncoding
	p, err1 := enc.DecodeString(ps)
	mac, err2 := enc.DecodeString(ms)
	if err1 != nil || err2 != nil || len(p) != devicePayloadLen || !hmac.Equal(mac, s.deviceMAC(p)) {
		return nil
	}
	d := &deviceToken{
		UserID:   int64(binary.BigEndian.Uint64(p[0:8])), // #nosec G115 -- signed by us
		Nonce:    hex.EncodeToString(p[8:24]),
		IssuedAt: time.Unix(int64(binary.BigEndian.Uint64(p[24:32])), 0), // #nosec G115 -- signed by us
	}
	if now := s.now(); !now.Before(d.IssuedAt.Add(s.opts.DeviceMaxAge)) || d.IssuedAt.After(now.Add(time.Minute)) {
		return nil
	}
	return d
}

func deviceKey(nonce string) string { return "login:dev:" + nonce }

// loginGate holds the counters of one sign-in attempt: the account's, the client address's
// and, when a device token was presented, the token's.
type loginGate struct {
	acct, ip string
	dev      *deviceToken // nil: an untrusted client
	state    map[string]store.ThrottleState
}

// openGate reads the counters of a sign-in to email from c with deviceTok, in one query.
// Call trust once the account is known.
func (s *Service) openGate(ctx context.Context, email string, c Client, deviceTok string) (*loginGate, error) {
	g := &loginGate{acct: accountKey("login", email)}
	keys := []string{g.acct}
	if c.IP != "" {
		g.ip = ipKey("login", c.IP)
		keys = append(keys, g.ip)
	}
	if g.dev = s.parseDeviceToken(deviceTok); g.dev != nil {
		keys = append(keys, deviceKey(g.dev.Nonce))
	}
	st, err := s.store.Throttle(ctx, keys...)
	g.state = st
	return g, err
}

// trust keeps the device token only when it was made for u (nil: unknown account) and has not
// spent its failure budget.
func (g *loginGate) trust(u *gatehouse.User, now time.Time) {
	if g.dev == nil {
		return
	}
	if u == nil || u.ID != g.dev.UserID || g.state[deviceKey(g.dev.Nonce)].LockedUntil.After(now) {
		g.dev = nil
	}
}

// keys are the counters that apply: the address's, and the device's for a trusted device or
// the account's for any other client.
func (g *loginGate) keys() []string {
	var keys []string
	if g.ip != "" {
		keys = append(keys, g.ip)
	}
	if g.dev != nil {
		return append(keys, deviceKey(g.dev.Nonce))
	}
	return append(keys, g.acct)
}

// verdict is checkThrottle over the counters that apply.
func (s *Service) verdict(g *loginGate) (locked bool, err error) {
	now := s.now()
	var wait time.Duration
	for _, k := range g.keys() {
		t := g.state[k]
		if d := t.BlockedUntil.Sub(now); d > wait {
			wait = d
		}
		if k == g.acct && t.LockedUntil.After(now) { // only accounts lock (SECURITY_LOCKOUT_AFTER)
			locked = true
		}
	}
	if wait > 0 {
		s.metrics.throttled() // sign-ins (password and second step) are the only users of the gate
		return locked, &gatehouse.Error{Code: gatehouse.ERateLimited, Message: "too many failed attempts; try again later", RetryAfter: wait}
	}
	return locked, nil
}

// failLogin records a failed sign-in: against the trusted device's budget, or against the
// account for any other client; against the client address always.
func (s *Service) failLogin(ctx context.Context, g *loginGate, email string, c Client, subject *int64) {
	if g.dev == nil {
		s.fail(ctx, "login", email, c, subject)
		return
	}
	budget := s.opts.DeviceFailures
	if budget <= 0 {
		budget = DefaultDeviceFailures
	}
	expires := g.dev.IssuedAt.Add(s.opts.DeviceMaxAge)
	st, err := s.store.RecordFailure(ctx, deviceKey(g.dev.Nonce), failureWindow, func(failures int, now time.Time) (*time.Time, *time.Time) {
		if failures >= budget {
			return nil, &expires
		}
		return nil, nil
	})
	if err != nil {
		s.log.Error("failure not counted", "action", "login", "error", err)
	}
	if st.Failures == budget {
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginFailure, SubjectID: subject, Email: email,
			Detail: "device token " + g.dev.Nonce[:8] + "… spent its " + strconv.Itoa(budget) + " failures: no longer trusted"}, c)
	}
	if c.IP != "" {
		if _, err := s.store.RecordFailure(ctx, ipKey("login", c.IP), failureWindow, s.policyFor(s.opts.BackoffAfter*ipFactor, 0)); err != nil {
			s.log.Error("failure not counted", "action", "login", "error", err)
		}
	}
}

// gateFor opens the gate of a sign-in step for a known account (the second step).
func (s *Service) gateFor(ctx context.Context, u *gatehouse.User, c Client, deviceTok string) (*loginGate, error) {
	g, err := s.openGate(ctx, u.Email, c, deviceTok)
	if err != nil {
		return nil, err
	}
	g.trust(u, s.now())
	return g, nil
}

// passed clears the counter a successful sign-in proves wrong: the trusted device's, or the
// account's for any other client. A sign-in from a trusted device leaves the account's
// counter as it is, so that an attacker's guesses from elsewhere stay slowed down.
func (s *Service) passed(ctx context.Context, g *loginGate) {
	key := g.acct
	if g.dev != nil {
		key = deviceKey(g.dev.Nonce)
	}
	if err := s.store.ClearThrottle(ctx, key); err != nil {
		s.log.Error("throttle not cleared", "error", err)
	}
}

// parseRequestedScopes reads the scope field every sign-in takes: empty asks for every scope the
// account's roles allow.
func parseRequestedScopes(scope string) ([]gatehouse.Scope, error) {
	requested, bad := gatehouse.ParseScopes(scope)
	if len(bad) > 0 {
		return nil, gatehouse.FieldError("scope", fmt.Sprintf("unknown scope %q (use read, write, admin)", bad[0]))
	}
	return requested, nil
}

// signInStart is the part every first-factor sign-in by email (password, authenticator code,
// emailed code) shares before it checks its own factor: the brute-force gate for the address and
// client, the account (nil when the address has none), the device token's trust in it, and
// whether the account is locked. The account is looked up before the counters are judged:
// whether a device token is trusted depends on the account it names.
func (s *Service) signInStart(ctx context.Context, email string, c Client, deviceTok string) (gate *loginGate, u *gatehouse.User, locked bool, err error) {
	if gate, err = s.openGate(ctx, email, c, deviceTok); err != nil {
		return nil, nil, false, err
	}
	u, err = s.store.UserByEmail(ctx, email)
	if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENotFound {
		return nil, nil, false, err
	}
	if err != nil {
		u = nil
	}
	gate.trust(u, s.now())
	if locked, err = s.verdict(gate); err != nil {
		return nil, nil, false, err
	}
	return gate, u, locked, nil
}
