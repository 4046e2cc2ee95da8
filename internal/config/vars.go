package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/licensekey"
)

// Var documents one environment variable. The table below is the single source of truth for
// names, defaults and meanings; docs/configuration.md is checked against it by a test.
type Var struct {
	Name    string
	Default string // as documented; "" means empty or computed (see Doc)
	Doc     string
	// File means NAME_FILE may name a file holding the value instead (for secrets).
	File bool
	// Secret values are never echoed in error messages.
	Secret bool
	set    func(c *Config, v string) error
}

// accepts is the error a setter returns: it says what the variable accepts.
type accepts string

func (a accepts) Error() string { return string(a) }

// Vars returns the table of every variable Gatehouse reads.
func Vars() []Var { return vars }

var vars = concatVars([]Var{
	{Name: "DB_TYPE", Default: "sqlite", Doc: "Database engine: `sqlite`, `postgres`, `mysql`, `mariadb` or `galera`.",
		set: func(c *Config, v string) error {
			return oneOf(&c.DB.Type, v, DBSQLite, DBPostgres, DBMySQL, DBMariaDB, DBGalera)
		}},
	{Name: "DB_HOST", Default: "127.0.0.1", Doc: "Database host. For `galera` a comma-separated list of nodes, tried in order; each entry is `host` or `host:port` (IPv6 in brackets). Ignored for SQLite.",
		set: func(c *Config, v string) error { c.DB.Hosts = splitList(v); return nil }},
	{Name: "DB_PORT", Default: "5432 (postgres) or 3306 (mysql, mariadb, galera)", Doc: "Port used for every DB_HOST entry that does not name its own.",
		set: func(c *Config, v string) error { return intIn(&c.DB.Port, v, 1, 65535) }},
	{Name: "DB_NAME", Default: "gatehouse", Doc: "Database (schema) name.",
		set: func(c *Config, v string) error { return nonEmpty(&c.DB.Name, v) }},
	{Name: "DB_USER", Default: "gatehouse", Doc: "Database user.",
		set: func(c *Config, v string) error { return nonEmpty(&c.DB.User, v) }},
	{Name: "DB_PASS", Doc: "Database password (empty by default).", File: true, Secret: true,
		set: func(c *Config, v string) error { c.DB.Pass = v; return nil }},
	{Name: "DB_POOL_SIZE", Default: "(2 × CPU cores) + DB_DISK_SPINDLES", Doc: "Maximum open connections in the pool (SQLite: readers; it serialises writers itself).",
		set: func(c *Config, v string) error { return intIn(&c.DB.PoolSize, v, 1, 10000) }},
	{Name: "DB_DISK_SPINDLES", Default: "1", Doc: "Disk spindles of the database server, used in the default pool size.",
		set: func(c *Config, v string) error { return intIn(&c.DB.DiskSpindles, v, 0, 1000) }},
	{Name: "DB_PATH", Default: "./data/gatehouse.db", Doc: "SQLite database file; its directory is created when missing.",
		set: func(c *Config, v string) error { return nonEmpty(&c.DB.Path, v) }},
	{Name: "DB_AUTO_MIGRATE", Default: "true", Doc: "Apply pending migrations at start. When false, start-up refuses to serve an out-of-date schema (run `gatehouse migrate up`).",
		set: func(c *Config, v string) error { return boolean(&c.DB.AutoMigrate, v) }},
	{Name: "DB_CONNECT_TIMEOUT", Default: "60s", Doc: "How long start-up waits for the database (exponential backoff, each attempt logged) before exiting non-zero. A server that answers and refuses (wrong user or password, unknown database) stops start-up at once.",
		set: func(c *Config, v string) error { return duration(&c.DB.ConnectTimeout, v, time.Second, 24*time.Hour) }},
	{Name: "DB_CONN_MAX_LIFETIME", Default: "30m", Doc: "Maximum age of a pooled connection.",
		set: func(c *Config, v string) error { return duration(&c.DB.ConnMaxLifetime, v, time.Second, 24*time.Hour) }},
	{Name: "DB_CONN_MAX_IDLE_TIME", Default: "5m", Doc: "How long an idle pooled connection is kept.",
		set: func(c *Config, v string) error { return duration(&c.DB.ConnMaxIdleTime, v, time.Second, 24*time.Hour) }},
	{Name: "HTTP_ADDR", Default: ":8080", Doc: "Address the HTTP server listens on (`host:port`; port 0 picks a free one). Bound before the database work, so a port in use stops start-up at once.",
		set: func(c *Config, v string) error {
			_, p, err := net.SplitHostPort(v)
			if err != nil {
				return accepts("host:port, for example :8080 or 127.0.0.1:8080")
			}
			if !validPort(p) {
				return accepts(fmt.Sprintf("host:port with a port from 0 to 65535 (%q is out of range)", p))
			}
			c.HTTPAddr = v
			return nil
		}},
	{Name: "TLS_CERT_FILE", Doc: "PEM certificate; with TLS_KEY_FILE, serves HTTPS with HTTP/2 (h2). Without both, plain HTTP/1.1 and h2c.",
		set: func(c *Config, v string) error { c.TLSCertFile = v; return nil }},
	{Name: "TLS_KEY_FILE", Doc: "PEM private key matching TLS_CERT_FILE.",
		set: func(c *Config, v string) error { c.TLSKeyFile = v; return nil }},
	{Name: "SHUTDOWN_TIMEOUT", Default: "30s", Doc: "On SIGINT/SIGTERM, how long in-flight requests may take to finish.",
		set: func(c *Config, v string) error { return duration(&c.ShutdownTimeout, v, 0, time.Hour) }},
	{Name: "DEBUG_PPROF_ADDR", Doc: "Off when empty. A loopback `ip:port` (for example `127.0.0.1:6060` or `[::1]:6060`; a host name, even `localhost`, is refused) on which a separate listener serves Go's profiler, `/debug/pprof/` (net/http/pprof), for diagnosing performance; any other address is refused. See docs/performance.md.",
		set: func(c *Config, v string) error { return loopbackAddr(&c.DebugPprofAddr, v) }},
	{Name: "MEMORY_LIMIT", Default: "off", Doc: "Soft limit on the memory the Go runtime manages (heap and stacks; not the program's code or SQLite's page cache), as `runtime/debug.SetMemoryLimit`: near it the garbage collector runs more often instead of letting the heap grow to twice what is live, which keeps the resident size down at some CPU cost. It is soft: a heap that needs more still gets it. `off` (the default) for no limit, or a size with the suffix B, KiB, MiB or GiB (at least 8MiB); `28MiB` keeps a small SQLite instance under 60 MB resident (docs/performance.md), but raise it if the live heap grows near it (a large filled token cache, many connections), or the collector spends up to half the CPU. When the Go variable `GOMEMLIMIT` is set, it wins and this is ignored. See docs/performance.md.",
		set: func(c *Config, v string) error { return byteSize(&c.MemoryLimit, v) }},
	{Name: "LOG_LEVEL", Default: "info", Doc: "`debug`, `info`, `warn` or `error`.",
		set: func(c *Config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil || !oneOfStr(strings.ToLower(v), "debug", "info", "warn", "error") {
				return accepts("one of debug, info, warn, error")
			}
			return nil
		}},
	{Name: "LOG_FORMAT", Default: "json", Doc: "`json` or `text`.",
		set: func(c *Config, v string) error { return oneOf(&c.LogFormat, v, "json", "text") }},
	{Name: "ADMIN_EMAIL", Default: "admin@localhost.local", Doc: "Email of the default admin created at first start when no user holds the admin role.",
		set: func(c *Config, v string) error {
			a, err := mail.ParseAddress(v)
			if err != nil || a.Address != v {
				return accepts("an email address such as admin@example.com")
			}
			c.AdminEmail = v
			return nil
		}},
	{Name: "ADMIN_PASSWORD", Default: "admin123", Doc: "Initial password of the default admin; the account must change it at first login. The documented default is the one credential Gatehouse ships with.", File: true, Secret: true,
		set: func(c *Config, v string) error { return nonEmpty(&c.AdminPassword, v) }},
	{Name: "PUBLIC_URL", Default: "http://localhost:8080", Doc: "The service's public base URL. Every link in an email is built from it alone, never from a request's Host header.",
		set: func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
				return accepts("an absolute http(s) URL without query, such as https://auth.example.com")
			}
			c.PublicURL = strings.TrimRight(v, "/")
			return nil
		}},
	{Name: "BRAND_NAME", Default: "Gatehouse", Doc: "Product name shown in emails and pages.",
		set: func(c *Config, v string) error {
			if strings.TrimSpace(v) == "" || len(v) > 100 || strings.ContainsAny(v, "\r\n") {
				return accepts("a name of 1 to 100 characters on one line")
			}
			c.BrandName = v
			return nil
		}},
	{Name: "BRAND_LOGO_PATH", Doc: "PNG, SVG or JPEG file shown as the logo on the web pages instead of the default one (read once at start).",
		set: func(c *Config, v string) error {
			switch strings.ToLower(filepath.Ext(v)) {
			case ".png", ".svg", ".jpg", ".jpeg":
			default:
				return accepts("the path of a .png, .svg, .jpg or .jpeg file")
			}
			c.Web.LogoPath = v
			return nil
		}},
	{Name: "COOKIE_SECURE", Default: "auto", Doc: "Mark the web session cookie `Secure` (and name it with the `__Host-` prefix): `true`, `false`, or `auto` (when the request came over TLS, or from a TRUSTED_PROXIES peer saying `X-Forwarded-Proto: https`).",
		set: func(c *Config, v string) error { return oneOf(&c.Web.CookieSecure, v, "auto", "true", "false") }},
	{Name: "TRUSTED_PROXIES", Doc: "Comma-separated addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` is believed for the client address (throttling, audit, login tracking). Empty: the peer address is the client.",
		set: func(c *Config, v string) error {
			var out []netip.Prefix
			for _, item := range splitList(v) {
				p, err := netip.ParsePrefix(item)
				if err != nil {
					a, aerr := netip.ParseAddr(item)
					if aerr != nil {
						return accepts("IP addresses or CIDR ranges separated by commas, such as 10.0.0.0/8,127.0.0.1")
					}
					p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
				}
				out = append(out, p.Masked())
			}
			c.TrustedProxies = out
			return nil
		}},
}, securityVars, passwordlessVars, usernameVars, []Var{
	{Name: "WEBAUTHN_RP_ID", Default: "PUBLIC_URL's host", Doc: "WebAuthn relying party id of security keys and passkeys: a domain (no scheme or port) that is the host of every WEBAUTHN_ORIGINS entry or a parent of it. Credentials are bound to it: changing it later makes every registered key unusable.",
		set: func(c *Config, v string) error {
			v = strings.ToLower(strings.TrimSpace(v))
			if v == "" || strings.ContainsAny(v, ":/ []") || strings.HasPrefix(v, ".") || strings.HasSuffix(v, ".") {
				return accepts("a domain name such as example.com (no scheme, port or path)")
			}
			c.Security.WebAuthnRPID = v
			return nil
		}},
	{Name: "WEBAUTHN_ORIGINS", Default: "PUBLIC_URL's origin", Doc: "Comma-separated origins (`https://host[:port]`) whose pages may use security keys and passkeys, such as the web pages and a separate front end. Each host must be WEBAUTHN_RP_ID or a subdomain of it.",
		set: func(c *Config, v string) error {
			var out []string
			for _, item := range splitList(v) {
				u, err := url.Parse(item)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
					u.RawQuery != "" || u.Fragment != "" || u.User != nil {
					return accepts("origins such as https://auth.example.com or https://app.example.com:8443, separated by commas")
				}
				out = append(out, u.Scheme+"://"+strings.ToLower(u.Host))
			}
			if len(out) == 0 {
				return accepts("at least one origin")
			}
			c.Security.WebAuthnOrigins = out
			return nil
		}},
}, passkeyVars, []Var{
	{Name: "JWT_ACCESS_TTL", Default: "15m", Doc: "Lifetime of access tokens.",
		set: func(c *Config, v string) error { return flaskDuration(&c.JWT.AccessTTL, v, time.Minute, 24*time.Hour) }},
	{Name: "JWT_SIGNING_KEY_FILE", Doc: "PEM file with one or more PKCS#8 private keys (Ed25519 or P-256): the first signs, all verify. Default: a key generated at first start and stored in the database, shared by every instance.",
		set: func(c *Config, v string) error { c.JWT.SigningKeyFile = v; return nil }},
	{Name: "JWT_SIGNING_ALG", Default: "EdDSA", Doc: "Algorithm of generated signing keys: `EdDSA` (Ed25519) or `ES256`.",
		set: func(c *Config, v string) error { return oneOf(&c.JWT.SigningAlg, v, "EdDSA", "ES256") }},
	{Name: "JWT_VERIFY_CACHE_SIZE", Default: "10000", Doc: "How many verified access tokens are remembered (by SHA-256 of the token, each until it expires) so that a token's signature is checked once, not on every request; `0` turns the cache off. The account checks (security stamp, session, active, roles) still run on every request.",
		set: func(c *Config, v string) error { return intIn(&c.JWT.VerifyCacheSize, v, 0, 1000000) }},
	{Name: "JWT_ISSUER", Default: "PUBLIC_URL", Doc: "The `iss` claim of access tokens.",
		set: func(c *Config, v string) error { return nonEmpty(&c.JWT.Issuer, v) }},
	{Name: "JWT_AUDIENCE", Default: "gatehouse", Doc: "The `aud` claim of access tokens.",
		set: func(c *Config, v string) error { return nonEmpty(&c.JWT.Audience, v) }},
	{Name: "LICENSE_KEY", Doc: "Enterprise license key (`PENG-XXXX-XXXX-XXXX-XXXX-XXXX`). Empty: community tier, gated features (SSO) off, no call to any license server. Checked locally before it is ever sent.", File: true, Secret: true,
		set: func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if err := licensekey.CheckFormat(v); err != nil {
				return accepts("a key of the form PENG-XXXX-XXXX-XXXX-XXXX-XXXX (letters A-Z and digits)")
			}
			c.License.Key = v
			return nil
		}},
	{Name: "LICENSE_SERVER_URL", Doc: "Base URL of the license server (required with LICENSE_KEY).",
		set: func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return accepts("an absolute http(s) URL")
			}
			c.License.ServerURL = strings.TrimRight(v, "/")
			return nil
		}},
	{Name: "PRODUCT_NAME", Default: "gatehouse", Doc: "Product name sent to the license server.",
		set: func(c *Config, v string) error { return nonEmpty(&c.License.Product, v) }},
	{Name: "LICENSE_REFRESH_INTERVAL", Default: "1h", Doc: "How often the license is validated again (failures retry sooner, with backoff).",
		set: func(c *Config, v string) error {
			return duration(&c.License.RefreshInterval, v, time.Minute, 24*time.Hour)
		}},
	{Name: "LICENSE_GRACE_PERIOD", Default: "72h", Doc: "How long the last good answer stays valid while the license server is unreachable.",
		set: func(c *Config, v string) error {
			return duration(&c.License.GracePeriod, v, time.Minute, 720*time.Hour)
		}},
	{Name: "SSO_OIDC_PROVIDERS", Doc: "OpenID Connect sign-in providers (licensed feature `sso_oauth`): a JSON array of `{\"name\", \"issuer\", \"client_id\", \"client_secret_file\", \"scopes\", \"label\", \"trust_email\", \"groups_claim\"}`; see [sso.md](sso.md). `trust_email` is off unless set: a first sign-in is then never linked to an existing account. Empty: no OIDC sign-in.", File: true,
		set: func(c *Config, v string) error {
			ps, err := parseOIDCProviders(v)
			c.SSO.OIDC = ps
			return err
		}},
	{Name: "SSO_DEFAULT_ROLE", Default: "viewer", Doc: "Global role of an account created by a first SSO sign-in when no role rule of SSO_ROLE_MAPPING matches its groups: `admin`, `maintainer` or `viewer`.",
		set: func(c *Config, v string) error {
			if r := gatehouse.Role(v); r.Valid() {
				c.SSO.DefaultRole = r
				return nil
			}
			return accepts("one of admin, maintainer, viewer")
		}},
	{Name: "SSO_ROLE_MAPPING", Doc: "Roles and team memberships from the identity provider's groups, applied at every SSO sign-in: rules `[provider]group=target` separated by `;` (or commas), target a global role or `team:TEAM:ROLE`; see [sso.md](sso.md). Empty: SSO sign-ins leave roles and teams alone.",
		set: func(c *Config, v string) error {
			rules, err := ParseRoleMapping(v)
			c.SSO.RoleMapping = rules
			return err
		}},
	{Name: "SAML_IDP_METADATA_URL", Doc: "URL of the SAML identity provider's metadata (licensed feature `sso_saml`), fetched when first needed and refreshed hourly. Empty (and no SAML_IDP_METADATA_FILE): no SAML sign-in.",
		set: func(c *Config, v string) error {
			if err := checkIssuer(v); err != nil {
				return accepts("an https URL (http only on the loopback interface)")
			}
			c.SSO.SAML.IDPMetadataURL = v
			return nil
		}},
	{Name: "SAML_IDP_METADATA_FILE", Doc: "File with the SAML identity provider's metadata, read at start (instead of SAML_IDP_METADATA_URL).",
		set: func(c *Config, v string) error { c.SSO.SAML.IDPMetadataFile = v; return nil }},
	{Name: "SAML_SP_ENTITY_ID", Default: "PUBLIC_URL/sso/saml/metadata", Doc: "Gatehouse's entity id as a SAML service provider (the audience of assertions).",
		set: func(c *Config, v string) error { return nonEmpty(&c.SSO.SAML.EntityID, v) }},
	{Name: "SAML_SP_KEY_FILE", Doc: "PEM RSA private key of the SAML service provider (signs requests, decrypts assertions). Default: a key and self-signed certificate generated at first start and stored in the database, shared by every instance.",
		set: func(c *Config, v string) error { c.SSO.SAML.SPKeyFile = v; return nil }},
	{Name: "SAML_SP_CERT_FILE", Doc: "PEM certificate of SAML_SP_KEY_FILE, published in the SP metadata.",
		set: func(c *Config, v string) error { c.SSO.SAML.SPCertFile = v; return nil }},
	{Name: "SAML_LABEL", Default: "Sign in with SAML single sign-on", Doc: "Text of the SAML sign-in button.",
		set: func(c *Config, v string) error {
			if strings.TrimSpace(v) == "" || len(v) > 100 || strings.ContainsAny(v, "\r\n") {
				return accepts("a label of 1 to 100 characters on one line")
			}
			c.SSO.SAML.Label = v
			return nil
		}},
	{Name: "SAML_EMAIL_ATTRIBUTE", Doc: "Assertion attribute (Name or FriendlyName) with the email address. Empty: `email`, `mail`, `urn:oid:0.9.2342.19200300.100.1.3` and the WS-Federation emailaddress claim are tried, then a NameID of the emailAddress format.",
		set: func(c *Config, v string) error { c.SSO.SAML.EmailAttribute = v; return nil }},
	{Name: "SAML_GROUPS_ATTRIBUTE", Doc: "Assertion attribute (Name or FriendlyName) with the groups, for SSO_ROLE_MAPPING. Empty: `groups`, `memberOf` and the WS-Federation groups claim are tried.",
		set: func(c *Config, v string) error { c.SSO.SAML.GroupsAttribute = v; return nil }},
	{Name: "SAML_EMAIL_VERIFIED", Default: "false", Doc: "Trust the SAML identity provider's email addresses: a first sign-in then creates the account, or links to the existing account with that address (never to an account with the `admin` role, which an administrator links). Off: only identities an administrator linked can sign in. Set `true` only when the IdP alone decides its people's addresses; see [sso.md](sso.md#accounts).",
		set: func(c *Config, v string) error { return boolean(&c.SSO.SAML.EmailVerified, v) }},
	{Name: "SMTP_HOST", Doc: "SMTP server. Empty: no email (no confirmation, no password recovery by email).",
		set: func(c *Config, v string) error { c.SMTP.Host = v; return nil }},
	{Name: "SMTP_PORT", Default: "587", Doc: "SMTP port.",
		set: func(c *Config, v string) error { return intIn(&c.SMTP.Port, v, 1, 65535) }},
	{Name: "SMTP_USER", Doc: "SMTP user name; when set, Gatehouse authenticates (never over an unencrypted connection).",
		set: func(c *Config, v string) error { c.SMTP.User = v; return nil }},
	{Name: "SMTP_PASS", Doc: "SMTP password.", File: true, Secret: true,
		set: func(c *Config, v string) error { c.SMTP.Pass = v; return nil }},
	{Name: "SMTP_FROM", Default: "Gatehouse <no-reply@localhost>", Doc: "Sender address of every email.",
		set: func(c *Config, v string) error {
			if _, err := mail.ParseAddress(v); err != nil {
				return accepts("an address such as \"Example <no-reply@example.com>\"")
			}
			c.SMTP.From = v
			return nil
		}},
	{Name: "SMTP_TLS", Default: "starttls", Doc: "`starttls` (required, never a silent fallback), `tls` (implicit TLS, usually port 465) or `none`.",
		set: func(c *Config, v string) error { return oneOf(&c.SMTP.TLS, v, "starttls", "tls", "none") }},
}, tracingVars)

func oneOf(dst *string, v string, allowed ...string) error {
	if !oneOfStr(v, allowed...) {
		return accepts("one of " + strings.Join(allowed, ", "))
	}
	*dst = v
	return nil
}

func oneOfStr(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func nonEmpty(dst *string, v string) error {
	if strings.TrimSpace(v) == "" {
		return accepts("a non-empty value")
	}
	*dst = v
	return nil
}

func intIn(dst *int, v string, lo, hi int) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return accepts(fmt.Sprintf("a whole number from %d to %d", lo, hi))
	}
	*dst = n
	return nil
}

func boolean(dst *bool, v string) error {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		*dst = true
	case "0", "false", "no", "off":
		*dst = false
	default:
		return accepts("true or false")
	}
	return nil
}

func duration(dst *time.Duration, v string, lo, hi time.Duration) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return accepts(fmt.Sprintf("a duration from %s to %s, such as 30s or 5m", lo, hi))
	}
	*dst = d
	return nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// flaskDuration accepts Go durations ("90m", "10s") and Flask-Security style ones ("1 hour",
// "30 minutes", "2 days", "1 week").
func flaskDuration(dst *time.Duration, v string, lo, hi time.Duration) error {
	d, ok := parseFlaskDuration(v)
	if !ok || d < lo || d > hi {
		return accepts(fmt.Sprintf("a duration from %s to %s, such as \"1 hour\", \"30 minutes\", \"2 days\" or 90m", lo, hi))
	}
	*dst = d
	return nil
}

func parseFlaskDuration(v string) (time.Duration, bool) {
	if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil {
		return d, true
	}
	f := strings.Fields(strings.ToLower(v))
	if len(f) != 2 {
		return 0, false
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 0 {
		return 0, false
	}
	units := map[string]time.Duration{
		"second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour, "week": 7 * 24 * time.Hour,
	}
	u, ok := units[strings.TrimSuffix(f[1], "s")]
	if !ok {
		return 0, false
	}
	return time.Duration(n) * u, true
}

// concatVars joins the parts of the variable table in order (the order of docs/configuration.md).
func concatVars(parts ...[]Var) []Var {
	var out []Var
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
