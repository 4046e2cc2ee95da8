package auth

import "testing"

// Hashes made by passlib 1.7.4 (Debian bookworm's python3-passlib, the library
// Flask-Security-Too 5.1 hashes with) the way Flask-Security's hash_password does: of
// get_hmac(password) for the "-hmac" schemes (SECURITY_PASSWORD_SALT "short salt"), of the NFKD
// password for the single-hash ones. The password holds an umlaut (NFKD decomposes it) and the
// "ﬁ" ligature (NFKD unfolds it).
var passlibVectors = []struct{ scheme, hash string }{
	{SchemeArgon2HMAC, "$argon2id$v=19$m=512,t=2,p=2$51zLWWsNIYQw5nzPee+d0w$6M2bVbaA2fyiWtKllbq3bg"},
	{SchemeArgon2HMAC, "$argon2i$v=19$m=512,t=2,p=1$rxViTOlda23N2TsHgDBmDA$QaQb9kh0BJAV2pFfXZ4eLQ"},
	{SchemeArgon2, "$argon2id$v=19$m=512,t=2,p=2$BmCMMaaU0vrf+3/PWSslhA$8NxltQJxTYyd3GmoXCPHDg"},
	{SchemePBKDF2SHA512HMAC, "$pbkdf2-sha512$1000$POeckxLCWOsd49w7p1QqxQ$i3Y0tTpl1Z2yjIJMKPqMcliZduenmZQwzuVSCsAt1c9/7bc6gtBP9vku0poinRCibOJ0EnPrGv9mac1ZA/b7eA"},
	{SchemePBKDF2SHA256HMAC, "$pbkdf2-sha256$1000$y9nbGyMk5Py/11oLIUTIWQ$Dfgvj4iPZ5d9oXSKi/xIyFzoPBer8z9BsX3.DYAQAOQ"},
	{SchemePBKDF2SHA512, "$pbkdf2-sha512$1000$rxWC8N67NwagFOLcW2tNiQ$bcJFaHzNBKN.9l4nQz.goG0ncwnsLtMbae/ovNP29oZhwHP9Me1hdVYPp8M0JSYsnf3pCh13dcEN6JVUUE1RTA"},
	{SchemeSHA512CryptHMAC, "$6$rounds=1000$lKtH.1DS74j1AorG$MWl6DH5zbA6l8dJVlhGoVtq4J1dZ2ClYn/iN68j6V.8W1J0LokuvntaDZ/ICaGPonBWCl9BbnAa4Toz/WMvYi."},
	{SchemeSHA256CryptHMAC, "$5$rounds=1000$v5pJ1IBgr6fKo/8o$DLBvvuQ10fvrUL8uN/UEgEz9hOVMxOfJ9SsqP.YsMv2"},
	{SchemeSHA512Crypt, "$6$pYxR4r75ql5yeW0z$E3xQ37W4JQiIfYGPEAc5.njpI.Ucg7K1cbarCVCCHYoNG3aa5noqA38jly5POXAvglWPoIH8le6Mz392wN7Ye/"},
	{SchemeSHA256Crypt, "$5$HMzGfM.3wgV2De5z$RCPMtOUL9f9Ktoz8YM5Maf8GX0h3OY.eWhn8J7BQFy."},
}

func TestFlaskSecurityLegacySchemes(t *testing.T) {
	h := Hasher{Cost: 4, Salt: []byte("short salt")}
	const pw = "Pässwörd ﬁne 1"
	for _, v := range passlibVectors {
		single := v.scheme == SchemeArgon2 || v.scheme == SchemePBKDF2SHA512 || v.scheme == SchemeSHA512Crypt || v.scheme == SchemeSHA256Crypt
		if got := IdentifyFlaskSecurityHash(v.hash, single); got != v.scheme {
			t.Errorf("IdentifyFlaskSecurityHash(%s) = %q, want %q", v.hash, got, v.scheme)
		}
		ok, rehash := h.Verify(v.hash, v.scheme, pw)
		if !ok || !rehash {
			t.Errorf("%s: Verify(right password) = %v, %v; want true, true", v.scheme, ok, rehash)
		}
		if ok, _ := h.Verify(v.hash, v.scheme, "Pässwörd fine 2"); ok {
			t.Errorf("%s: a wrong password verified", v.scheme)
		}
		if ok, _ := (Hasher{Cost: 4, Salt: []byte("other salt")}).Verify(v.hash, v.scheme, pw); ok && !single {
			t.Errorf("%s: verified under another salt", v.scheme)
		}
	}
	// sha512_crypt's 656,000 default rounds, with a 100-byte password (longer than a digest).
	if !verifySHACrypt("$6$IpvfelIevqxmFd4O$l17KkFAHHSK14YEHVz9NPTl.IuNDeoMDsjdq0uyMwfSBeXyIQ/EB1tp4iuus5SP7DLQnzslxqa9W8sMEQFD1m.", []byte(repeatA(100)), "$6$", sha512New) ||
		!verifySHACrypt("$5$LobWZW6iqgqtinwu$a7W3XA8B3cBvd4N/L2PwzmaOlqp/8M9WZX6/BoAHZ58", []byte(repeatA(100)), "$5$", sha256New) ||
		!verifySHACrypt("$6$rounds=1000$abc$zaWpAwySRl8PX4W2aEMJwxpN82bCKtDZP0RBdOD6W7BQlilBqAsWnAZuS10iUyJZneS8Ob1gxs1BZkqJi1nTi.", []byte("x"), "$6$", sha512New) {
		t.Error("SHA-crypt vectors from passlib do not verify")
	}
}

func TestFlaskSecurityHashRefused(t *testing.T) {
	for _, h := range []string{
		"plain words 123", "", "$1$abc$def", "abcdefghijklm", // plaintext, md5_crypt, des_crypt
		"$argon2d$v=19$m=512,t=2,p=2$51zLWWsNIYQw5nzPee+d0w$6M2bVbaA2fyiWtKllbq3bg",
		"$argon2id$v=16$m=512,t=2,p=2$51zLWWsNIYQw5nzPee+d0w$6M2bVbaA2fyiWtKllbq3bg",
		"$argon2id$v=19$m=4194304,t=2,p=2$51zLWWsNIYQw5nzPee+d0w$6M2bVbaA2fyiWtKllbq3bg", // 4 GiB
		"$6$rounds=999999999$abc$zaWpAwySRl8PX4W2aEMJwxpN82bCKtDZP0RBdOD6W7BQlilBqAsWnAZuS10iUyJZneS8Ob1gxs1BZkqJi1nTi.",
		"$pbkdf2-sha512$99999999$POeckxLCWOsd49w7p1QqxQ$i3Y0tTpl1Z2yjIJMKPqMcliZduenmZQwzuVSCsAt1c9/7bc6gtBP9vku0poinRCibOJ0EnPrGv9mac1ZA/b7eA",
		"pbkdf2:sha256:600000$x$y", // werkzeug, not passlib
		"$2b$12$short",
	} {
		if got := IdentifyFlaskSecurityHash(h, false); got != "" {
			t.Errorf("IdentifyFlaskSecurityHash(%q) = %q, want refused", h, got)
		}
	}
}

func repeatA(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

// BenchmarkVerifyArgon2FlaskSecurityDefault measures one login check of an argon2 hash made by
// Flask-Security-Too 5.1.2 with its defaults (argon2id, 100 MiB, 10 passes, 8 lanes;
// SECURITY_PASSWORD_SALT "shortsalt12"): the price an imported account pays once, before its
// hash becomes bcrypt-hmac.
func BenchmarkVerifyArgon2FlaskSecurityDefault(b *testing.B) {
	h := Hasher{Cost: 12, Salt: []byte("shortsalt12")}
	const hash = "$argon2id$v=19$m=102400,t=10,p=8$8/6fc45xLmWsdQ5hLOX8vw$fhHEa460HBDVcLLv0MVRUw"
	for b.Loop() {
		if ok, _ := h.Verify(hash, SchemeArgon2HMAC, "Recovery user password 1"); !ok {
			b.Fatal("Flask-Security's default argon2 hash does not verify")
		}
	}
}

// BenchmarkVerifySHA512CryptFlaskSecurityDefault: passlib's default 656,000 rounds.
func BenchmarkVerifySHA512CryptFlaskSecurityDefault(b *testing.B) {
	h := Hasher{Cost: 12, Salt: []byte("shortsalt12")}
	const hash = "$6$rounds=656000$kTgeYq1hSevysOUQ$OOxBiIJgDeuRfsNXK/XDsTagT/I0HQuor7dJ415MLbA6GtGzyZ5il1ci6XrU2M5TWHcLyLxxD3Pt9JCiEJVsd."
	for b.Loop() {
		if ok, _ := h.Verify(hash, SchemeSHA512CryptHMAC, "Sha512 crypt staple!"); !ok {
			b.Fatal("Flask-Security's default sha512_crypt hash does not verify")
		}
	}
}
