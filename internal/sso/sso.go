// Package sso is Gatehouse's single sign-on: OpenID Connect relying party (licensed feature
// sso_oauth) and SAML 2.0 service provider (sso_saml). It checks what an identity provider says
// (an ID token, a signed assertion) and hands the person to auth.Service.LoginExternal, which
// links or creates the account and opens a session; the browser session itself is started by
// the web pages (SessionStarter).
//
// Every request asks the license client whether its feature is on, so entitlement changes take
// effect without a restart: while a feature is off its buttons are not offered and its endpoints
// answer 403 with reason feature_not_licensed. Nothing here affects password login.
package sso

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/license"
)

// Accounts is what SSO needs of the account service (*auth.Service).
type Accounts interface {
	LoginExternal(ctx context.Context, in auth.ExternalLogin) (*auth.TokenPair, error)
	AuditSSOFailure(ctx context.Context, provider, detail string, c auth.Client)
	AdminSSOAccount(ctx context.Context, p *gatehouse.Principal, id int64) (*auth.SSOAccount, error)
	AdminSetSSOOnly(ctx context.Context, p *gatehouse.Principal, id int64, on bool, c auth.Client) (*auth.SSOAccount, error)
	AdminUnlinkIdentity(ctx context.Context, p *gatehouse.Principal, userID, identityID int64, c auth.Client) error
	AdminLinkIdentity(ctx context.Context, p *gatehouse.Principal, userID int64, in auth.IdentityLink, c auth.Client) (*auth.SSOAccount, error)
}

// Store is what SSO keeps in the database (*store.Store): its generated secrets and the ids of
// the assertions it accepted.
type Store interface {
	EnsureSetting(ctx context.Context, name, value string) (string, error)
	ConsumeOnce(ctx context.Context, id string, expiresAt time.Time) error
}

// Licensing answers whether a gated feature is on now (*license.Client). It must not block.
type Licensing interface {
	HasFeature(ctx context.Context, name string) bool
}

// SessionStarter starts the browser session of a completed sign-in: the web pages' session
// (*web.Web), which keeps the auth session id server-side and sets its cookie.
type SessionStarter interface {
	EstablishSession(w http.ResponseWriter, r *http.Request, pair *auth.TokenPair, remember bool) error
}

// Options configure a Service.
type Options struct {
	Config config.SSO
	// PublicURL is the service's public base URL: the redirect URI, the ACS URL and the SP
	// metadata URL are built from it, never from a request.
	PublicURL string
	BrandName string
	Accounts  Accounts
	Store     Store
	License   Licensing
	// TrustedProxies are the peers whose X-Forwarded-For is believed (audit, tracking).
	TrustedProxies []netip.Prefix
	// HTTPClient talks to identity providers (discovery, token exchange, metadata). Default: a
	// client with a 10-second timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service serves the SSO endpoints. It is safe for concurrent use.
type Service struct {
	cfg       config.SSO
	publicURL string
	brand     string
	accounts  Accounts
	store     Store
	license   Licensing
	trusted   []netip.Prefix
	http      *http.Client
	log       *slog.Logger
	now       func() time.Time
	cookies   *sealer
	secure    bool // cookies are Secure: PUBLIC_URL is https

	oidc      map[string]*oidcProvider
	oidcOrder []string
	saml      *samlSP // nil without SAML configuration

	// acsHook, when set (tests only), runs inside the ACS's panic guard before the response is
	// parsed.
	acsHook func()
}

// Settings names of the values SSO generates at first start and shares between instances.
const (
	settingCookieKey  = "sso_cookie_key"
	settingSAMLSPPair = "saml_sp_keypair"
)

// New checks the SSO configuration and prepares the providers. It reads SAML IdP metadata from
// a file and the SP key pair (generating and storing one on first start), but contacts no
// identity provider: OIDC discovery and metadata URLs are fetched when first needed, so that an
// unreachable provider never holds up start-up.
func New(ctx context.Context, o Options) (*Service, error) {
	if o.Accounts == nil || o.Store == nil {
		return nil, errors.New("sso: Accounts and Store are required")
	}
	s := &Service{
		cfg: o.Config, publicURL: strings.TrimRight(o.PublicURL, "/"), brand: o.BrandName,
		accounts: o.Accounts, store: o.Store, license: o.License, trusted: o.TrustedProxies,
		http: o.HTTPClient, log: o.Logger, now: o.Now, oidc: map[string]*oidcProvider{},
	}
	if s.http == nil {
		s.http = &http.Client{Timeout: 10 * time.Second}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.brand == "" {
		s.brand = "Gatehouse"
	}
	s.secure = strings.HasPrefix(s.publicURL, "https://")
	if !s.Configured() {
		return s, nil
	}
	key, err := s.cookieKey(ctx)
	if err != nil {
		return nil, err
	}
	if s.cookies, err = newSealer(key); err != nil {
		return nil, err
	}
	for _, p := range s.cfg.OIDC {
		s.oidc[p.Name] = &oidcProvider{cfg: p}
		s.oidcOrder = append(s.oidcOrder, p.Name)
	}
	if s.cfg.SAML.Enabled() {
		if s.saml, err = s.newSAML(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Configured reports whether any identity provider is configured.
func (s *Service) Configured() bool { return len(s.cfg.OIDC) > 0 || s.cfg.SAML.Enabled() }

// cookieKey returns the key that seals the short-lived sign-in cookies, generated at the first
// start and shared by every instance (a sign-in may start on one and finish on another).
func (s *Service) cookieKey(ctx context.Context) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	stored, err := s.store.EnsureSetting(ctx, settingCookieKey, base64.StdEncoding.EncodeToString(fresh))
	if err != nil {
		return nil, fmt.Errorf("sso: cookie key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(stored)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("sso: the stored setting %s is not a base64 32-byte key", settingCookieKey)
	}
	return key, nil
}

// enabled reports whether feature is on now. A missing license client means no license.
func (s *Service) enabled(ctx context.Context, feature string) bool {
	return s.license != nil && s.license.HasFeature(ctx, feature)
}

// notLicensed is the answer of every endpoint of a feature that is off.
func notLicensed(feature string) error {
	what := map[string]string{
		license.FeatureSSOOAuth: "Single sign-on with OpenID Connect",
		license.FeatureSSOSAML:  "Single sign-on with SAML",
	}[feature]
	return &gatehouse.Error{
		Code:    gatehouse.EForbidden,
		Message: fmt.Sprintf("%s is not available: this installation's license does not include the feature %s; an administrator can see why in /api/v1/license", what, feature),
		Fields:  map[string]string{"feature": feature},
		Reason:  "feature_not_licensed",
	}
}

// Provider is one sign-in option as the login page and GET /api/v1/sso/providers show it.
type Provider struct {
	// ID is "oidc:<name>" or "saml".
	ID       string
	Type     string // "oidc" or "saml"
	Name     string
	Label    string
	LoginURL string // a path on this server
}

// Providers lists the configured providers whose feature the license grants now, in the order
// of the configuration (OIDC providers, then SAML).
func (s *Service) Providers(ctx context.Context) []Provider {
	var out []Provider
	if len(s.oidcOrder) > 0 && s.enabled(ctx, license.FeatureSSOOAuth) {
		for _, name := range s.oidcOrder {
			p := s.oidc[name]
			out = append(out, Provider{ID: "oidc:" + name, Type: "oidc", Name: name, Label: p.cfg.Label, LoginURL: "/sso/oidc/" + name + "/login"})
		}
	}
	if s.saml != nil && s.enabled(ctx, license.FeatureSSOSAML) {
		out = append(out, Provider{ID: "saml", Type: "saml", Name: "saml", Label: s.cfg.SAML.Label, LoginURL: "/sso/saml/login"})
	}
	return out
}

// Buttons returns the login page's buttons (what the pages' SSOButtons asks for): the providers
// that are configured and licensed now, none without a license.
func (s *Service) Buttons(ctx context.Context) []gatehouse.SSOButton {
	ps := s.Providers(ctx)
	out := make([]gatehouse.SSOButton, len(ps))
	for i, p := range ps {
		out[i] = gatehouse.SSOButton{Label: p.Label, URL: p.LoginURL}
	}
	return out
}

func (s *Service) url(path string) string { return s.publicURL + path }
