package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/token"
	"github.com/gatehousehq/gatehouse/internal/tracing"
	"github.com/gatehousehq/gatehouse/internal/username"
)

// Options are the account settings (Flask-Security's SECURITY_* names in the configuration).
type Options struct {
	// PublicURL is the only base for links in emails (never the request's Host header).
	PublicURL string
	// BrandName names the product in emails.
	BrandName string

	AccessTTL      time.Duration // JWT_ACCESS_TTL
	RefreshMaxAge  time.Duration // SECURITY_REFRESH_MAX_AGE
	RefreshMaxIdle time.Duration // SECURITY_REFRESH_MAX_IDLE
	RefreshGrace   time.Duration // SECURITY_REFRESH_REUSE_GRACE

	Registerable             bool          // SECURITY_REGISTERABLE
	Confirmable              bool          // SECURITY_CONFIRMABLE
	LoginWithoutConfirmation bool          // SECURITY_LOGIN_WITHOUT_CONFIRMATION
	ConfirmWithin            time.Duration // SECURITY_CONFIRM_EMAIL_WITHIN
	Changeable               bool          // SECURITY_CHANGEABLE
	Recoverable              bool          // SECURITY_RECOVERABLE
	ResetWithin              time.Duration // SECURITY_RESET_PASSWORD_WITHIN
	SendResetEmail           bool          // SECURITY_SEND_PASSWORD_RESET_EMAIL
	SendResetNotice          bool          // SECURITY_SEND_PASSWORD_RESET_NOTICE_EMAIL
	SendChangeNotice         bool          // SECURITY_SEND_PASSWORD_CHANGE_EMAIL
	Trackable                bool          // SECURITY_TRACKABLE

	BackoffAfter    int           // SECURITY_LOGIN_BACKOFF_AFTER
	LockoutAfter    int           // SECURITY_LOCKOUT_AFTER (0: never lock)
	LockoutDuration time.Duration // SECURITY_LOCKOUT_DURATION

	// DeviceKey signs device tokens (see device.go); empty turns them off, like DeviceMaxAge 0.
	DeviceKey      []byte
	DeviceMaxAge   time.Duration // SECURITY_DEVICE_TOKEN_MAX_AGE
	DeviceFailures int           // SECURITY_DEVICE_TOKEN_FAILURES; 0: DefaultDeviceFailures

	Policy PasswordPolicy

	// TwoFactorRequired is SECURITY_TWO_FACTOR_REQUIRED: TwoFactorRequiredNone (or ""),
	// TwoFactorRequiredAdmins or TwoFactorRequiredAll.
	TwoFactorRequired string
	// TwoFactorRememberFor is SECURITY_TWO_FACTOR_REMEMBER_DURATION: how long "remember this
	// device" skips the second step (0: the option is off).
	TwoFactorRememberFor time.Duration
	// TOTPKeys are the AES-256 keys of SECURITY_TOTP_SECRETS_KEY (32 bytes each): the first
	// encrypts authenticator secrets, every one decrypts (for rotation). None: authenticator
	// apps cannot be enrolled.
	TOTPKeys [][]byte

	// The WebAuthn relying party (security keys and passkeys). Empty fields are derived from
	// PublicURL: its host is the RP ID, its origin the one allowed origin, BrandName the name.
	WebAuthnRPID    string   // WEBAUTHN_RP_ID
	WebAuthnRPName  string   // the name authenticators show
	WebAuthnOrigins []string // WEBAUTHN_ORIGINS
	// PasskeyFirstFactor is SECURITY_WAN_ALLOW_AS_FIRST_FACTOR: passkeys sign in on their own
	// (see passkey.go).
	PasskeyFirstFactor bool
	// AuthenticatorSignIn is SECURITY_PASSWORDLESS_AUTHENTICATOR: an authenticator-app code may
	// take the password's place as the first factor; a second step still follows.
	AuthenticatorSignIn bool

	// SSO holds the account rules of SSO sign-ins (see LoginExternal in sso.go).
	SSO SSOOptions
	// Passwordless holds the settings of sign-in by email (emailsignin.go).
	Passwordless PasswordlessOptions
	// Usernames holds the settings of usernames (username.go).
	Usernames UsernameOptions

	// Freshness is SECURITY_FRESHNESS: how recent the session's last password (or factor) proof
	// must be for credential changes without giving the password again (see fresh.go). Zero
	// means 24 hours.
	Freshness time.Duration
	// TokenKey is the secret of SECURITY_TOKEN_HMAC_KEY (or the one generated and stored in the
	// settings): one-time codes and their link tokens are stored as HMAC-SHA-256 under it, so a
	// database copy alone cannot check guesses of a short code. Empty: a random key for this
	// process only (tests; several instances would not understand each other's codes).
	TokenKey []byte
	// TracerProvider, when not nil, traces password hashing (password_trace.go).
	TracerProvider trace.TracerProvider
}

// Mailer queues templated account emails, delivered outside the request with retries
// (*mail.Dispatcher).
type Mailer interface {
	EnqueueTemplate(ctx context.Context, to string, content mail.Content) error
}

// Service implements the account flows. It is safe for concurrent use.
type Service struct {
	store  *store.Store
	hasher passwords
	tokens *token.Manager
	mailer Mailer // nil when SMTP is not configured
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	// metrics count login outcomes and lockouts (metrics.go).
	metrics *metrics
}

// New returns the account service. mailer is nil when no SMTP server is configured; then
// confirmation and recovery by email are off.
func New(st *store.Store, hasher Hasher, tokens *token.Manager, mailer Mailer, opts Options, log *slog.Logger, now func() time.Time) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	if mailer == nil {
		opts.Confirmable = false
	}
	if opts.Usernames.Policy.MaxLength == 0 {
		opts.Usernames.Policy = username.Default()
	}
	if opts.Freshness <= 0 {
		opts.Freshness = 24 * time.Hour
	}
	if len(opts.TokenKey) == 0 {
		opts.TokenKey = make([]byte, 32)
		_, _ = rand.Read(opts.TokenKey)
	}
	return &Service{store: st, hasher: passwords{Hasher: hasher, tracer: tracing.Tracer(opts.TracerProvider, "github.com/gatehousehq/gatehouse/internal/auth")}, metrics: newMetrics(), tokens: tokens, mailer: mailer, opts: opts, log: log, now: now}
}

// Options returns the settings in force (after adjustments such as confirmation being off
// without SMTP).
func (s *Service) Options() Options { return s.opts }

// RecoveryEnabled reports whether forgot/reset password by email works: it needs SMTP.
func (s *Service) RecoveryEnabled() bool { return s.opts.Recoverable && s.mailer != nil }

// Client describes where a request came from, for tracking, throttling and audit.
type Client struct {
	IP        string
	UserAgent string
}

// TokenPair is what a login or refresh returns.
type TokenPair struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    int // seconds
	Scope        string
	// PasswordChangeRequired tells the client that nothing but a password change is allowed yet.
	PasswordChangeRequired bool
	// SessionID is the gatehouse.Session the tokens belong to (set by pair).
	SessionID string
	// TwoFactor, when non-nil, means the password was right but a second factor is needed:
	// AccessToken and RefreshToken are then empty and no session exists yet.
	TwoFactor *TwoFactorChallenge
	// RememberDeviceToken is set by LoginTwoFactor when the client asked to remember the
	// device: presented with a later login, it skips the second step.
	RememberDeviceToken string
	// DeviceToken is a new device token (see device.go) after a successful sign-in: the client
	// presents it with later sign-ins to this account.
	DeviceToken string
}

// randomToken returns a URL-safe random token with n bytes of entropy.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.TrimRight(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b), "=")
}

// hashToken is how high-entropy opaque tokens are stored: SHA-256, hex. Refresh tokens, API
// keys, login challenges, remembered devices and page sessions carry 160+ bits of entropy, so a
// fast unkeyed hash is enough: nobody can search that space from a database copy. Short codes
// a person types are another matter: see hashSecret.
func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// normalizeCode maps what a user typed to the stored form of a code, so that case, spaces and
// the dash do not matter; a link token passes through unchanged.
func normalizeSecret(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= 12 {
		c := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
		if len(c) == 10 {
			return c[:5] + "-" + c[5:]
		}
	}
	return s
}

func (s *Service) audit(ctx context.Context, ev gatehouse.AuditEvent, c Client) {
	ev.IP, ev.UserAgent = c.IP, c.UserAgent
	s.metrics.observe(ev)
	if err := s.store.RecordAudit(ctx, ev); err != nil {
		s.log.Error("audit event not recorded", "event", ev.Event, "error", err)
	}
}

func idPtr(id int64) *int64 { return &id }

// url builds an absolute link from PUBLIC_URL only, never from the request.
func (s *Service) url(path string) string {
	return strings.TrimRight(s.opts.PublicURL, "/") + path
}

func (s *Service) link(path, tok string) string { return s.url(path) + "?token=" + tok }

// JWKS returns the published key set.
func (s *Service) JWKS() []byte { return s.tokens.JWKS() }
