package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/rbac"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/token"
)

// errInvalidCredentials is the one answer to a failed login, whatever failed (unknown email,
// wrong password, locked or inactive account), so that nobody can learn which accounts exist.
var errInvalidCredentials = gatehouse.Errorf(gatehouse.EUnauthenticated, "invalid email or password")

// errInvalidUsernameCredentials is errInvalidCredentials for a sign-in with a username: the
// message follows what was typed, never whether the account exists.
var errInvalidUsernameCredentials = gatehouse.Errorf(gatehouse.EUnauthenticated, "invalid username or password")

// ValidateEmail checks an email address's form and returns it trimmed.
func ValidateEmail(field, email string) (string, error) {
	email = strings.TrimSpace(email)
	switch {
	case email == "":
		return "", gatehouse.FieldError(field, "is required")
	case len(email) > 320:
		return "", gatehouse.FieldError(field, "must be at most 320 characters")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") && !strings.HasSuffix(email, "@localhost") {
		return "", gatehouse.FieldError(field, "must be an email address such as name@example.com")
	}
	return email, nil
}

// throttle keys: per account (hashed so any email fits) and per client address.
func accountKey(action, email string) string {
	sum := sha256.Sum256([]byte(store.NormalizeEmail(email)))
	return action + ":acct:" + hex.EncodeToString(sum[:16])
}

func ipKey(action, ip string) string { return action + ":ip:" + ip }

// ipFactor lets a client address fail this many times more than one account before it is
// slowed down: many users may share one address behind NAT.
const ipFactor = 4

// failureWindow is how long failures are remembered after the last one.
const failureWindow = 24 * time.Hour

// backoff returns the wait after the given number of failures: none up to after, then 1 s,
// doubling, capped at 15 minutes.
func backoff(failures, after int) time.Duration {
	if after <= 0 || failures < after {
		return 0
	}
	n := failures - after
	if n > 10 {
		return 15 * time.Minute
	}
	return min(time.Second<<n, 15*time.Minute)
}

func (s *Service) policyFor(after int, lockAfter int) store.ThrottlePolicy {
	return func(failures int, now time.Time) (*time.Time, *time.Time) {
		var blocked, locked *time.Time
		if d := backoff(failures, after); d > 0 {
			t := now.Add(d)
			blocked = &t
		}
		if lockAfter > 0 && failures >= lockAfter {
			t := now.Add(s.opts.LockoutDuration)
			locked = &t
		}
		return blocked, locked
	}
}

// checkThrottle refuses with 429 and Retry-After while any key is in backoff.
func (s *Service) checkThrottle(ctx context.Context, keys ...string) (locked bool, err error) {
	st, err := s.store.Throttle(ctx, keys...)
	if err != nil {
		return false, err
	}
	now := s.now()
	var wait time.Duration
	for _, k := range keys {
		t := st[k]
		if d := t.BlockedUntil.Sub(now); d > wait {
			wait = d
		}
		if t.LockedUntil.After(now) {
			locked = true
		}
	}
	if wait > 0 {
		return locked, &gatehouse.Error{Code: gatehouse.ERateLimited, Message: "too many failed attempts; try again later", RetryAfter: wait}
	}
	return locked, nil
}

// fail records a failed attempt against the account and the address.
func (s *Service) fail(ctx context.Context, action, email string, c Client, subject *int64) {
	lockAfter := 0
	if action == "login" { // only password logins lock an account; other flows only slow down
		lockAfter = s.opts.LockoutAfter
	}
	st, err := s.store.RecordFailure(ctx, accountKey(action, email), failureWindow, s.policyFor(s.opts.BackoffAfter, lockAfter))
	if err != nil {
		s.log.Error("failure not counted", "action", action, "error", err)
	}
	if lockAfter > 0 && st.Failures == lockAfter && subject != nil {
		// The lockout is shown on the account (the administration lists locked accounts) and
		// audited in one transaction.
		ev := gatehouse.AuditEvent{Event: gatehouse.AuditLockout, SubjectID: subject, Email: email,
			Detail: "locked until " + st.LockedUntil.Format(time.RFC3339), IP: c.IP, UserAgent: c.UserAgent}
		s.metrics.observe(ev)
		if err := s.store.LockUserAudited(ctx, *subject, st.LockedUntil, ev); err != nil {
			s.log.Error("lockout not recorded on the account", "error", err)
		}
	}
	if c.IP != "" {
		if _, err := s.store.RecordFailure(ctx, ipKey(action, c.IP), failureWindow, s.policyFor(s.opts.BackoffAfter*ipFactor, 0)); err != nil {
			s.log.Error("failure not counted", "action", action, "error", err)
		}
	}
}

// LoginInput is a password login.
type LoginInput struct {
	Email string
	// Username names the account instead of Email (SECURITY_USERNAME_ENABLE): exactly one of
	// them is given.
	Username string
	Password string
	Scope    string // requested scopes, space-separated; empty means all the roles allow
	Remember bool
	// RememberDeviceToken is a token from an earlier "remember this device": valid for this
	// user and security stamp, it skips the second factor.
	RememberDeviceToken string
	// DeviceToken is the device token of an earlier sign-in (see device.go), if any.
	DeviceToken string
	Client      Client
	// firstFactor is the method of a first step that was not the password (see
	// authenticator_login.go): the second step must use another.
	firstFactor string
}

// Login checks a password and opens a session. Unknown emails, wrong passwords, locked and
// inactive accounts all get errInvalidCredentials, after the same bcrypt work.
func (s *Service) Login(ctx context.Context, in LoginInput) (*TokenPair, error) {
	id, byUsername, err := s.loginIdentity(in.Email, in.Username)
	if err != nil {
		return nil, err
	}
	if in.Password == "" {
		return nil, gatehouse.FieldError("password", "is required")
	}
	requested, err := parseRequestedScopes(in.Scope)
	if err != nil {
		return nil, err
	}
	var (
		gate   *loginGate
		u      *gatehouse.User
		locked bool
		// counter is what the account's failures are counted under: the address typed, the
		// account's address for a known username, a key of the name for an unknown one.
		counter = id
		email   = id
		unknown = "unknown email"
		refusal = errInvalidCredentials
	)
	if byUsername {
		email, unknown, refusal = "", "unknown username", errInvalidUsernameCredentials
		gate, u, counter, locked, err = s.signInStartUsername(ctx, id, in.Client, in.DeviceToken)
	} else {
		gate, u, locked, err = s.signInStart(ctx, id, in.Client, in.DeviceToken)
	}
	if err != nil {
		return nil, err
	}
	if u == nil {
		s.hasher.DummyVerify(ctx, in.Password)
		s.failLogin(ctx, gate, counter, in.Client, nil)
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginFailure, Email: email, Detail: unknown}, in.Client)
		return nil, refusal
	}
	if byUsername {
		email = u.Email // events carry the account's address, as a sign-in with it would
	}
	ok, rehash := s.hasher.Verify(ctx, u.PasswordHash, u.PasswordScheme, in.Password)
	if !ok || locked || !u.Active || u.SSOOnly {
		detail := "wrong password"
		switch {
		case !ok:
			s.failLogin(ctx, gate, counter, in.Client, idPtr(u.ID))
		case locked:
			detail = "account locked"
		case !u.Active:
			detail = "account inactive"
		default:
			// The right password of an SSO-only account (see sso.go): refused like a wrong one.
			detail = "password login refused: the account signs in only through SSO"
		}
		if byUsername {
			detail += " (signed in with the username)"
		}
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginFailure, SubjectID: idPtr(u.ID), Email: email, Detail: detail}, in.Client)
		return nil, refusal
	}
	if s.opts.Confirmable && !s.opts.LoginWithoutConfirmation && u.ConfirmedAt == nil {
		return nil, gatehouse.Errorf(gatehouse.EForbidden, "confirm your email address first; check your inbox for the link").WithReason("confirmation_required")
	}
	allowed, err := s.allowedScopes(ctx, u)
	if err != nil {
		return nil, err
	}
	scopes := capScopes(requested, allowed)
	if len(scopes) == 0 {
		return nil, gatehouse.FieldError("scope", "none of the requested scopes is allowed for this account")
	}
	if rehash {
		s.rehash(ctx, u, in.Password)
	}
	// With a second factor the login is not done yet: the throttle stays as it is (wrong codes
	// add to it) until the second step passes, so a known password cannot reset the count.
	if ch, err := s.secondStep(ctx, u, scopes, in); err != nil || ch != nil {
		if ch != nil {
			return &TokenPair{TwoFactor: ch}, nil
		}
		return nil, err
	}
	s.passed(ctx, gate)
	if s.opts.Trackable {
		if err := s.store.RecordLogin(ctx, u.ID, in.Client.IP); err != nil {
			return nil, err
		}
	}
	pair, err := s.openSession(ctx, u, scopes, in.Remember, in.Client)
	if err != nil {
		return nil, err
	}
	pair.DeviceToken = s.issueDeviceToken(u)
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginSuccess, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email}, in.Client)
	return pair, nil
}

// allowedScopes are the scopes the user's roles allow now (rbac.ScopesFor). The memberships are
// read only when the global roles leave something for the team roles to add.
func (s *Service) allowedScopes(ctx context.Context, u *gatehouse.User) ([]gatehouse.Scope, error) {
	if !rbac.NeedsTeamRoles(u.Roles) {
		return rbac.ScopesFor(u.Roles, nil), nil
	}
	ms, err := s.store.Memberships(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	teamRoles := make([]gatehouse.TeamRole, len(ms))
	for i, m := range ms {
		teamRoles[i] = m.Role
	}
	return rbac.ScopesFor(u.Roles, teamRoles), nil
}

// capScopes returns the requested scopes the roles allow (all allowed when none requested).
func capScopes(requested, allowed []gatehouse.Scope) []gatehouse.Scope {
	if len(requested) == 0 {
		return allowed
	}
	var out []gatehouse.Scope
	for _, a := range allowed {
		for _, r := range requested {
			if a == r {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// rehash upgrades a hash made with another scheme or cost, after a successful login.
func (s *Service) rehash(ctx context.Context, u *gatehouse.User, password string) {
	hash, scheme, err := s.hasher.Hash(ctx, password)
	if err == nil {
		err = s.store.SetPassword(ctx, u.ID, store.PasswordUpdate{Hash: hash, Scheme: scheme})
	}
	if err != nil {
		s.log.Warn("password rehash failed", "user_id", u.ID, "error", err)
		return
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditPasswordRehashed, SubjectID: idPtr(u.ID)}, Client{})
}

// openSession creates a session and its first token pair.
func (s *Service) openSession(ctx context.Context, u *gatehouse.User, scopes []gatehouse.Scope, remember bool, c Client) (*TokenPair, error) {
	now := s.now()
	refresh := randomToken(32)
	sess := &gatehouse.Session{
		ID: randomToken(20), UserID: u.ID, Scope: gatehouse.FormatScopes(scopes), Remember: remember,
		IP: c.IP, UserAgent: c.UserAgent, CreatedAt: now, AuthAt: now, ExpiresAt: now.Add(s.opts.RefreshMaxAge),
	}
	if err := s.store.CreateSession(ctx, sess, hashToken(refresh)); err != nil {
		return nil, err
	}
	return s.pair(u, sess, refresh)
}

func (s *Service) pair(u *gatehouse.User, sess *gatehouse.Session, refresh string) (*TokenPair, error) {
	scopes := strings.Fields(sess.Scope)
	access, claims, err := s.tokens.Issue(token.Claims{
		Subject: strconv.FormatInt(u.ID, 10), Scope: scopes, Stamp: u.SecurityStamp, SessionID: sess.ID,
		MustChangePassword: u.MustChangePassword, AuthTime: sess.AuthAt,
	})
	if err != nil {
		return nil, gatehouse.Wrap(gatehouse.EInternal, err, "issuing the access token")
	}
	return &TokenPair{
		AccessToken: access, RefreshToken: refresh, Scope: sess.Scope,
		ExpiresIn:              int(claims.ExpiresAt.Sub(claims.IssuedAt).Seconds()),
		PasswordChangeRequired: u.MustChangePassword,
		SessionID:              sess.ID,
	}, nil
}

var errInvalidRefresh = gatehouse.Errorf(gatehouse.EUnauthenticated, "invalid or expired refresh token")

// Refresh rotates a refresh token and returns a new pair. An old token presented after the grace
// window revokes the whole session (token family) and is audited.
func (s *Service) Refresh(ctx context.Context, refresh string, c Client) (*TokenPair, error) {
	if refresh == "" {
		return nil, gatehouse.FieldError("refresh_token", "is required")
	}
	next := randomToken(32)
	sess, out, err := s.store.RotateRefresh(ctx, hashToken(refresh), hashToken(next), s.opts.RefreshMaxIdle, s.opts.RefreshGrace)
	if err != nil {
		return nil, err
	}
	switch out {
	case store.RefreshReused:
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditRefreshReuse, SubjectID: idPtr(sess.UserID),
			Detail: "refresh token reused after rotation; session " + sess.ID[:8] + "… revoked"}, c)
		return nil, errInvalidRefresh
	case store.RefreshInvalid:
		return nil, errInvalidRefresh
	}
	u, err := s.store.UserByID(ctx, sess.UserID)
	if err != nil || !u.Active {
		return nil, errInvalidRefresh
	}
	// Roles may have changed since the login: a refreshed token never keeps a scope the
	// account has lost.
	allowed, err := s.allowedScopes(ctx, u)
	if err != nil {
		return nil, err
	}
	have, _ := gatehouse.ParseScopes(sess.Scope)
	sess.Scope = gatehouse.FormatScopes(capScopes(have, allowed))
	return s.pair(u, sess, next)
}

// Logout ends the session of the presented refresh token and, with it, the access tokens issued
// in it. An unknown token is not an error (the session is gone either way).
func (s *Service) Logout(ctx context.Context, refresh string, p *gatehouse.Principal, c Client) error {
	if refresh == "" && p == nil {
		return gatehouse.FieldError("refresh_token", "is required")
	}
	var userID int64
	if refresh != "" {
		sess, err := s.store.SessionByRefresh(ctx, hashToken(refresh))
		switch {
		case err == nil:
			if p != nil && p.User.ID != sess.UserID {
				return errInvalidRefresh // someone else's token: do not touch it
			}
			if err := s.store.RevokeSession(ctx, sess.ID, "logout"); err != nil {
				return err
			}
			userID = sess.UserID
		case gatehouse.ErrorCode(err) != gatehouse.ENotFound:
			return err
		}
	}
	if p != nil && p.SessionID != "" {
		if err := s.store.RevokeSession(ctx, p.SessionID, "logout"); err != nil {
			return err
		}
		userID = p.User.ID
	}
	if userID != 0 {
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLogout, SubjectID: idPtr(userID), ActorID: idPtr(userID)}, c)
	}
	return nil
}

// LogoutAll ends every session and token of the caller by changing the security stamp.
func (s *Service) LogoutAll(ctx context.Context, p *gatehouse.Principal, c Client) error {
	if err := s.store.ResetAccess(ctx, p.User.ID, store.NewSecurityStamp(), "logout_all"); err != nil {
		return err
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLogoutAll, SubjectID: idPtr(p.User.ID), ActorID: idPtr(p.User.ID)}, c)
	return nil
}

var errBadToken = gatehouse.Errorf(gatehouse.EUnauthenticated, "invalid or expired access token")

// Authenticate turns a bearer access token into the request's principal. Besides the signature
// and times, it checks on every request that the account is active, that its security stamp is
// the one in the token, and that the token's session has not ended (logout). A bearer with the
// API key prefix is checked as an API key instead (see authenticateAPIKey).
func (s *Service) Authenticate(ctx context.Context, bearer string) (*gatehouse.Principal, error) {
	if IsAPIKey(bearer) {
		p, err := s.authenticateAPIKey(ctx, bearer)
		if err != nil {
			return nil, err
		}
		return p, s.markTwoFactorSetup(ctx, p)
	}
	claims, err := s.tokens.Verify(bearer)
	if err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil {
		return nil, errBadToken
	}
	u, sess, err := s.store.Principal(ctx, id, claims.SessionID)
	if err != nil {
		if c := gatehouse.ErrorCode(err); c == gatehouse.ENotFound {
			return nil, errBadToken
		}
		return nil, err
	}
	if !u.Active || u.SecurityStamp != claims.Stamp || sess == nil || sess.RevokedAt != nil || sess.UserID != u.ID ||
		!s.now().Before(sess.ExpiresAt) {
		return nil, errBadToken
	}
	scopes := make([]gatehouse.Scope, 0, len(claims.Scope))
	for _, sc := range claims.Scope {
		scopes = append(scopes, gatehouse.Scope(sc))
	}
	// The session's auth time is the token's auth_time unless the session re-authenticated
	// since the token was issued (current_password, POST /api/v1/auth/reauth): the later counts.
	authTime := claims.AuthTime
	if sess.AuthAt.After(authTime) {
		authTime = sess.AuthAt
	}
	p := &gatehouse.Principal{User: u, SessionID: sess.ID, Scopes: scopes, AuthTime: authTime}
	if err := s.markTwoFactorSetup(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// ErrPasswordChangeRequired is the answer to every request of an account that must change its
// password, except the few that let it do so.
var ErrPasswordChangeRequired = gatehouse.Errorf(gatehouse.EForbidden, "you must change your password before doing anything else").WithReason("password_change_required")

// Sessions lists the caller's active sessions (sessions idle longer than the idle limit are
// left out: they can no longer be refreshed).
func (s *Service) Sessions(ctx context.Context, p *gatehouse.Principal) ([]*gatehouse.Session, error) {
	all, err := s.store.ActiveSessions(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := all[:0]
	for _, x := range all {
		if now.Sub(x.LastUsedAt) <= s.opts.RefreshMaxIdle {
			out = append(out, x)
		}
	}
	return out, nil
}

// RevokeSession ends one of the caller's sessions. Another user's session is ENotFound.
func (s *Service) RevokeSession(ctx context.Context, p *gatehouse.Principal, id string, c Client) error {
	sess, err := s.store.SessionByID(ctx, id)
	if err != nil || sess.UserID != p.User.ID {
		return gatehouse.Errorf(gatehouse.ENotFound, "session not found")
	}
	if err := s.store.RevokeSession(ctx, id, "logout"); err != nil {
		return err
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLogout, SubjectID: idPtr(p.User.ID), ActorID: idPtr(p.User.ID), Detail: "session revoked by its owner"}, c)
	return nil
}
