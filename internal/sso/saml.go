package sso

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/license"
)

// The SAML 2.0 service provider: SP-initiated sign-in with the HTTP-Redirect (or HTTP-POST)
// binding for the request and the HTTP-POST binding for the response. Only the IdP named by the
// metadata is trusted; assertions must be covered by its signature (on the assertion or on the
// enclosing response), be addressed to this SP (audience, recipient, destination), be within
// their validity times, answer the request this browser started (InResponseTo, kept in the
// sealed cookie), and are accepted once (their ids are recorded in the database, so a replay
// fails on every instance). IdP-initiated (unsolicited) responses are refused.

// samlSP holds the service provider's settings and the IdP metadata.
type samlSP struct {
	base saml.ServiceProvider // everything but the IdP metadata and the replay cache

	metadataURL *url.URL // nil when the metadata came from a file

	mu      sync.Mutex
	idp     *saml.EntityDescriptor
	fetched time.Time
	lastErr error
	lastTry time.Time
}

// metadataMaxAge is how long fetched IdP metadata is used before it is fetched again (the old
// copy stays in use while the IdP cannot be reached).
const metadataMaxAge = time.Hour

// clock makes the library see Gatehouse's clock (the tests' movable one).
type clock struct {
	clockwork.Clock
	now func() time.Time
}

func (c clock) Now() time.Time { return c.now() }

func (s *Service) newSAML(ctx context.Context) (*samlSP, error) {
	cfg := s.cfg.SAML
	key, cert, err := s.samlKeyPair(ctx)
	if err != nil {
		return nil, err
	}
	entityID := cfg.EntityID
	if entityID == "" {
		entityID = s.url("/sso/saml/metadata")
	}
	mdURL, _ := url.Parse(s.url("/sso/saml/metadata"))
	acsURL, _ := url.Parse(s.url("/sso/saml/acs"))
	sp := &samlSP{base: saml.ServiceProvider{
		EntityID: entityID, Key: key, Certificate: cert,
		MetadataURL: *mdURL, AcsURL: *acsURL,
		// Ask for a stable identifier: accounts are linked to the NameID.
		AuthnNameIDFormat:                saml.UnspecifiedNameIDFormat,
		SignatureMethod:                  dsig.RSASHA256SignatureMethod,
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
		RejectSHA1Signatures:             true,
		MetadataOmitValidUntil:           true,
		Clock:                            dsig.NewFakeClock(clock{Clock: clockwork.NewRealClock(), now: s.now}),
	}}
	switch {
	case cfg.IDPMetadataFile != "":
		b, err := os.ReadFile(cfg.IDPMetadataFile) // #nosec G304 -- the operator names the metadata file
		if err != nil {
			return nil, fmt.Errorf("SAML_IDP_METADATA_FILE: %w", err)
		}
		md, err := parseIDPMetadata(b)
		if err != nil {
			return nil, fmt.Errorf("SAML_IDP_METADATA_FILE: %w", err)
		}
		sp.idp = md
	default:
		u, err := url.Parse(cfg.IDPMetadataURL)
		if err != nil {
			return nil, fmt.Errorf("SAML_IDP_METADATA_URL: %w", err)
		}
		sp.metadataURL = u
	}
	return sp, nil
}

// parseIDPMetadata reads an IdP's metadata and checks that it can be used: an entity id (the
// issuer every assertion must name) and a single sign-on endpoint.
func parseIDPMetadata(b []byte) (*saml.EntityDescriptor, error) {
	md, err := samlsp.ParseMetadata(b)
	if err != nil {
		return nil, fmt.Errorf("not SAML metadata: %w", err)
	}
	if strings.TrimSpace(md.EntityID) == "" {
		return nil, errors.New("the IdP metadata has no entityID")
	}
	probe := saml.ServiceProvider{IDPMetadata: md}
	if probe.GetSSOBindingLocation(saml.HTTPRedirectBinding) == "" && probe.GetSSOBindingLocation(saml.HTTPPostBinding) == "" {
		return nil, errors.New("the IdP metadata has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding")
	}
	return md, nil
}

// idpMetadata returns the IdP metadata, fetching it when first needed and again after
// metadataMaxAge; while a fetch fails the previous copy stays in use.
func (s *Service) idpMetadata(ctx context.Context) (*saml.EntityDescriptor, error) {
	sp := s.saml
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.metadataURL == nil || (sp.idp != nil && s.now().Sub(sp.fetched) < metadataMaxAge) {
		return sp.idp, nil
	}
	if sp.lastErr != nil && s.now().Sub(sp.lastTry) < rediscoverAfter {
		if sp.idp != nil {
			return sp.idp, nil
		}
		return nil, sp.lastErr
	}
	sp.lastTry = s.now()
	fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	b, err := s.fetch(fctx, sp.metadataURL.String())
	var md *saml.EntityDescriptor
	if err == nil {
		md, err = parseIDPMetadata(b)
	}
	if err != nil {
		s.log.Warn("SAML IdP metadata not fetched", "url", sp.metadataURL.String(), "error", err, "keeping_previous", sp.idp != nil)
		sp.lastErr = gatehouse.Wrap(gatehouse.EUnavailable, err, "the SAML identity provider cannot be reached right now; try again in a moment")
		if sp.idp != nil {
			return sp.idp, nil
		}
		return nil, sp.lastErr
	}
	sp.idp, sp.fetched, sp.lastErr = md, s.now(), nil
	return md, nil
}

// maxMetadata bounds the IdP metadata read: one IdP's metadata is a few kilobytes.
const maxMetadata = 4 << 20

func (s *Service) fetch(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadata+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxMetadata {
		return nil, fmt.Errorf("GET %s: more than %d bytes", u, maxMetadata)
	}
	return b, nil
}

// serviceProvider returns the SP for one request: the settings, the current IdP metadata, and
// the database replay cache bound to the request's context.
func (s *Service) serviceProvider(ctx context.Context) (*saml.ServiceProvider, error) {
	md, err := s.idpMetadata(ctx)
	if err != nil {
		return nil, err
	}
	sp := s.saml.base
	sp.IDPMetadata = md
	sp.ReplayCache = replayCache{ctx: ctx, store: s.store}
	return &sp, nil
}

// replayCache records accepted assertion ids in the database (see store.ConsumeOnce), shared by
// every instance.
type replayCache struct {
	ctx   context.Context
	store Store
}

// errReplayed marks a refused replay, for the audit trail.
var errReplayed = errors.New("assertion replayed")

func (c replayCache) Consume(id string, expiresAt time.Time) error {
	err := c.store.ConsumeOnce(c.ctx, "saml-assertion:"+id, expiresAt)
	if gatehouse.ErrorCode(err) == gatehouse.EConflict {
		return fmt.Errorf("%w: %w", errReplayed, saml.ErrAssertionReplayed)
	}
	return err
}

// samlKeyPair returns the SP's key and certificate: from SAML_SP_KEY_FILE and SAML_SP_CERT_FILE,
// or generated at the first start and kept in the database for every instance.
func (s *Service) samlKeyPair(ctx context.Context) (*rsa.PrivateKey, *x509.Certificate, error) {
	cfg := s.cfg.SAML
	var pemBytes []byte
	if cfg.SPKeyFile != "" {
		k, err := os.ReadFile(cfg.SPKeyFile) // #nosec G304 -- the operator names the key file
		if err != nil {
			return nil, nil, fmt.Errorf("SAML_SP_KEY_FILE: %w", err)
		}
		c, err := os.ReadFile(cfg.SPCertFile) // #nosec G304 -- the operator names the certificate file
		if err != nil {
			return nil, nil, fmt.Errorf("SAML_SP_CERT_FILE: %w", err)
		}
		pemBytes = append(append(k, '\n'), c...)
	} else {
		fresh, err := generateSAMLKeyPair(s.url(""), s.now())
		if err != nil {
			return nil, nil, err
		}
		stored, err := s.store.EnsureSetting(ctx, settingSAMLSPPair, string(fresh))
		if err != nil {
			return nil, nil, fmt.Errorf("sso: SAML key pair: %w", err)
		}
		pemBytes = []byte(stored)
	}
	key, cert, err := parseKeyPair(pemBytes)
	if err != nil {
		if cfg.SPKeyFile != "" {
			return nil, nil, fmt.Errorf("SAML_SP_KEY_FILE/SAML_SP_CERT_FILE: %w", err)
		}
		return nil, nil, fmt.Errorf("sso: the stored setting %s: %w", settingSAMLSPPair, err)
	}
	return key, cert, nil
}

// generateSAMLKeyPair makes an RSA-2048 key and a self-signed certificate for it, as PEM. IdPs
// use the certificate only as a container for the public key (metadata interoperability
// profile), so self-signed is the norm; it is valid for 20 years so that it never expires under
// an IdP that does check.
func generateSAMLKeyPair(publicURL string, now time.Time) ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	host := publicURL
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: host, Organization: []string{"Gatehouse SAML service provider"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(20, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...), nil
}

// parseKeyPair reads an RSA private key (PKCS#1 or PKCS#8) and its certificate from PEM.
func parseKeyPair(b []byte) (*rsa.PrivateKey, *x509.Certificate, error) {
	var key *rsa.PrivateKey
	var cert *x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		switch blk.Type {
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("private key: %w", err)
			}
			key = k
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("private key: %w", err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, nil, errors.New("the private key must be an RSA key (XML encryption needs one)")
			}
			key = rk
		case "CERTIFICATE":
			if cert == nil {
				c, err := x509.ParseCertificate(blk.Bytes)
				if err != nil {
					return nil, nil, fmt.Errorf("certificate: %w", err)
				}
				cert = c
			}
		}
	}
	switch {
	case key == nil:
		return nil, nil, errors.New("no PEM private key found")
	case cert == nil:
		return nil, nil, errors.New("no PEM certificate found")
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, nil, errors.New("the certificate is not for the private key")
	}
	return key, cert, nil
}

// samlMetadata serves the SP metadata for the IdP's administrators.
func (h *handlers) samlMetadata(w http.ResponseWriter, r *http.Request) error {
	if err := h.gate(r, license.FeatureSSOSAML, h.s.saml != nil); err != nil {
		return h.page(w, r, err)
	}
	sp := h.s.saml.base
	b, err := xml.MarshalIndent(sp.Metadata(), "", "  ")
	if err != nil {
		return h.page(w, r, gatehouse.Wrap(gatehouse.EInternal, err, "encoding the SP metadata"))
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(append([]byte(xml.Header), b...))
	return nil
}

// samlFlow is what the sign-in cookie holds between the request and the response.
type samlFlow struct {
	RequestID  string `json:"i"`
	RelayState string `json:"s"`
	Next       string `json:"x"`
	Remember   bool   `json:"r,omitempty"`
}

const samlCookie = "gh_sso_saml"

// samlLogin starts an SP-initiated sign-in.
func (h *handlers) samlLogin(w http.ResponseWriter, r *http.Request) error {
	if err := h.gate(r, license.FeatureSSOSAML, h.s.saml != nil); err != nil {
		return h.page(w, r, err)
	}
	sp, err := h.s.serviceProvider(r.Context())
	if err != nil {
		return h.page(w, r, err)
	}
	binding, location := saml.HTTPRedirectBinding, sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)
	if location == "" {
		binding, location = saml.HTTPPostBinding, sp.GetSSOBindingLocation(saml.HTTPPostBinding)
	}
	req, err := sp.MakeAuthenticationRequest(location, binding, saml.HTTPPostBinding)
	if err != nil {
		return h.page(w, r, gatehouse.Wrap(gatehouse.EInternal, err, "making the SAML request"))
	}
	f := samlFlow{RequestID: req.ID, RelayState: randomString(24), Next: safeNext(r.URL.Query().Get("next")), Remember: r.URL.Query().Get("remember") == "1"}
	if err := h.s.setFlowCookie(w, samlCookie, f); err != nil {
		return h.page(w, r, err)
	}
	if binding == saml.HTTPRedirectBinding {
		u, err := req.Redirect(f.RelayState, sp)
		if err != nil {
			return h.page(w, r, gatehouse.Wrap(gatehouse.EInternal, err, "making the SAML request"))
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u.String(), http.StatusFound)
		return nil
	}
	// HTTP-POST: a self-submitting form to the IdP.
	nonce := randomString(16)
	dest, _ := url.Parse(location)
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; form-action "+dest.Scheme+"://"+dest.Host+"; frame-ancestors 'none'; base-uri 'none'")
	_, _ = w.Write(append([]byte("<!doctype html><html><body>"), append(req.PostWithNonce(f.RelayState, nonce), "</body></html>"...)...))
	return nil
}
