package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// jwk is the public JSON Web Key (RFC 7517) of one key; only public members exist here, so the
// JWKS cannot leak a private key whatever Key holds.
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
}

// marshalJWKS encodes the public halves of keys as {"keys":[...]}.
func marshalJWKS(keys []*keyEntry) ([]byte, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(keys))}
	for _, k := range keys {
		j := jwk{Use: "sig", Alg: k.Alg, Kid: k.ID}
		switch pub := k.public.(type) {
		case ed25519.PublicKey:
			j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64(pub)
		case *ecdsa.PublicKey:
			point, err := pub.Bytes() // 0x04 || X || Y, each 32 bytes on P-256
			if err != nil {
				return nil, fmt.Errorf("token: jwks: kid %q: %w", k.ID, err)
			}
			j.Kty, j.Crv, j.X, j.Y = "EC", "P-256", b64(point[1:33]), b64(point[33:65])
		default:
			return nil, fmt.Errorf("token: jwks: kid %q: unsupported key type %T", k.ID, pub)
		}
		set.Keys = append(set.Keys, j)
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("token: jwks: %w", err)
	}
	return b, nil
}
