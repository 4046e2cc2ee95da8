package mail

import (
	"slices"
	"strings"
	"testing"

	gomail "github.com/wneessen/go-mail"
)

// The password travels in clear only to a loopback host, and only when SMTP_TLS=none says so.
func TestAuthMechanisms(t *testing.T) {
	for _, tc := range []struct {
		host, tls string
		clear     bool
	}{
		{"smtp.example.com", TLSStartTLS, false},
		{"smtp.example.com", TLSImplicit, false},
		{"smtp.example.com", TLSNone, false},
		{"192.0.2.10", TLSNone, false},
		{"127.0.0.1", TLSNone, true},
		{"localhost", TLSNone, true},
		{"[::1]", TLSNone, true},
		{"127.0.0.1", TLSStartTLS, false},
	} {
		ms := authMechanisms(SMTPOptions{Host: tc.host, TLS: tc.tls})
		clear := slices.ContainsFunc(ms, func(m gomail.SMTPAuthType) bool { return strings.HasSuffix(string(m), "-NOENC") })
		if clear != tc.clear {
			t.Errorf("%s with %s: mechanisms %v; clear-text allowed = %v, want %v", tc.host, tc.tls, ms, clear, tc.clear)
		}
		if len(ms) == 0 || (!slices.Contains(ms, "PLAIN") && !slices.Contains(ms, "PLAIN-NOENC")) {
			t.Errorf("%s with %s: mechanisms %v lack PLAIN", tc.host, tc.tls, ms)
		}
	}
}
