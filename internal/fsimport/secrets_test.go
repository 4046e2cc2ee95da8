package fsimport

import "testing"

// Made by Flask-Security-Too 5.1.2 with passlib 1.7.4 (internal/fsimport/testdata/fsapp.py):
// SECURITY_TOTP_SECRETS {"1": "fsapp totp secret"}; the base32 key is passlib's own answer.
func TestDecryptPasslibTOTP(t *testing.T) {
	secrets, err := ParseTOTPSecrets(`{"1": "fsapp totp secret"}`)
	if err != nil {
		t.Fatal(err)
	}
	const stored = `{"enckey":{"c":14,"k":"GEVMV4XKZWNLQHFXAYWEDHJNTFARV45Q","s":"LDFZSE6CTBJ6UPLHVT2Q","t":"1","v":1},"type":"totp","v":1}`
	got, err := DecryptTOTP(stored, secrets)
	if err != nil || got != "VB2Y5UK2NNGYTUI2QNYC4JOEHBTSZBKQ" {
		t.Fatalf("DecryptTOTP = %q, %v", got, err)
	}
	if lines, err := ParseTOTPSecrets("# keys\n1: fsapp totp secret\n"); err != nil || string(lines["1"]) != "fsapp totp secret" {
		t.Fatalf("tag: secret lines = %v, %v", lines, err)
	}
	if _, err := DecryptTOTP(stored, TOTPSecrets{"2": []byte("x")}); err == nil {
		t.Fatal("decrypted without the tag's secret")
	}
	if got, err := DecryptTOTP(`{"key":"VB2Y5UK2NNGYTUI2QNYC4JOEHBTSZBKQ","type":"totp","v":1}`, nil); err != nil || got != "VB2Y5UK2NNGYTUI2QNYC4JOEHBTSZBKQ" {
		t.Fatalf("unencrypted = %q, %v", got, err)
	}
}

// A recovery code Flask-Security 5.1.2 stored with SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS.
func TestDecryptFernetRecoveryCode(t *testing.T) {
	f, err := ParseFernetKeys("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=, 9-0_tCr2SCsbtLKyR_gosTd9aPM6H5Wy2jEgzGkCeSg=")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Decrypt("gAAAAABrFt6JUaKWi-Fvh5g3moeLb5NHIyenwoc6D2u6_GK2U3lUs1Fy6TTctnY3M_6ay4mC4PHI1zyxo7VD9XxZYlY76ydRhg==")
	if err != nil || string(got) != "c8bf-1a74-6413" {
		t.Fatalf("Decrypt = %q, %v", got, err)
	}
	if _, err := f[:1].Decrypt("gAAAAABrFt6JUaKWi-Fvh5g3moeLb5NHIyenwoc6D2u6_GK2U3lUs1Fy6TTctnY3M_6ay4mC4PHI1zyxo7VD9XxZYlY76ydRhg=="); err == nil {
		t.Fatal("opened with the wrong key")
	}
}
