package httpapi

import (
	"crypto/tls"
	"net/http"
	"net/netip"

	"github.com/gatehousehq/gatehouse/rest"
)

// HSTSValue is the Strict-Transport-Security header every response sent over TLS carries, API
// and pages alike: two years, the value browsers' preload lists ask for. Subdomains are left
// out: Gatehouse does not know what else is served under its parent domain.
const HSTSValue = "max-age=63072000"

// strictTransport sets HSTS on every response to a request that arrived over TLS, directly or
// through a trusted proxy that says so, before anything else can answer (a 404, a 413, a panic).
func (s *server) strictTransport(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if OverTLS(r, s.trusted) {
			w.Header().Set("Strict-Transport-Security", HSTSValue)
		}
		next.ServeHTTP(w, r)
	})
}

// OverTLS is rest.OverTLS.
func OverTLS(r *http.Request, trusted []netip.Prefix) bool { return rest.OverTLS(r, trusted) }

// aeadCipherSuites are the TLS 1.2 suites the server accepts: ECDHE key exchange (forward
// secrecy) with an AEAD cipher only. CBC suites (Lucky13-style padding oracles) and RSA key
// exchange are left out; TLS 1.3's suites are all AEAD and not configurable.
var aeadCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// TLSConfig is the server side TLS configuration: TLS 1.2 or newer, and on TLS 1.2 the
// AEAD suites above only (ASVS 9.1.2, 9.1.3).
func TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: append([]uint16(nil), aeadCipherSuites...),
	}
}
