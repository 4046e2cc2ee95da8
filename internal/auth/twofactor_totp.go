package auth

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/skip2/go-qrcode"

	"github.com/gatehousehq/gatehouse"
)

// RFC 6238 as every authenticator app implements it: HMAC-SHA-1, 6 digits, 30-second steps.
// Codes of the step before and after the current one are accepted too (clock drift, and the
// seconds a user takes to type).
const (
	totpPeriod = 30
	totpSkew   = 1
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// errTOTPOff answers enrolment when no key to encrypt secrets with is configured.
var errTOTPOff = gatehouse.Errorf(gatehouse.EForbidden, "authenticator apps are not available on this server (SECURITY_TOTP_SECRETS_KEY is not set)").WithReason("feature_disabled")

// totpKeyID names a key in the stored ciphertext, so that a secret encrypted under an older
// key is opened with that key after a rotation, and a missing key is reported as such.
func totpKeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("gatehouse totp key id:"), key...))
	return hex.EncodeToString(sum[:4])
}

// totpAAD binds a ciphertext to its user: a secret copied into another user's row does not
// open.
func totpAAD(userID int64) []byte {
	return []byte("gatehouse totp secret for user " + strconv.FormatInt(userID, 10))
}

// sealTOTP encrypts a base32 secret with AES-256-GCM under the first key:
// "v1.<key id>.<base64url(nonce || ciphertext)>".
func (s *Service) sealTOTP(userID int64, secret string) (string, error) {
	if len(s.opts.TOTPKeys) == 0 {
		return "", errTOTPOff
	}
	key := s.opts.TOTPKeys[0]
	gcm, err := newGCM(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := gcm.Seal(nonce, nonce, []byte(secret), totpAAD(userID))
	return "v1." + totpKeyID(key) + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// openTOTP decrypts what sealTOTP made.
func (s *Service) openTOTP(userID int64, enc string) (string, error) {
	parts := strings.Split(enc, ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return "", gatehouse.Wrap(gatehouse.EInternal, fmt.Errorf("stored TOTP secret of user %d has an unknown format", userID), "authenticator secret unreadable")
	}
	for _, key := range s.opts.TOTPKeys {
		if totpKeyID(key) != parts[1] {
			continue
		}
		raw, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			break
		}
		gcm, err := newGCM(key)
		if err != nil {
			return "", err
		}
		if len(raw) < gcm.NonceSize() {
			break
		}
		plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], totpAAD(userID))
		if err != nil {
			break
		}
		return string(plain), nil
	}
	// An operator error (the key was changed without keeping the old one), not the user's.
	return "", gatehouse.Wrap(gatehouse.EInternal,
		fmt.Errorf("the TOTP secret of user %d was encrypted under key id %s, which SECURITY_TOTP_SECRETS_KEY does not hold (or the data is corrupt)", userID, parts[1]),
		"authenticator secret unreadable")
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, gatehouse.Wrap(gatehouse.EInternal, err, "TOTP secrets key unusable")
	}
	return cipher.NewGCM(block)
}

// totpStep returns the time step of a code that matches secret at now (within the skew), or
// false. Every candidate is compared in constant time.
func totpStep(secret, code string, now time.Time) (int64, bool) {
	current := now.Unix() / totpPeriod
	var found int64
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := current + d
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found = step
		}
	}
	return found, found > 0
}

// normalizeDigits strips the spaces and dashes people type inside codes ("123 456").
func normalizeDigits(code string) string {
	return strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code))
}

var errCodeFormat = gatehouse.FieldError("code", "must be the 6-digit code")

// BeginTOTP starts setting up an authenticator app: a new secret, kept encrypted as pending
// until ConfirmTOTP sees a code made from it. Starting again replaces a pending secret.
func (s *Service) BeginTOTP(ctx context.Context, p *gatehouse.Principal, currentPassword string, c Client) (*TOTPEnrolment, error) {
	if len(s.opts.TOTPKeys) == 0 {
		return nil, errTOTPOff
	}
	if err := s.requireCredentialChange(ctx, p, "second factors", currentPassword, c); err != nil {
		return nil, err
	}
	tf, err := s.store.TwoFactorOf(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	if tf.TOTPSecret != "" {
		return nil, gatehouse.Errorf(gatehouse.EConflict, "an authenticator app is already set up; remove it first to set up another")
	}
	brand := s.opts.BrandName
	if brand == "" {
		brand = "Gatehouse"
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: brand, AccountName: p.User.Email, Period: totpPeriod, SecretSize: 20,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("totp: generate: %w", err)
	}
	enc, err := s.sealTOTP(p.User.ID, key.Secret())
	if err != nil {
		return nil, err
	}
	if err := s.store.SetPendingTOTP(ctx, p.User.ID, enc); err != nil {
		return nil, err
	}
	qr, err := qrcode.New(key.URL(), qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("totp: QR code: %w", err)
	}
	png, err := qr.PNG(256)
	if err != nil {
		return nil, fmt.Errorf("totp: QR code: %w", err)
	}
	return &TOTPEnrolment{
		Secret: key.Secret(), OTPAuthURI: key.URL(),
		QRPNG: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png),
		QRSVG: qrSVG(qr.Bitmap()),
	}, nil
}

// qrSVG draws a QR bitmap (quiet zone included) as a small SVG: one path of unit squares,
// scaled by the viewBox, crisp at any size.
func qrSVG(bits [][]bool) string {
	n := len(bits)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bits {
		for x, on := range row {
			if on {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String()
}

// ConfirmTOTP finishes setting up an authenticator app with a code it shows. A wrong code
// enables nothing. The confirming code cannot be used again to sign in. Recovery codes are
// returned when this is the caller's first factor.
func (s *Service) ConfirmTOTP(ctx context.Context, p *gatehouse.Principal, code, currentPassword string, c Client) ([]string, error) {
	if err := s.requireCredentialChange(ctx, p, "second factors", currentPassword, c); err != nil {
		return nil, err
	}
	code = normalizeDigits(code)
	if code == "" {
		return nil, gatehouse.FieldError("code", "is required")
	}
	if !sixDigits(code) {
		return nil, errCodeFormat
	}
	tf, err := s.store.TwoFactorOf(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	if tf.TOTPPending == "" {
		return nil, gatehouse.Errorf(gatehouse.EConflict, "no authenticator app setup is pending; start it again")
	}
	secret, err := s.openTOTP(p.User.ID, tf.TOTPPending)
	if err != nil {
		return nil, err
	}
	step, ok := totpStep(secret, code, s.now())
	if !ok {
		return nil, gatehouse.FieldError("code", "is not correct; check that the device's clock is right and enter the code it shows now")
	}
	if err := s.store.ConfirmTOTP(ctx, p.User.ID, tf.TOTPPending, step); err != nil {
		return nil, err
	}
	return s.factorAdded(ctx, p, MethodTOTP, c)
}

// DisableTOTP removes the caller's authenticator app after checking their password.
func (s *Service) DisableTOTP(ctx context.Context, p *gatehouse.Principal, password string, c Client) error {
	if err := s.requirePasswordChange(ctx, p, "second factors", password, c); err != nil {
		return err
	}
	removed, err := s.store.DisableTOTP(ctx, p.User.ID)
	if err != nil {
		return err
	}
	if !removed {
		return gatehouse.Errorf(gatehouse.ENotFound, "no authenticator app is set up")
	}
	return s.factorRemoved(ctx, p, MethodTOTP, c)
}
