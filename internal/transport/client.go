package transport

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/rest"
)

// maxUserAgent bounds the User-Agent kept for tracking and audit (the store cuts it again on a
// character boundary and makes it valid UTF-8).
const maxUserAgent = 512

// Client describes the caller of r for tracking, throttling and audit: the client address as
// TRUSTED_PROXIES let it be known (rest.ClientIP), and the User-Agent. The API, the pages and SSO
// all use it, so a browser and an API client are recorded and throttled alike.
func Client(r *http.Request, trusted []netip.Prefix) auth.Client {
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	return auth.Client{IP: rest.ClientIP(r, trusted), UserAgent: ua}
}

// RedactedURI is the path and query of u for an access log, with the value of every query
// parameter that carries a secret (isSecretParam) replaced by REDACTED. The API's and the pages'
// logs both use it, so that they redact the same parameters: queries carry reset, confirmation
// and invitation tokens, SSO codes and SAML signatures. The query is edited in place rather than
// parsed and re-encoded, so the log shows what the client sent, parameter order and encoding
// included.
func RedactedURI(u *url.URL) string {
	p := u.EscapedPath()
	if u.RawQuery == "" {
		return p
	}
	parts := strings.Split(u.RawQuery, "&")
	for i, part := range parts {
		key, _, hasValue := strings.Cut(part, "=")
		if name, err := url.QueryUnescape(key); err == nil {
			key = name
		}
		if hasValue && isSecretParam(key) {
			parts[i] = part[:strings.IndexByte(part, '=')] + "=REDACTED"
		}
	}
	return p + "?" + strings.Join(parts, "&")
}

// secretParamWords are the parts of a query parameter name that mark its value as a credential:
// one-time tokens in links (token=), OAuth/OIDC tokens and authorization codes, API keys, client
// secrets, passwords and signatures (SAML's Signature=, presigned URLs' sig=). Matching a part
// rather than whole names errs on the side of redacting: a log line loses a harmless value
// (a "keyword" parameter) rather than keep a credential.
var secretParamWords = []string{"token", "key", "secret", "password", "code", "sig"}

// isSecretParam reports whether a query parameter's value is redacted from the access logs: its
// name contains one of secretParamWords, case-insensitively.
func isSecretParam(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretParamWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}
