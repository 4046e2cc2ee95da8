package token

import (
	"errors"
	"testing"
	"time"
)

func TestArrangeAndRetirableAt(t *testing.T) {
	old, cur, next := mustKey(t, AlgEdDSA), mustKey(t, AlgEdDSA), mustKey(t, AlgES256)
	old.CreatedAt = testNow.Add(-48 * time.Hour)
	cur.CreatedAt = testNow.Add(-time.Hour)
	cur.ActivatesAt = testNow.Add(-50 * time.Minute)
	next.CreatedAt = testNow.Add(-time.Minute)
	next.ActivatesAt = testNow.Add(9 * time.Minute)
	keys := []Key{next, cur, old}
	hold := 16 * time.Minute

	if got := Arrange(keys, testNow); got[0].ID != cur.ID || len(got) != 3 {
		t.Fatalf("signing key %s, want the newest active one %s", got[0].ID, cur.ID)
	}
	if got := Arrange(keys, next.ActivatesAt); got[0].ID != next.ID {
		t.Fatalf("at its activation time the next key does not sign: %s", got[0].ID)
	}
	if got := Arrange([]Key{next}, testNow); got[0].ID != next.ID {
		t.Fatal("a lone key that is not active yet must still sign")
	}

	if _, err := RetirableAt(keys, cur.ID, testNow, hold); !errors.Is(err, ErrStillSigning) {
		t.Fatalf("RetirableAt(signing key) = %v", err)
	}
	at, err := RetirableAt(keys, old.ID, testNow, hold)
	if err != nil || !at.Equal(cur.ActivatesAt.Add(hold)) {
		t.Fatalf("RetirableAt(old) = %v, %v; want %v", at, err, cur.ActivatesAt.Add(hold))
	}
	if at, err := RetirableAt(keys, next.ID, testNow, hold); err != nil || !at.Equal(testNow) {
		t.Fatalf("a published key that never signed is retirable at once: %v, %v", at, err)
	}
	if _, err := RetirableAt(keys, "nope", testNow, hold); err == nil {
		t.Fatal("unknown kid accepted")
	}
}
