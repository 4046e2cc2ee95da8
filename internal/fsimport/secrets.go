package fsimport

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// TOTPSecrets are Flask-Security's SECURITY_TOTP_SECRETS: tag -> application secret, which
// passlib's TOTP uses to encrypt each user's tf_totp_secret.
type TOTPSecrets map[string][]byte

// ParseTOTPSecrets reads SECURITY_TOTP_SECRETS in the forms passlib's AppWallet accepts: a JSON
// object ({"1": "secret"}) or lines of "tag: secret" (blank lines and # comments ignored).
func ParseTOTPSecrets(s string) (TOTPSecrets, error) {
	out := TOTPSecrets{}
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return out, nil
	case strings.HasPrefix(t, "{"):
		var m map[string]any
		if err := json.Unmarshal([]byte(t), &m); err != nil {
			return nil, fmt.Errorf("TOTP secrets: %w", err)
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				out[k] = []byte(v)
			default:
				return nil, fmt.Errorf("TOTP secrets: the secret of tag %q is not a string", k)
			}
		}
	case strings.Contains(t, ":"):
		for line := range strings.SplitSeq(t, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			tag, secret, ok := strings.Cut(line, ":")
			if !ok {
				return nil, errors.New(`TOTP secrets: a line is not "tag: secret"`)
			}
			out[strings.TrimSpace(tag)] = []byte(strings.TrimSpace(secret))
		}
	default:
		return nil, errors.New(`TOTP secrets: want a JSON object {"tag": "secret"} or "tag: secret" lines`)
	}
	for k, v := range out {
		if len(v) == 0 {
			return nil, fmt.Errorf("TOTP secrets: tag %q has an empty secret", k)
		}
	}
	return out, nil
}

// passlibTOTP is the JSON passlib's TOTP.to_json writes, which Flask-Security stores in
// tf_totp_secret: {"enckey": {...}, "type": "totp", "v": 1} when encrypted, {"key": "BASE32",
// ...} when not. Other fields (digits, period, alg) must have passlib's defaults.
type passlibTOTP struct {
	Type   string         `json:"type"`
	V      int            `json:"v"`
	Key    string         `json:"key"`
	EncKey *passlibEncKey `json:"enckey"`
	Digits int            `json:"digits"`
	Period int            `json:"period"`
	Alg    string         `json:"alg"`
}

type passlibEncKey struct {
	V    int    `json:"v"`
	Cost int    `json:"c"`
	Tag  string `json:"t"`
	Salt string `json:"s"`
	Key  string `json:"k"`
}

// b32 decodes passlib's unpadded base32, correcting the typos passlib corrects (8 -> B, 0 -> O).
func b32(s string) ([]byte, error) {
	s = strings.NewReplacer("8", "B", "0", "O").Replace(strings.ToUpper(strings.TrimRight(s, "=")))
	return base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
}

// DecryptTOTP returns the base32 TOTP secret (what an authenticator app holds) of a stored
// tf_totp_secret. passlib's AppWallet.decrypt_key: PBKDF2-HMAC-SHA256(secret of tag t, salt s,
// 2^c rounds) gives 48 bytes, the AES-256 key and the 16-byte initial counter of AES-CTR over k.
func DecryptTOTP(stored string, secrets TOTPSecrets) (string, error) {
	var p passlibTOTP
	if err := json.Unmarshal([]byte(stored), &p); err != nil {
		return "", errors.New("not passlib TOTP JSON")
	}
	if p.Type != "totp" || p.V != 1 {
		return "", fmt.Errorf("unsupported passlib TOTP type %q version %d", p.Type, p.V)
	}
	if (p.Digits != 0 && p.Digits != 6) || (p.Period != 0 && p.Period != 30) || (p.Alg != "" && p.Alg != "sha1") {
		return "", errors.New("TOTP parameters other than 6 digits, 30 s, SHA-1 (Gatehouse's) are not supported")
	}
	var raw []byte
	switch {
	case p.EncKey != nil:
		e := p.EncKey
		if e.V != 1 {
			return "", fmt.Errorf("unsupported passlib enckey version %d", e.V)
		}
		secret, ok := secrets[e.Tag]
		if !ok {
			return "", fmt.Errorf("encrypted under SECURITY_TOTP_SECRETS tag %q, which --totp-secrets does not hold", e.Tag)
		}
		if e.Cost < 0 || e.Cost > 24 {
			return "", fmt.Errorf("unreasonable encryption cost %d", e.Cost)
		}
		salt, err := b32(e.Salt)
		if err != nil {
			return "", errors.New("bad enckey salt")
		}
		ct, err := b32(e.Key)
		if err != nil || len(ct) == 0 {
			return "", errors.New("bad enckey key")
		}
		keyiv, err := pbkdf2.Key(sha256.New, string(secret), salt, 1<<e.Cost, 48)
		if err != nil {
			return "", err
		}
		block, err := aes.NewCipher(keyiv[:32])
		if err != nil {
			return "", err
		}
		raw = make([]byte, len(ct))
		cipher.NewCTR(block, keyiv[32:]).XORKeyStream(raw, ct)
	case p.Key != "":
		var err error
		if raw, err = b32(p.Key); err != nil {
			return "", errors.New("bad key")
		}
	default:
		return "", errors.New("no key in passlib TOTP JSON")
	}
	if len(raw) < 10 {
		return "", errors.New("decrypted key is too short: wrong --totp-secrets for this tag?")
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw), nil
}

// Fernet holds the keys of SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS (cryptography's
// MultiFernet: each key is tried in turn).
type Fernet [][]byte

// ParseFernetKeys reads comma-separated url-safe base64 Fernet keys (32 bytes each).
func ParseFernetKeys(s string) (Fernet, error) {
	var out Fernet
	for k := range strings.SplitSeq(s, ",") {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		b, err := base64.URLEncoding.DecodeString(k)
		if err != nil || len(b) != 32 {
			return nil, errors.New("recovery-code key: want url-safe base64 of 32 bytes (a Fernet key)")
		}
		out = append(out, b)
	}
	return out, nil
}

// Decrypt opens a Fernet token: version 0x80, 8-byte time, 16-byte IV, AES-128-CBC ciphertext
// (PKCS#7), HMAC-SHA256 over all of it with the first half of the key. The token's age is not
// checked (Flask-Security sets no TTL on stored codes by default).
func (f Fernet) Decrypt(token string) ([]byte, error) {
	b, err := base64.URLEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil || len(b) < 1+8+16+16+32 || b[0] != 0x80 || (len(b)-1-8-16-32)%16 != 0 {
		return nil, errors.New("not a Fernet token")
	}
	body, mac := b[:len(b)-32], b[len(b)-32:]
	for _, key := range f {
		h := hmac.New(sha256.New, key[:16])
		h.Write(body)
		if subtle.ConstantTimeCompare(h.Sum(nil), mac) != 1 {
			continue
		}
		block, err := aes.NewCipher(key[16:])
		if err != nil {
			return nil, err
		}
		iv, ct := body[9:25], body[25:]
		plain := make([]byte, len(ct))
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
		n := int(plain[len(plain)-1])
		if n < 1 || n > 16 || n > len(plain) {
			return nil, errors.New("bad Fernet padding")
		}
		for _, c := range plain[len(plain)-n:] {
			if int(c) != n {
				return nil, errors.New("bad Fernet padding")
			}
		}
		return plain[:len(plain)-n], nil
	}
	return nil, errors.New("no key of --recovery-codes-keys opens this code")
}
