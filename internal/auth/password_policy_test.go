package auth

import (
	"bytes"
	"context"
	"crypto/sha1" // #nosec G505 -- the range API's key
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
)

func problemOf(t *testing.T, err error, field string) string {
	t.Helper()
	if err == nil {
		return ""
	}
	if gatehouse.ErrorCode(err) != gatehouse.EInvalid {
		t.Fatalf("code %s: %v", gatehouse.ErrorCode(err), err)
	}
	return gatehouse.ErrorFields(err)[field]
}

// The context words (the email's local part and domain labels, BRAND_NAME, the product name)
// make a password built from them too easy to guess, with zxcvbn on and off.
func TestPasswordPolicyContextWords(t *testing.T) {
	const admin = "admin@localhost.local"
	on := DefaultPasswordPolicy()
	on.ContextWords = []string{"Acme Portal"}
	off := on
	off.CheckStrength = false
	for _, p := range []struct {
		name   string
		policy PasswordPolicy
	}{{"zxcvbn", on}, {"length only", off}} {
		t.Run(p.name, func(t *testing.T) {
			for _, tc := range []struct {
				password string
				email    string
				refused  bool
			}{
				{"localhost.local1", admin, true},
				{"Gatehouse2026!", admin, true},
				{"GATEHOUSE-gatehouse", admin, true},
				{"admin.localhost!", admin, true},
				{"AcmePortal2026!!", admin, true},
				{"quillon.brackwater99", "quillon.brackwater@example.com", true},
				// the same passwords for somebody else, or with enough of their own
				{"quillon.brackwater99", "someone@else.org", false},
				{"localhost.local1", "someone@else.org", false}, // only the context makes it weak
				{"gatehouse vivid otter quantum hinge", admin, false},
				{"correct horse battery staple 42", admin, false},
			} {
				err := p.policy.CheckContext(context.Background(), "password", tc.password, tc.email)
				got := problemOf(t, err, "password")
				if tc.refused && got == "" {
					t.Errorf("%q for %s accepted", tc.password, tc.email)
				}
				if !tc.refused && got != "" {
					t.Errorf("%q for %s refused: %s", tc.password, tc.email, got)
				}
				if tc.refused && p.name == "length only" && !strings.Contains(got, "email address or the name of this service") {
					t.Errorf("%q: problem %q does not name the context words", tc.password, got)
				}
			}
		})
	}
}

// The offline list refuses the most common breached passwords, whatever their case, also when
// zxcvbn is off and even when they are long enough.
func TestBreachedPasswordOffline(t *testing.T) {
	if n := len(commonPasswords()); n < 10000 {
		t.Fatalf("offline list holds %d passwords, want at least 10,000", n)
	}
	p := PasswordPolicy{MinLength: 8} // zxcvbn off: only the list can refuse these
	for _, pw := range []string{"password1", "PASSWORD1", "Iloveyou", "qwertyuiop", "1qaz2wsx3edc", "trustno1"} {
		if got := problemOf(t, p.Check("new_password", pw), "new_password"); got != "appears in known data breaches; choose another one" {
			t.Errorf("%q: problem %q", pw, got)
		}
	}
	for _, pw := range []string{"vivid-otter-quantum", "Xk9#qZ!a7wP2"} {
		if err := p.Check("new_password", pw); err != nil {
			t.Errorf("%q refused: %v", pw, err)
		}
	}
}

// fakeRange is a Have-I-Been-Pwned-compatible range server on loopback holding the given
// passwords; it records the paths asked for.
type fakeRange struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
}

func newFakeRange(t *testing.T, breached []string, handler func(w http.ResponseWriter, r *http.Request) bool) *fakeRange {
	f := &fakeRange{}
	hashes := map[string][]string{}
	for _, pw := range breached {
		sum := sha1.Sum([]byte(pw)) // #nosec G401 -- the range API's key
		h := strings.ToUpper(hex.EncodeToString(sum[:]))
		hashes[h[:5]] = append(hashes[h[:5]], h[5:])
	}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.paths = append(f.paths, r.URL.Path)
		f.mu.Unlock()
		if handler != nil && handler(w, r) {
			return
		}
		prefix, ok := strings.CutPrefix(r.URL.Path, "/range/")
		if !ok || len(prefix) != 5 {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		for i := range 3 { // padding as the real service sends it: count 0, never a match
			fmt.Fprintf(&b, "%035X:0\r\n", i+1)
		}
		for _, s := range hashes[prefix] {
			fmt.Fprintf(&b, "%s:%d\r\n", s, 42)
		}
		_, _ = w.Write([]byte(b.String()))
	}))
	t.Cleanup(f.Close)
	return f
}

func TestBreachedPasswordRangeAPI(t *testing.T) {
	const breached = "Quillon-Brackwater-1987"
	const fine = "vivid otter quantum marmalade"
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	f := newFakeRange(t, []string{breached}, nil)
	p := DefaultPasswordPolicy()
	p.Breached = &BreachedRange{URL: f.URL, Log: log}

	if got := problemOf(t, p.CheckContext(context.Background(), "password", breached), "password"); got != "appears in known data breaches; choose another one" {
		t.Fatalf("breached password: problem %q", got)
	}
	if err := p.CheckContext(context.Background(), "password", fine); err != nil {
		t.Fatalf("unlisted password refused: %v", err)
	}
	// Only the 5-character prefix of the SHA-1 leaves the server.
	sum := sha1.Sum([]byte(breached)) // #nosec G401
	want := "/range/" + strings.ToUpper(hex.EncodeToString(sum[:]))[:5]
	f.mu.Lock()
	paths := append([]string(nil), f.paths...)
	f.mu.Unlock()
	if len(paths) != 2 || paths[0] != want {
		t.Fatalf("paths asked = %v, want %s first", paths, want)
	}
	for _, path := range paths {
		if strings.Contains(path, breached) || strings.Contains(path, fine) || len(path) != len("/range/")+5 {
			t.Fatalf("the range query leaked more than the prefix: %s", path)
		}
	}
	// A password refused offline or by zxcvbn never reaches the service.
	_ = p.CheckContext(context.Background(), "password", "password1")
	f.mu.Lock()
	n := len(f.paths)
	f.mu.Unlock()
	if n != 2 {
		t.Fatalf("a weak password was sent to the range service (%d queries)", n)
	}

	// Fail-open: a slow service or an error status lets the password through, with a warning.
	slow := newFakeRange(t, []string{breached}, func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
		return false
	})
	p.Breached = &BreachedRange{URL: slow.URL, Timeout: 100 * time.Millisecond, Log: log}
	start := time.Now()
	if err := p.CheckContext(context.Background(), "password", breached); err != nil {
		t.Fatalf("timeout did not fail open: %v", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Fatalf("the timeout was not applied: %s", d)
	}
	broken := newFakeRange(t, nil, func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return true
	})
	p.Breached = &BreachedRange{URL: broken.URL, Log: log}
	if err := p.CheckContext(context.Background(), "password", breached); err != nil {
		t.Fatalf("503 did not fail open: %v", err)
	}
	if c := strings.Count(logs.String(), "fail-open"); c != 2 {
		t.Fatalf("want 2 fail-open warnings, got %d:\n%s", c, logs.String())
	}
	if strings.Contains(logs.String(), breached) {
		t.Fatal("the password reached the log")
	}
}
