package token

import (
	"testing"
	"time"
)

// auth_time is written in whole seconds when set, read back equal (also from the cache), and
// absent when zero.
func TestAuthTimeClaim(t *testing.T) {
	c := newClock(testNow)
	m := newTestManager(t, c, mustKey(t, AlgEdDSA))
	in := testClaims()
	in.AuthTime = testNow.Add(-time.Hour + 300*time.Millisecond)
	tok, issued, err := m.Issue(in)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Unix(testNow.Add(-time.Hour).Unix(), 0)
	if !issued.AuthTime.Equal(want) {
		t.Fatalf("issued auth_time %v, want %v", issued.AuthTime, want)
	}
	for range 2 { // the second time from the verify cache
		got, err := m.Verify(tok)
		if err != nil || !got.AuthTime.Equal(want) {
			t.Fatalf("verified auth_time %v, %v; want %v", got.AuthTime, err, want)
		}
	}
	in.AuthTime = time.Time{}
	tok, _, err = m.Issue(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.Verify(tok); err != nil || !got.AuthTime.IsZero() {
		t.Fatalf("token without auth_time: %v, %v", got.AuthTime, err)
	}
}
