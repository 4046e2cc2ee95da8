package mail

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
)

var sampleContent = map[string]Content{
	KindConfirm:           Confirm{Link: "https://id.example.com/confirm?token=abc&x=1", Code: "K7Q2-9XPL", ValidFor: 24 * time.Hour},
	KindReset:             Reset{Link: "https://id.example.com/reset?token=def&x=1", Code: "R4ND-0M00", ValidFor: time.Hour},
	KindResetNotice:       ResetNotice{At: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), Link: "https://id.example.com/forgot"},
	KindChangeNotice:      ChangeNotice{At: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), Link: "https://id.example.com/forgot"},
	KindAlreadyRegistered: AlreadyRegistered{LoginLink: "https://id.example.com/login", ResetLink: "https://id.example.com/forgot"},
	KindEmailCode:         EmailCode{Code: "482913"},
	KindInvitation: Invitation{Team: "Platform\r\nteam", Role: "member", InvitedBy: "owner@example.com",
		Link: "https://id.example.com/invitations/accept?token=ghi&x=1", Code: "INV1T-ED000", ValidFor: 7 * 24 * time.Hour},
	KindTwoFactorNotice: TwoFactorNotice{Method: "an authenticator app", Added: true, At: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		Link: "https://id.example.com/profile"},
	KindEmailChange: EmailChange{Link: "https://id.example.com/confirm-email?token=jkl&x=1", Code: "CH4NG-EMA1L", ValidFor: time.Hour},
	KindEmailChangeNotice: EmailChangeNotice{NewEmail: "new@example.org", At: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
		Link: "https://id.example.com/profile"},
	KindEmailSignIn:      EmailSignIn{Link: "https://id.example.com/login/email/link?token=mno&x=1", Code: "042913", ValidFor: 10 * time.Minute},
	KindUsernameTaken:    UsernameTaken{Username: "Alice\r\n.Smith", RegisterLink: "https://id.example.com/register"},
	KindUsernameRecovery: UsernameRecovery{Username: "alice.smith", LoginLink: "https://id.example.com/login"},
	KindAccountInvite:    AccountInvite{Link: "https://id.example.com/reset-password?token=pqr&x=1", Code: "1NV1T-ACC0T", ValidFor: 5 * 24 * time.Hour},
}

func TestRenderEveryKind(t *testing.T) {
	// What each kind must say, in both the text and the HTML part (the HTML escapes & as &amp;).
	want := map[string][]string{
		KindConfirm:           {"Confirm your email address for Acme ID", "https://id.example.com/confirm?token=abc", "K7Q2-9XPL", "1 day"},
		KindReset:             {"Reset your Acme ID password", "https://id.example.com/reset?token=def", "R4ND-0M00", "1 hour"},
		KindResetNotice:       {"Your Acme ID password was reset", "4 March 2026 at 05:06 UTC", "https://id.example.com/forgot", "signed out"},
		KindChangeNotice:      {"Your Acme ID password was changed", "4 March 2026 at 05:06 UTC", "https://id.example.com/forgot"},
		KindAlreadyRegistered: {"Your Acme ID account", "https://id.example.com/login", "https://id.example.com/forgot", "already have an account"},
		KindEmailCode:         {"Your Acme ID sign-in code", "482913", "5 minutes"},
		KindInvitation: {"You are invited to join Platform team on Acme ID", "owner@example.com invited you", "Platform team",
			"as member", "https://id.example.com/invitations/accept?token=ghi", "INV1T-ED000", "7 days"},
		KindTwoFactorNotice: {"Two-factor authentication changed on your Acme ID account", "an authenticator app was added",
			"4 March 2026 at 05:06 UTC", "https://id.example.com/profile"},
		KindEmailChange: {"Confirm your new email address for Acme ID", "https://id.example.com/confirm-email?token=jkl", "CH4NG-EMA1L",
			"1 hour", "signs the account out everywhere"},
		KindEmailChangeNotice: {"A change of your Acme ID email address was requested", "change its email address to",
			"new@example.org", "4 March 2026 at 05:06 UTC", "https://id.example.com/profile", "cancels the request"},
		KindEmailSignIn: {"Sign in to Acme ID", "https://id.example.com/login/email/link?token=mno", "042913", "10 minutes",
			"in the browser or app where you asked", "asks you to confirm"},
		KindUsernameTaken:    {"Your Acme ID registration", "Alice .Smith", "already taken", "https://id.example.com/register"},
		KindUsernameRecovery: {"Your Acme ID username", "alice.smith", "https://id.example.com/login"},
		KindAccountInvite: {"Your new Acme ID account", "An administrator made you an account", "https://id.example.com/reset-password?token=pqr",
			"1NV1T-ACC0T", "5 days", "nobody can sign in"},
	}
	if len(sampleContent) != len(Kinds) || len(want) != len(Kinds) {
		t.Fatalf("the test covers %d kinds, there are %d", len(sampleContent), len(Kinds))
	}
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			c := sampleContent[kind]
			if c.Kind() != kind {
				t.Fatalf("Kind() = %q", c.Kind())
			}
			m, err := Render(Brand{Name: "Acme ID"}, "alice@example.com", c)
			if err != nil {
				t.Fatal(err)
			}
			if m.To != "alice@example.com" || !strings.Contains(m.Subject, "Acme ID") || strings.ContainsAny(m.Subject, "\r\n") {
				t.Fatalf("To %q, Subject %q", m.To, m.Subject)
			}
			if !strings.HasPrefix(m.Text, "Hello,\n\n") || !strings.HasSuffix(m.Text, "to alice@example.com.\n") ||
				strings.Contains(m.Text, "\n\n\n") || strings.Contains(m.Text, "{{") {
				t.Errorf("text body is untidy:\n%s", m.Text)
			}
			if !strings.HasPrefix(m.HTML, "<!DOCTYPE html>") || !strings.Contains(m.HTML, "<title>"+m.Subject+"</title>") {
				t.Errorf("HTML body lacks its frame:\n%s", m.HTML)
			}
			for i, s := range want[kind] {
				if i == 0 {
					if m.Subject != s {
						t.Errorf("subject %q, want %q", m.Subject, s)
					}
					continue
				}
				if !strings.Contains(m.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, m.Text)
				}
				if !strings.Contains(m.HTML, strings.ReplaceAll(s, "&", "&amp;")) {
					t.Errorf("HTML lacks %q:\n%s", s, m.HTML)
				}
			}
			if err := m.Validate(); err != nil {
				t.Errorf("rendered message does not validate: %v", err)
			}
		})
	}
}

func TestRenderOptionalPartsLeftOut(t *testing.T) {
	m, err := Render(Brand{}, "bob@example.com", Confirm{Link: "https://id.example.com/c"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Subject, "Gatehouse") {
		t.Errorf("an empty brand should read Gatehouse: %q", m.Subject)
	}
	for _, s := range []string{"code", "valid for"} {
		if strings.Contains(m.Text, s) || strings.Contains(m.HTML, s) {
			t.Errorf("without a code and validity the message still mentions %q:\n%s\n%s", s, m.Text, m.HTML)
		}
	}
	m, err = Render(Brand{}, "bob@example.com", ChangeNotice{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Text, " on ") || strings.Contains(m.Text, " at http") {
		t.Errorf("without time and link:\n%s", m.Text)
	}
}

func TestRenderEscapesHostileData(t *testing.T) {
	brand := Brand{Name: "Evil<script>alert(1)</script>\"'&\r\nBcc: victim@example.com"}
	to := `"<b>Bold</b>" <alice@example.com>`
	contents := []Content{
		Confirm{Link: `https://id.example.com/confirm?t=a"><script>alert(2)</script>&u='x'`, Code: `<img/src=x>`, ValidFor: time.Hour},
		Reset{Link: `https://id.example.com/reset?t="onmouseover="alert(3)`, Code: `"'<>&`},
		ResetNotice{Link: `https://id.example.com/x?<svg/onload=alert(4)>`},
		AlreadyRegistered{LoginLink: `https://id.example.com/login?"><iframe>`, ResetLink: `https://id.example.com/r?'><a>`},
		EmailCode{Code: `<b>1</b>`},
		Invitation{Team: "<script>alert(5)</script>\r\nBcc: victim@example.com", Role: "<b>owner</b>", InvitedBy: `"<img/src=x>"@example.com`,
			Link: `https://id.example.com/invitations/accept?t="><iframe>`, Code: `<svg/onload=alert(6)>`},
		EmailChange{Link: `https://id.example.com/confirm-email?t="><iframe>`, Code: `<b>X</b>`},
		EmailChangeNotice{NewEmail: "\"<script>alert(7)</script>\"@example.com\r\nBcc: victim@example.com", Link: `https://id.example.com/p?<svg/onload=alert(8)>`},
	}
	for _, c := range contents {
		t.Run(c.Kind(), func(t *testing.T) {
			m, err := Render(brand, to, c)
			if err != nil {
				t.Fatal(err)
			}
			if strings.ContainsAny(m.Subject, "\r\n") {
				t.Fatalf("subject has a line break: %q", m.Subject)
			}
			if !strings.Contains(m.Subject, "Bcc: victim@example.com") {
				t.Errorf("the brand should stay in the subject as text: %q", m.Subject)
			}
			for _, bad := range []string{"<script", "<img", "<svg", "<iframe", "<b>", `"onmouseover`, "'><a>"} {
				if strings.Contains(m.HTML, bad) {
					t.Errorf("HTML contains %q unescaped:\n%s", bad, m.HTML)
				}
			}
			if !strings.Contains(m.HTML, "Evil&lt;script&gt;") {
				t.Errorf("the brand should appear escaped in the HTML:\n%s", m.HTML)
			}
		})
	}
}

func TestRenderRejectsBadContent(t *testing.T) {
	for name, tc := range map[string]struct {
		to    string
		c     Content
		field string
	}{
		"no link":          {"a@example.com", Confirm{Code: "1"}, "link"},
		"relative link":    {"a@example.com", Reset{Link: "/reset?t=1"}, "link"},
		"javascript link":  {"a@example.com", Confirm{Link: "javascript:alert(1)"}, "link"},
		"link with space":  {"a@example.com", Confirm{Link: "https://x.example.com/a b"}, "link"},
		"bad notice link":  {"a@example.com", ChangeNotice{Link: "ftp://x.example.com/"}, "link"},
		"no login link":    {"a@example.com", AlreadyRegistered{}, "login_link"},
		"no code":          {"a@example.com", EmailCode{}, "code"},
		"code with space":  {"a@example.com", EmailCode{Code: "12 34"}, "code"},
		"code with CRLF":   {"a@example.com", Confirm{Link: "https://x.example.com/", Code: "1\r\nBcc: x"}, "code"},
		"two recipients":   {"a@example.com, b@example.com", EmailCode{Code: "1"}, "to"},
		"recipient header": {"a@example.com\r\nBcc: b@example.com", EmailCode{Code: "1"}, "to"},
		"no recipient":     {"", EmailCode{Code: "1"}, "to"},
		"no team":          {"a@example.com", Invitation{Team: " \r\n", Role: "member", Link: "https://x.example.com/"}, "team"},
		"no invite link":   {"a@example.com", Invitation{Team: "T", Role: "member"}, "link"},
		"no change link":   {"a@example.com", EmailChange{Code: "1"}, "link"},
		"no new address":   {"a@example.com", EmailChangeNotice{NewEmail: " \r\n"}, "new_email"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Render(Brand{Name: "X"}, tc.to, tc.c)
			if gatehouse.ErrorCode(err) != gatehouse.EInvalid || gatehouse.ErrorFields(err)[tc.field] == "" {
				t.Fatalf("Render = %v, want invalid naming %s", err, tc.field)
			}
		})
	}
	if _, err := Render(Brand{}, "a@example.com", nil); gatehouse.ErrorCode(err) != gatehouse.EInvalid {
		t.Fatalf("Render(nil) = %v, want invalid", err)
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                "",
		-time.Minute:                     "",
		5 * time.Minute:                  "5 minutes",
		time.Minute:                      "1 minute",
		20 * time.Second:                 "1 minute",
		90 * time.Second:                 "2 minutes",
		time.Hour:                        "1 hour",
		90 * time.Minute:                 "90 minutes",
		3 * time.Hour:                    "3 hours",
		24 * time.Hour:                   "1 day",
		7 * 24 * time.Hour:               "7 days",
		24*time.Hour + 30*time.Minute:    "1470 minutes",
		2*time.Hour + 30*time.Second:     "121 minutes",
		48*time.Hour + 1*time.Nanosecond: "2880 minutes",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestMessageValidate(t *testing.T) {
	ok := Message{To: "a@example.com", Subject: "Hi", Text: "Body"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]Message{
		"subject CR":   {To: "a@example.com", Subject: "Hi\rBcc: x@example.com", Text: "b"},
		"subject LF":   {To: "a@example.com", Subject: "Hi\nBcc: x@example.com", Text: "b"},
		"no subject":   {To: "a@example.com", Text: "b"},
		"no text":      {To: "a@example.com", Subject: "Hi", HTML: "<p>b</p>"},
		"bad address":  {To: "not an address", Subject: "Hi", Text: "b"},
		"two of them":  {To: "a@example.com, b@example.com", Subject: "Hi", Text: "b"},
		"to with LF":   {To: "a@example.com\nBcc: b@example.com", Subject: "Hi", Text: "b"},
		"empty header": {},
	} {
		if err := m.Validate(); gatehouse.ErrorCode(err) != gatehouse.EInvalid {
			t.Errorf("%s: Validate = %v, want invalid", name, err)
		}
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour, time.Hour}
	for i, w := range want {
		if got := Backoff(i+1, 30*time.Second, time.Hour); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
	if got := Backoff(1000, time.Second, time.Minute); got != time.Minute {
		t.Errorf("Backoff(1000) = %s, want the cap", got)
	}
}
