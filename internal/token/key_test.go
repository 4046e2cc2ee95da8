package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
	"time"
)

// Keys written by openssl (genpkey -algorithm ed25519; ecparam -name prime256v1 -genkey, which
// adds an EC PARAMETERS block and writes SEC 1; genpkey -algorithm EC), so the formats operators
// will actually put in JWT_SIGNING_KEY_FILE are covered. Test-only keys.
const (
	opensslEd25519 = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEID5elmUd6EwhqdDZh6VoffNeZpaqB6L5QzRwkPQTEQRu
-----END PRIVATE KEY-----
`
	opensslECSEC1 = `-----BEGIN EC PARAMETERS-----
BggqhkjOPQMBBw==
-----END EC PARAMETERS-----
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEICimXfc2xlXZzPoaFfiflje+8WCVXfFF1BBm5+FV+mlFoAoGCCqGSM49
AwEHoUQDQgAEqKN9nyIb3ETVhz+anGxzDLvn/M/gsnMb1ZFeXhf0iJbR0MgJaroB
ki7Cb2q/XsG8MhVpVcXfubwmdMEs+dQOCQ==
-----END EC PRIVATE KEY-----
`
	opensslECPKCS8 = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQdpU26kYjVlSDCDn
aC1ldXTr0tR+aEEExAk/+kk4XYihRANCAARI2VykUPBwMZMHrRQxwsOZJv8vlAju
H/mzIFK8EIJ71M1vMiHnkUHKpuHgX4sHHkhtRwlyhb+gEQELTZo2I1q7
-----END PRIVATE KEY-----
`
)

var testNow = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)

func mustKey(t testing.TB, alg string) Key {
	t.Helper()
	k, err := GenerateKey(alg, testNow)
	if err != nil {
		t.Fatalf("GenerateKey(%s): %v", alg, err)
	}
	return k
}

// TestThumbprintRFC8037 checks the kid derivation against the published test vector
// (RFC 8037 Appendix A.1 and A.3).
func TestThumbprintRFC8037(t *testing.T) {
	d, _ := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	priv := ed25519.NewKeyFromSeed(d)
	if got, want := base64.RawURLEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)), "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"; got != want {
		t.Fatalf("public key = %s, want %s", got, want)
	}
	got, err := Thumbprint(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	if want := "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("Thumbprint = %s, want %s", got, want)
	}
}

func TestGenerateKey(t *testing.T) {
	for _, alg := range []string{AlgEdDSA, AlgES256} {
		t.Run(alg, func(t *testing.T) {
			k := mustKey(t, alg)
			if k.Alg != alg || !k.CreatedAt.Equal(testNow) || k.Private == nil {
				t.Fatalf("GenerateKey = %+v", k)
			}
			if tp, _ := Thumbprint(k.Private.Public()); k.ID != tp || len(k.ID) != 43 {
				t.Errorf("ID = %q, want the thumbprint %q", k.ID, tp)
			}
			if other := mustKey(t, alg); other.ID == k.ID {
				t.Error("two generated keys share an ID")
			}
		})
	}
	if _, err := GenerateKey("HS256", testNow); err == nil || !strings.Contains(err.Error(), "unsupported algorithm") {
		t.Errorf("GenerateKey(HS256) error = %v, want unsupported algorithm", err)
	}
}

func TestMarshalParseKeyRoundTrip(t *testing.T) {
	for _, alg := range []string{AlgEdDSA, AlgES256} {
		t.Run(alg, func(t *testing.T) {
			k := mustKey(t, alg)
			b, err := MarshalKey(k)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(b), "-----BEGIN PRIVATE KEY-----\n") {
				t.Fatalf("MarshalKey wrote %q, want a PKCS#8 PEM block", b)
			}
			got, err := ParseKey(b)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != k.ID || got.Alg != k.Alg || !got.CreatedAt.IsZero() {
				t.Errorf("ParseKey = {ID:%s Alg:%s CreatedAt:%v}, want {ID:%s Alg:%s zero}", got.ID, got.Alg, got.CreatedAt, k.ID, k.Alg)
			}
			type equaler interface {
				Equal(x crypto.PrivateKey) bool
			}
			if !k.Private.(equaler).Equal(got.Private) {
				t.Error("parsed private key differs from the original")
			}
		})
	}
	if _, err := MarshalKey(Key{ID: "x"}); err == nil {
		t.Error("MarshalKey without a private key: want an error")
	}
}

func TestParseKeysOpenSSL(t *testing.T) {
	file := "# current signing key first\n" + opensslEd25519 + "\n# retiring keys\n" + opensslECSEC1 + opensslECPKCS8
	keys, err := ParseKeys([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	wantAlgs := []string{AlgEdDSA, AlgES256, AlgES256}
	if len(keys) != len(wantAlgs) {
		t.Fatalf("ParseKeys found %d keys, want %d", len(keys), len(wantAlgs))
	}
	for i, k := range keys {
		if k.Alg != wantAlgs[i] {
			t.Errorf("key %d Alg = %s, want %s", i, k.Alg, wantAlgs[i])
		}
		if tp, _ := Thumbprint(k.Private.Public()); k.ID != tp {
			t.Errorf("key %d ID = %s, want thumbprint %s", i, k.ID, tp)
		}
	}
	// The parsed keys work in a Manager, ES256 ones included.
	m, err := NewManager(Options{Issuer: "iss", Audience: "aud"}, keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	if m.SigningKeyID() != keys[0].ID {
		t.Errorf("SigningKeyID = %s, want %s", m.SigningKeyID(), keys[0].ID)
	}
	// ParseKey wants exactly one key.
	if _, err := ParseKey([]byte(file)); err == nil || !strings.Contains(err.Error(), "found 3 private keys") {
		t.Errorf("ParseKey(3 keys) error = %v", err)
	}
	if k, err := ParseKey([]byte(opensslECSEC1)); err != nil || k.Alg != AlgES256 {
		t.Errorf("ParseKey(SEC 1 with EC PARAMETERS) = %v, %v", k.Alg, err)
	}
}

func TestParseKeysErrors(t *testing.T) {
	pemOf := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	rsaDER, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	pubDER, _ := x509.MarshalPKIXPublicKey(edPub)
	encrypted := "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n-----END EC PRIVATE KEY-----\n"

	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "no private key found"},
		{"not PEM", "just some text\n", "no private key found"},
		{"only EC PARAMETERS", "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n", "no private key found"},
		{"truncated PEM", opensslEd25519[:40], "no private key found"},
		{"corrupt DER", pemOf("PRIVATE KEY", []byte("not DER")), "PEM block 1 (PRIVATE KEY)"},
		{"RSA key", pemOf("PRIVATE KEY", rsaDER), "unsupported private key type *rsa.PrivateKey"},
		{"P-384 key", pemOf("PRIVATE KEY", p384DER), "unsupported ECDSA curve P-384"},
		{"public key", pemOf("PUBLIC KEY", pubDER), "only a public key"},
		{"encrypted PKCS#8", pemOf("ENCRYPTED PRIVATE KEY", []byte{1}), "encrypted PKCS#8 is not supported"},
		{"encrypted SEC 1", encrypted, "encrypted PEM is not supported"},
		{"unknown block", pemOf("OPENSSH PRIVATE KEY", []byte{1}), "unsupported PEM block type"},
		{"second block bad", opensslEd25519 + pemOf("PRIVATE KEY", []byte("x")), "PEM block 2 (PRIVATE KEY)"},
		{"same key twice", opensslEd25519 + opensslEd25519, "PEM block 2 repeats the key of block 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKeys([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseKeys error = %v, want it to contain %q", err, tt.want)
			}
			if _, err := ParseKey([]byte(tt.in)); err == nil {
				t.Error("ParseKey: want an error")
			}
		})
	}
}
