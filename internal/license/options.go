package license

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/licensekey"
	"github.com/gatehousehq/gatehouse/internal/tracing"
)

// Feature names of the gated features Gatehouse knows. SSO is the enterprise feature the
// standard gates; both names are the license server's.
const (
	FeatureSSOSAML  = "sso_saml"  // SAML 2.0 single sign-on
	FeatureSSOOAuth = "sso_oauth" // OAuth2 / OpenID Connect single sign-on
)

// Defaults applied by New to zero Options fields.
const (
	DefaultProduct           = "gatehouse"
	DefaultRefreshInterval   = time.Hour
	DefaultGracePeriod       = 72 * time.Hour
	DefaultKeepaliveInterval = time.Hour
	DefaultRetryMin          = 30 * time.Second
	DefaultTimeout           = 10 * time.Second
)

// maxBody bounds every response body the client reads: a license document is a few kilobytes,
// and a misbehaving server or proxy must not make Gatehouse buffer an unbounded answer.
const maxBody = 1 << 20

// Options configure a Client. Zero values take the defaults above.
type Options struct {
	// Key is LICENSE_KEY (or the content of LICENSE_KEY_FILE). Empty means the community tier:
	// the client never contacts the server and every gated feature is off.
	Key string
	// ServerURL is LICENSE_SERVER_URL, the license server's base URL (http or https, no
	// credentials, query or fragment). Required with a key.
	ServerURL string
	// Product is PRODUCT_NAME, named in every request body. Default "gatehouse".
	Product string
	// RefreshInterval is LICENSE_REFRESH_INTERVAL: how often the license is validated again
	// after a completed check. Default one hour.
	RefreshInterval time.Duration
	// GracePeriod is LICENSE_GRACE_PERIOD: how long the last good answer stays in force while
	// the server cannot be reached. Default 72 hours.
	GracePeriod time.Duration
	// KeepaliveInterval is the keepalive schedule. Default one hour.
	KeepaliveInterval time.Duration
	// RetryMin is the first retry delay after a failed check; it doubles on every further
	// failure up to RefreshInterval, with jitter. Default 30 seconds.
	RetryMin time.Duration
	// Timeout bounds every request to the license server. Default 10 seconds.
	Timeout time.Duration
	// Features are the gated features Gatehouse asks the server about (POST /api/v2/features)
	// on every check and reports usage of. Default sso_oauth and sso_saml.
	Features []string
	// HTTPClient makes the requests. Default: a client that does not follow redirects (the key
	// is a bearer token and must not be replayed to another host).
	HTTPClient *http.Client
	// TracerProvider, when not nil, makes each call to the license server a client span and
	// sends its traceparent.
	TracerProvider trace.TracerProvider
	// Logger receives one line per state transition. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// ServerID identifies this installation in keepalives when validate's metadata.server_id
	// is empty; the server's value wins when it sends one. Usually left empty.
	ServerID string
	// Hostname is reported in keepalives. Default os.Hostname().
	Hostname string
	// Version is Gatehouse's version, reported in keepalives and the User-Agent.
	Version string
	// ActiveUsers counts active users for keepalive usage stats. When nil, or when it fails,
	// active_users is left out of the keepalive.
	ActiveUsers func(ctx context.Context) (int, error)
}

// Client is the license-server client. Create it with New, start Run in the background, and ask
// HasFeature from anywhere: it is safe for concurrent use and never blocks on the network.
type Client struct {
	key, product, baseURL              string
	refresh, grace, keepaliveEvery     time.Duration
	retryMin, timeout                  time.Duration
	watched                            []string
	http                               *http.Client
	log                                *slog.Logger
	now                                func() time.Time
	serverID, hostname, version, agent string
	activeUsers                        func(ctx context.Context) (int, error)
	started                            time.Time

	// usage counts the granted HasFeature calls per watched feature, for keepalives.
	usage map[string]*atomic.Int64
	// snap is the published state. Only the Run goroutine replaces it; readers load it without
	// locking.
	snap    atomic.Pointer[snapshot]
	running atomic.Bool
	// jitter spreads retry delays; tests replace it to make backoff deterministic.
	jitter func(time.Duration) time.Duration

	// logged is the signature of the last logged state (Run goroutine only).
	logged string
}

// New checks the options and returns a client. A malformed key is an error that names
// LICENSE_KEY (without repeating the key) and is never sent anywhere. New does no I/O; Run
// contacts the server.
func New(o Options) (*Client, error) {
	problems := map[string]string{}
	key := strings.TrimSpace(o.Key)
	if key != "" {
		if err := licensekey.CheckFormat(key); err != nil {
			problems["LICENSE_KEY"] = err.Error()
		}
	}
	// There is no built-in server address: the operator names the license server it was given,
	// so a key is never sent to a host nobody configured.
	base := ""
	if o.ServerURL == "" && key != "" {
		problems["LICENSE_SERVER_URL"] = "is required with LICENSE_KEY"
	}
	if o.ServerURL != "" {
		if u, err := checkServerURL(o.ServerURL); err != nil {
			problems["LICENSE_SERVER_URL"] = err.Error()
		} else {
			base = u
		}
	}
	product := strings.TrimSpace(o.Product)
	if product == "" {
		product = DefaultProduct
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"LICENSE_REFRESH_INTERVAL", &o.RefreshInterval, DefaultRefreshInterval},
		{"LICENSE_GRACE_PERIOD", &o.GracePeriod, DefaultGracePeriod},
		{"KeepaliveInterval", &o.KeepaliveInterval, DefaultKeepaliveInterval},
		{"RetryMin", &o.RetryMin, DefaultRetryMin},
		{"Timeout", &o.Timeout, DefaultTimeout},
	}
	for _, d := range durations {
		switch {
		case *d.v < 0:
			problems[d.name] = "must not be negative"
		case *d.v == 0:
			*d.v = d.def
		}
	}
	watched := o.Features
	if watched == nil {
		watched = []string{FeatureSSOOAuth, FeatureSSOSAML}
	}
	watched = slices.Clone(watched)
	slices.Sort(watched)
	watched = slices.Compact(watched)
	for _, f := range watched {
		if strings.TrimSpace(f) == "" {
			problems["Features"] = "feature names must not be empty"
		}
	}
	if len(problems) > 0 {
		return nil, &gatehouse.Error{Code: gatehouse.EInvalid, Message: "invalid license configuration", Fields: problems}
	}

	c := &Client{
		key: key, product: product, baseURL: base,
		refresh: o.RefreshInterval, grace: o.GracePeriod, keepaliveEvery: o.KeepaliveInterval,
		retryMin: min(o.RetryMin, o.RefreshInterval), timeout: o.Timeout,
		watched: watched, http: o.HTTPClient, log: o.Logger, now: o.Now,
		serverID: o.ServerID, hostname: o.Hostname, version: o.Version, activeUsers: o.ActiveUsers,
		usage:  make(map[string]*atomic.Int64, len(watched)),
		jitter: equalJitter,
	}
	if c.http == nil {
		c.http = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	c.http = tracing.Client(c.http, o.TracerProvider, "github.com/gatehousehq/gatehouse/internal/license")
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.hostname == "" {
		c.hostname, _ = os.Hostname()
	}
	if c.version == "" {
		c.version = "unknown"
	}
	c.agent = "gatehouse/" + c.version
	for _, f := range watched {
		c.usage[f] = new(atomic.Int64)
	}
	c.started = c.now()
	c.snap.Store(&snapshot{})
	return c, nil
}

// checkServerURL returns the base URL without a trailing slash, or what is wrong with it. The
// URL must not carry credentials: it is logged and shown to admins.
func checkServerURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", errors.New("must be a URL such as https://license.example.com")
	case u.Scheme != "https" && u.Scheme != "http":
		return "", errors.New("must be an http or https URL such as https://license.example.com")
	case u.Host == "":
		return "", errors.New("must name a host, such as https://license.example.com")
	case u.User != nil:
		return "", errors.New("must not contain credentials (the license key is the credential)")
	case u.RawQuery != "" || u.Fragment != "":
		return "", errors.New("must not have a query or fragment")
	}
	return strings.TrimRight(u.String(), "/"), nil
}
