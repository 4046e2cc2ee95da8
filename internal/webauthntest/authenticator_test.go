package webauthntest_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehousehq/gatehouse/internal/webauthntest"
)

type user struct{ creds []webauthn.Credential }

func (u *user) WebAuthnID() []byte                         { return []byte{0, 0, 0, 0, 0, 0, 0, 42} }
func (u *user) WebAuthnName() string                       { return "alice@example.com" }
func (u *user) WebAuthnDisplayName() string                { return "Alice" }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// TestAgainstGoWebAuthn checks that what the software authenticator produces is accepted by an
// independent verifier (go-webauthn), and that tampering is caught.
func TestAgainstGoWebAuthn(t *testing.T) {
	rp, err := webauthn.New(&webauthn.Config{RPID: "login.example.com", RPDisplayName: "Example", RPOrigins: []string{"https://login.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	u := &user{}
	auth := webauthntest.New("https://login.example.com")
	auth.BackupEligible = true

	creation, session, err := rp.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := json.Marshal(creation.Response)
	resp, err := auth.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(resp)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := rp.CreateCredential(u, *session, parsed)
	if err != nil {
		t.Fatalf("registration refused: %v (%+v)", err, err)
	}
	if !cred.Flags.BackupEligible || cred.Flags.BackupState || !cred.Flags.UserPresent || cred.AttestationFormat != "none" {
		t.Fatalf("credential = %+v", cred)
	}
	u.creds = append(u.creds, *cred)

	// The exclude list makes a second registration on the same authenticator fail.
	creation2, _, _ := rp.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()))
	opts2, _ := json.Marshal(creation2.Response)
	if _, err := auth.Create(opts2); !errors.Is(err, webauthntest.ErrExcluded) {
		t.Fatalf("excluded registration: %v", err)
	}

	for i := 1; i <= 2; i++ {
		assertion, lsession, err := rp.BeginLogin(u)
		if err != nil {
			t.Fatal(err)
		}
		lopts, _ := json.Marshal(assertion.Response)
		aresp, err := auth.Get(lopts)
		if err != nil {
			t.Fatal(err)
		}
		pa, err := protocol.ParseCredentialRequestResponseBytes(aresp)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rp.ValidateLogin(u, *lsession, pa)
		if err != nil {
			t.Fatalf("login %d refused: %v", i, err)
		}
		if got.Authenticator.CloneWarning || got.Authenticator.SignCount != uint32(i) {
			t.Fatalf("login %d: counter %d, clone warning %v", i, got.Authenticator.SignCount, got.Authenticator.CloneWarning)
		}
		u.creds[0] = *got
	}

	// Another origin is refused.
	assertion, lsession, _ := rp.BeginLogin(u)
	lopts, _ := json.Marshal(assertion.Response)
	evil := auth.Clone()
	evil.Origin = "https://evil.example.net"
	aresp, err := evil.Get(lopts)
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := protocol.ParseCredentialRequestResponseBytes(aresp)
	if _, err := rp.ValidateLogin(u, *lsession, pa); err == nil {
		t.Fatal("assertion from another origin accepted")
	}

	// A counter behind the stored one raises the clone warning.
	aresp, _ = auth.GetWithCounter(lopts, 1)
	pa, _ = protocol.ParseCredentialRequestResponseBytes(aresp)
	got, err := rp.ValidateLogin(u, *lsession, pa)
	if err != nil || !got.Authenticator.CloneWarning {
		t.Fatalf("stale counter: %v, clone warning %v", err, got != nil && got.Authenticator.CloneWarning)
	}
}
