package auth

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
)

// Secrets are sealed under the first key, bound to their user, and opened by any listed key.
func TestTOTPSecretSealing(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	s := &Service{opts: Options{TOTPKeys: [][]byte{k1}}}
	enc, err := s.sealTOTP(7, "JBSWY3DPEHPK3PXP")
	if err != nil || !strings.HasPrefix(enc, "v1."+totpKeyID(k1)+".") || strings.Contains(enc, "JBSWY3DPEHPK3PXP") {
		t.Fatalf("sealTOTP = %q, %v", enc, err)
	}
	if again, _ := s.sealTOTP(7, "JBSWY3DPEHPK3PXP"); again == enc {
		t.Fatal("two seals of one secret are equal: the nonce is not fresh")
	}
	if got, err := s.openTOTP(7, enc); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("openTOTP = %q, %v", got, err)
	}
	// Another user's row, a tampered ciphertext, a malformed value: unreadable (an internal error).
	tampered := []byte(enc)
	tampered[len(tampered)-2] ^= 1
	for _, c := range []struct {
		user int64
		enc  string
	}{{8, enc}, {7, string(tampered)}, {7, "plain"}, {7, "v1.x.y"}} {
		if _, err := s.openTOTP(c.user, c.enc); gatehouse.ErrorCode(err) != gatehouse.EInternal {
			t.Fatalf("openTOTP(%d, %q) = %v, want internal", c.user, c.enc, err)
		}
	}
	// After rotation (new key first, old kept) old secrets open and new ones use the new key;
	// without the old key they do not open.
	rotated := &Service{opts: Options{TOTPKeys: [][]byte{k2, k1}}}
	if got, err := rotated.openTOTP(7, enc); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("after rotation = %q, %v", got, err)
	}
	if enc2, _ := rotated.sealTOTP(7, "X"); !strings.HasPrefix(enc2, "v1."+totpKeyID(k2)+".") {
		t.Fatalf("new secrets not under the new key: %q", enc2)
	}
	if _, err := (&Service{opts: Options{TOTPKeys: [][]byte{k2}}}).openTOTP(7, enc); err == nil {
		t.Fatal("opened without its key")
	}
	if _, err := (&Service{}).sealTOTP(7, "X"); gatehouse.ErrorCode(err) != gatehouse.EForbidden {
		t.Fatalf("sealing without a key: %v", err)
	}
}

// RFC 6238 appendix B (SHA-1, truncated to 6 digits) and the ±1 step window.
func TestTOTPStep(t *testing.T) {
	secret := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	for _, c := range []struct {
		unix int64
		code string
	}{{59, "287082"}, {1111111109, "081804"}, {1234567890, "005924"}, {2000000000, "279037"}} {
		step, ok := totpStep(secret, c.code, time.Unix(c.unix, 0))
		if !ok || step != c.unix/30 {
			t.Fatalf("code %s at %d: step %d, %v", c.code, c.unix, step, ok)
		}
		if step, ok := totpStep(secret, c.code, time.Unix(c.unix+30, 0)); !ok || step != c.unix/30 {
			t.Fatalf("code %s a step later: %d, %v", c.code, step, ok)
		}
		if _, ok := totpStep(secret, c.code, time.Unix(c.unix+90, 0)); ok {
			t.Fatalf("code %s accepted three steps later", c.code)
		}
	}
}

func TestRecoveryAndEmailCodes(t *testing.T) {
	s := &Service{opts: Options{TokenKey: []byte("test key")}}
	codes, hashes := s.newRecoveryCodes()
	if len(codes) != 10 || len(hashes) != 10 {
		t.Fatal("not ten codes")
	}
	for i, c := range codes {
		if normalizeRecoveryCode(strings.ToLower(strings.ReplaceAll(c, "-", " "))) != c || HMACHex([]byte("test key"), c) != hashes[i] {
			t.Fatalf("code %q does not normalise back", c)
		}
	}
	for _, bad := range []string{"", "ABCDE-FGHJ", "ABCDE-FGHJKL", "ABCDE-FGHJ0", "ABCDE-FGHJ!"} {
		if normalizeRecoveryCode(bad) != "" {
			t.Fatalf("%q taken for a recovery code", bad)
		}
	}
	for range 100 {
		if c := newEmailCode(); !sixDigits(c) {
			t.Fatalf("email code %q", c)
		}
	}
	if sixDigits("12345") || sixDigits("１２３４５６") || sixDigits("12a456") {
		t.Fatal("sixDigits accepts too much")
	}
	svg := qrSVG([][]bool{{true, false}, {false, true}})
	if !strings.Contains(svg, `viewBox="0 0 2 2"`) || strings.Count(svg, "h1v1h-1z") != 2 {
		t.Fatalf("qrSVG = %s", svg)
	}
}

// The policy covers admins or everyone, but never an SSO-only account: it has no local password
// step at which a local second factor could be asked for.
func TestTwoFactorRequiredPolicy(t *testing.T) {
	admin := &gatehouse.User{Roles: []gatehouse.Role{gatehouse.RoleAdmin}}
	viewer := &gatehouse.User{Roles: []gatehouse.Role{gatehouse.RoleViewer}}
	ssoAdmin := &gatehouse.User{Roles: []gatehouse.Role{gatehouse.RoleAdmin}, SSOOnly: true}
	for _, tc := range []struct {
		policy             string
		admin, viewer, sso bool
	}{
		{TwoFactorRequiredNone, false, false, false},
		{TwoFactorRequiredAdmins, true, false, false},
		{TwoFactorRequiredAll, true, true, false},
	} {
		s := &Service{opts: Options{TwoFactorRequired: tc.policy}}
		if got := s.twoFactorRequired(admin); got != tc.admin {
			t.Errorf("%s: admin covered = %v, want %v", tc.policy, got, tc.admin)
		}
		if got := s.twoFactorRequired(viewer); got != tc.viewer {
			t.Errorf("%s: viewer covered = %v, want %v", tc.policy, got, tc.viewer)
		}
		if got := s.twoFactorRequired(ssoAdmin); got != tc.sso {
			t.Errorf("%s: SSO-only admin covered = %v, want %v", tc.policy, got, tc.sso)
		}
	}
}
