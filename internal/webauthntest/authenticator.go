// Package webauthntest is a software WebAuthn authenticator and client for tests: it answers
// the options Gatehouse hands out with the JSON a browser would send after
// navigator.credentials.create / get, built from scratch (ECDSA P-256 keys, "none" attestation,
// CBOR attestation objects, signed authenticator data), so that tests exercise the real
// verification code without a browser. It is written from the WebAuthn specification, not from
// go-webauthn, so that the two check each other.
package webauthntest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator flags (authenticator data, §6.1).
const (
	flagUP = 0x01 // user present
	flagUV = 0x04 // user verified
	flagBE = 0x08 // backup eligible
	flagBS = 0x10 // backup state
	flagAT = 0x40 // attested credential data included
)

// coseAlgES256 is the COSE algorithm identifier of ECDSA with SHA-256.
const coseAlgES256 = -7

var b64 = base64.RawURLEncoding

// Credential is a key pair the authenticator made for one relying party.
type Credential struct {
	ID         []byte
	RPID       string
	UserHandle []byte
	Key        *ecdsa.PrivateKey
	// SignCount is the counter the next assertion increments and reports.
	SignCount uint32
}

// Authenticator is a software security key with its browser: it keeps its credentials in memory
// and builds clientDataJSON with Origin. It is safe for concurrent use.
type Authenticator struct {
	// Origin is what the "browser" reports as the page's origin in clientDataJSON.
	Origin string
	// AAGUID identifies the authenticator model; zero by default, as with "none" attestation.
	AAGUID [16]byte
	// UserVerified sets the UV flag (a PIN or biometric was checked).
	UserVerified bool
	// BackupEligible and BackupState set the BE and BS flags (a synced passkey).
	BackupEligible, BackupState bool
	// Counter makes the authenticator keep a signature counter (as security keys do); without
	// it the counter is always 0 (as most passkey providers do).
	Counter bool
	// Transports are reported at registration.
	Transports []string
	// NoResidentKeys makes the authenticator unable to keep discoverable credentials (an older
	// security key): creation options that require a resident key fail, as in a browser.
	NoResidentKeys bool

	mu    sync.Mutex
	creds []*Credential
}

// New returns an authenticator whose browser reports origin, with a signature counter.
func New(origin string) *Authenticator {
	return &Authenticator{Origin: origin, Counter: true, Transports: []string{"usb"}}
}

// Credentials returns the authenticator's credentials.
func (a *Authenticator) Credentials() []*Credential {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*Credential(nil), a.creds...)
}

// Clone returns a second authenticator holding copies of every credential, private keys and
// counters included: what an attacker who extracted the keys would have.
func (a *Authenticator) Clone() *Authenticator {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := &Authenticator{Origin: a.Origin, AAGUID: a.AAGUID, UserVerified: a.UserVerified,
		BackupEligible: a.BackupEligible, BackupState: a.BackupState, Counter: a.Counter,
		Transports: append([]string(nil), a.Transports...)}
	for _, cr := range a.creds {
		cp := *cr
		c.creds = append(c.creds, &cp)
	}
	return c
}

// creationOptions is the part of PublicKeyCredentialCreationOptions the authenticator reads.
type creationOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"rp"`
	User struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"user"`
	PubKeyCredParams []struct {
		Type string `json:"type"`
		Alg  int    `json:"alg"`
	} `json:"pubKeyCredParams"`
	ExcludeCredentials     []descriptor `json:"excludeCredentials"`
	AuthenticatorSelection struct {
		ResidentKey string `json:"residentKey"`
	} `json:"authenticatorSelection"`
	Extensions struct {
		CredProps bool `json:"credProps"`
	} `json:"extensions"`
}

type requestOptions struct {
	Challenge        string       `json:"challenge"`
	RPID             string       `json:"rpId"`
	AllowCredentials []descriptor `json:"allowCredentials"`
}

type descriptor struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// unwrap accepts the options object itself or wrapped as {"publicKey": {...}}.
func unwrap(options []byte) []byte {
	var w struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if json.Unmarshal(options, &w) == nil && len(w.PublicKey) > 0 {
		return w.PublicKey
	}
	return options
}

func (a *Authenticator) rpID(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	u, err := url.Parse(a.Origin)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("webauthntest: no rp id and origin %q has no host", a.Origin)
	}
	return u.Hostname(), nil
}

// ErrExcluded is returned by Create when the authenticator holds a credential on the exclude
// list (the browser's InvalidStateError).
var ErrExcluded = errors.New("webauthntest: the authenticator is registered already (excludeCredentials)")

// ErrNoResidentKey is returned by Create when the options require a discoverable credential
// and the authenticator cannot keep one (NoResidentKeys).
var ErrNoResidentKey = errors.New("webauthntest: the authenticator cannot make discoverable credentials")

// ErrNoCredential is returned by Get when the authenticator holds no credential allowed by the
// options (the browser's NotAllowedError).
var ErrNoCredential = errors.New("webauthntest: no allowed credential on this authenticator")

// Create answers PublicKeyCredentialCreationOptions (JSON) like navigator.credentials.create:
// it makes a new P-256 credential and returns the PublicKeyCredential as JSON (base64url
// binary fields, "none" attestation).
func (a *Authenticator) Create(options []byte) (json.RawMessage, error) {
	var o creationOptions
	if err := json.Unmarshal(unwrap(options), &o); err != nil {
		return nil, fmt.Errorf("webauthntest: creation options: %w", err)
	}
	es256 := false
	for _, p := range o.PubKeyCredParams {
		es256 = es256 || (p.Type == "public-key" && p.Alg == coseAlgES256)
	}
	if !es256 {
		return nil, errors.New("webauthntest: the relying party does not accept ES256")
	}
	rpID, err := a.rpID(o.RP.ID)
	if err != nil {
		return nil, err
	}
	userHandle, err := b64.DecodeString(o.User.ID)
	if err != nil {
		return nil, fmt.Errorf("webauthntest: user.id: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ex := range o.ExcludeCredentials {
		for _, c := range a.creds {
			if ex.ID == b64.EncodeToString(c.ID) && c.RPID == rpID {
				return nil, ErrExcluded
			}
		}
	}
	rk := o.AuthenticatorSelection.ResidentKey
	if rk == "required" && a.NoResidentKeys {
		return nil, ErrNoResidentKey
	}
	extensions := map[string]any{}
	if o.Extensions.CredProps { // §10.1.3: the client reports whether it made a discoverable credential
		extensions["credProps"] = map[string]any{"rk": (rk == "required" || rk == "preferred") && !a.NoResidentKeys}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	cred := &Credential{ID: id, RPID: rpID, UserHandle: userHandle, Key: key}

	clientData, err := json.Marshal(map[string]any{
		"type": "webauthn.create", "challenge": o.Challenge, "origin": a.Origin, "crossOrigin": false,
	})
	if err != nil {
		return nil, err
	}
	coseKey, err := cosePublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	count := uint32(0)
	if a.Counter {
		cred.SignCount = 1 // the first assertion reports 1 or more
	}
	var attested bytes.Buffer
	attested.Write(a.AAGUID[:])
	_ = binary.Write(&attested, binary.BigEndian, uint16(len(id))) //nolint:gosec // 32
	attested.Write(id)
	attested.Write(coseKey)
	authData := a.authData(rpID, flagAT, count, attested.Bytes())

	attObj, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData})
	if err != nil {
		return nil, err
	}
	a.creds = append(a.creds, cred)
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(id), "rawId": b64.EncodeToString(id), "type": "public-key",
		"authenticatorAttachment": "cross-platform", "clientExtensionResults": extensions,
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData),
			"attestationObject": b64.EncodeToString(attObj),
			"transports":        a.Transports,
		},
	})
}

// Get answers PublicKeyCredentialRequestOptions (JSON) like navigator.credentials.get: it picks
// the first allowed credential it holds, increments its counter (when it keeps one), signs, and
// returns the PublicKeyCredential as JSON.
func (a *Authenticator) Get(options []byte) (json.RawMessage, error) {
	var o requestOptions
	if err := json.Unmarshal(unwrap(options), &o); err != nil {
		return nil, fmt.Errorf("webauthntest: request options: %w", err)
	}
	rpID, err := a.rpID(o.RPID)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var cred *Credential
	for _, c := range a.creds {
		if c.RPID != rpID {
			continue
		}
		allowed := len(o.AllowCredentials) == 0
		for _, d := range o.AllowCredentials {
			allowed = allowed || d.ID == b64.EncodeToString(c.ID)
		}
		if allowed {
			cred = c
			break
		}
	}
	if cred == nil {
		return nil, ErrNoCredential
	}
	count := uint32(0)
	if a.Counter {
		count = cred.SignCount
		cred.SignCount++
	}
	return a.assert(cred, o.Challenge, count)
}

// GetWithCounter is Get with the counter the authenticator reports forced to count (as a
// cloned key that is behind would report). The stored counter is left alone.
func (a *Authenticator) GetWithCounter(options []byte, count uint32) (json.RawMessage, error) {
	var o requestOptions
	if err := json.Unmarshal(unwrap(options), &o); err != nil {
		return nil, fmt.Errorf("webauthntest: request options: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.creds) == 0 {
		return nil, ErrNoCredential
	}
	return a.assert(a.creds[0], o.Challenge, count)
}

func (a *Authenticator) assert(cred *Credential, challenge string, count uint32) (json.RawMessage, error) {
	clientData, err := json.Marshal(map[string]any{
		"type": "webauthn.get", "challenge": challenge, "origin": a.Origin, "crossOrigin": false,
	})
	if err != nil {
		return nil, err
	}
	authData := a.authData(cred.RPID, 0, count, nil)
	cdHash := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte(nil), authData...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, cred.Key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(cred.ID), "rawId": b64.EncodeToString(cred.ID), "type": "public-key",
		"authenticatorAttachment": "cross-platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData),
			"authenticatorData": b64.EncodeToString(authData),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(cred.UserHandle),
		},
	})
}

// authData builds authenticator data (§6.1): rpIdHash, flags, signCount, then extra (the
// attested credential data at registration).
func (a *Authenticator) authData(rpID string, flags byte, count uint32, extra []byte) []byte {
	flags |= flagUP
	if a.UserVerified {
		flags |= flagUV
	}
	if a.BackupEligible {
		flags |= flagBE
	}
	if a.BackupState {
		flags |= flagBS
	}
	h := sha256.Sum256([]byte(rpID))
	out := append([]byte(nil), h[:]...)
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, count)
	return append(out, extra...)
}

// cosePublicKey encodes a P-256 public key as a COSE_Key (RFC 9053: kty EC2, alg ES256, crv
// P-256, x, y), in CTAP2 canonical CBOR as authenticators emit it.
func cosePublicKey(pub *ecdsa.PublicKey) ([]byte, error) {
	raw, err := pub.Bytes() // uncompressed point: 0x04 || x || y
	if err != nil {
		return nil, err
	}
	em, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		return nil, err
	}
	return em.Marshal(map[int]any{1: 2, 3: coseAlgES256, -1: 1, -2: raw[1:33], -3: raw[33:65]})
}

// NewCredential makes a credential for rpID held by no authenticator yet, with its COSE public
// key: what another system (Flask-Security) registered and stored, to be given to an
// authenticator with Add once the importing side has it.
func NewCredential(rpID string, userHandle []byte, signCount uint32) (*Credential, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	cose, err := cosePublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	return &Credential{ID: id, RPID: rpID, UserHandle: userHandle, Key: key, SignCount: signCount}, cose, nil
}

// Add gives the authenticator a credential it did not create (see NewCredential).
func (a *Authenticator) Add(c *Credential) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.creds = append(a.creds, c)
}
