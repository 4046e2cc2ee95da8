package token

import (
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
)

func TestRotation(t *testing.T) {
	c := newClock(testNow)
	oldKey, newKey := mustKey(t, AlgEdDSA), mustKey(t, AlgES256)
	m := newTestManager(t, c, oldKey)
	oldTok, _, err := m.Issue(testClaims())
	if err != nil {
		t.Fatal(err)
	}

	// Step 1: publish the next key before it signs anything.
	if err := m.SetKeys(oldKey, newKey); err != nil {
		t.Fatal(err)
	}
	if kids := jwksKIDs(t, m.JWKS()); !slices.Equal(kids, []string{oldKey.ID, newKey.ID}) {
		t.Errorf("JWKS kids = %v", kids)
	}

	// Step 2: the new key signs; the old one still verifies.
	if err := m.SetKeys(newKey, oldKey); err != nil {
		t.Fatal(err)
	}
	if m.SigningKeyID() != newKey.ID {
		t.Errorf("SigningKeyID = %s, want %s", m.SigningKeyID(), newKey.ID)
	}
	newTok, _, err := m.Issue(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"old": oldTok, "new": newTok} {
		if _, err := m.Verify(tok); err != nil {
			t.Errorf("%s token after rotation: %v", name, err)
		}
	}

	// Step 3: the old key is dropped; its tokens stop verifying, the new ones still do.
	if err := m.SetKeys(newKey); err != nil {
		t.Fatal(err)
	}
	_, err = m.Verify(oldTok)
	assertUnauthenticated(t, err)
	if !errors.Is(err, errUnknownKID) {
		t.Errorf("old token after removal: %v, want unknown kid", err)
	}
	if _, err := m.Verify(newTok); err != nil {
		t.Errorf("new token after removal: %v", err)
	}
	if kids := jwksKIDs(t, m.JWKS()); !slices.Equal(kids, []string{newKey.ID}) {
		t.Errorf("JWKS kids = %v", kids)
	}

	// A failed SetKeys leaves the working set in place.
	if err := m.SetKeys(Key{}); err == nil {
		t.Error("SetKeys(Key{}): want an error")
	}
	if _, err := m.Verify(newTok); err != nil {
		t.Errorf("after failed SetKeys: %v", err)
	}
}

func jwksKIDs(t *testing.T, b []byte) []string {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// TestConcurrentRotation exercises Issue, Verify, JWKS and SetKeys at once; run with -race.
func TestConcurrentRotation(t *testing.T) {
	c := newClock(testNow)
	a, b := mustKey(t, AlgEdDSA), mustKey(t, AlgES256)
	m := newTestManager(t, c, a, b)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				tok, _, err := m.Issue(testClaims())
				if err != nil {
					t.Error(err)
					return
				}
				// Both keys stay in the set throughout, so every token verifies.
				if _, err := m.Verify(tok); err != nil {
					t.Error(err)
					return
				}
				_ = m.JWKS()
			}
		})
	}
	for i := range 200 {
		signing, other := a, b
		if i%2 == 1 {
			signing, other = b, a
		}
		if err := m.SetKeys(signing, other); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}
