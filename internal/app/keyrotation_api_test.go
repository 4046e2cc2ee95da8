package app_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehousehq/gatehouse/internal/apidoc/apidoctest"
	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testclock"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// startOn boots one more instance on cfg's database with a shared clock (several instances
// behind a load balancer share the database and, near enough, the time).
func startOn(t *testing.T, cfg *config.Config, clock *testclock.Clock) *env {
	t.Helper()
	e := &env{t: t, clock: clock}
	a, err := app.New(context.Background(), cfg, app.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.app = a
	e.srv = httptest.NewServer(apidoctest.Handler(t, a.Handler(), apidoctest.FromServer(a)))
	t.Cleanup(func() {
		e.srv.Close()
		_ = a.Close()
	})
	return e
}

// jwksVerifier is a relying party as docs/authentication.md describes it, but strict: it fetches
// the JWKS, keeps it for the Cache-Control max-age, and does NOT fetch again on an unknown kid.
// A token it cannot verify therefore proves that a key signed before it was published long
// enough.
type jwksVerifier struct {
	t       *testing.T
	url     string
	clock   *testclock.Clock
	keys    map[string]ed25519.PublicKey
	expires time.Time
	fetches int
}

var maxAgeRE = regexp.MustCompile(`max-age=(\d+)`)

func (v *jwksVerifier) refresh() {
	v.t.Helper()
	if v.keys != nil && v.clock.Now().Before(v.expires) {
		return
	}
	resp, err := http.Get(v.url + "/.well-known/jwks.json")
	if err != nil {
		v.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	m := maxAgeRE.FindStringSubmatch(resp.Header.Get("Cache-Control"))
	if m == nil {
		v.t.Fatalf("JWKS Cache-Control %q has no max-age", resp.Header.Get("Cache-Control"))
	}
	secs, _ := strconv.Atoi(m[1])
	var set struct {
		Keys []struct{ Kid, Kty, Crv, X string } `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		v.t.Fatal(err)
	}
	v.keys = map[string]ed25519.PublicKey{}
	for _, k := range set.Keys {
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || k.Crv != "Ed25519" {
			v.t.Fatalf("JWK %s: %v %s", k.Kid, err, k.Crv)
		}
		v.keys[k.Kid] = ed25519.PublicKey(x)
	}
	v.expires = v.clock.Now().Add(time.Duration(secs) * time.Second)
	v.fetches++
}

func (v *jwksVerifier) verify(tok string) error {
	v.refresh()
	_, err := jwt.Parse(tok, func(tk *jwt.Token) (any, error) {
		kid, _ := tk.Header["kid"].(string)
		k, ok := v.keys[kid]
		if !ok {
			return nil, fmt.Errorf("kid %s is not in the cached JWKS", kid)
		}
		return k, nil
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithTimeFunc(v.clock.Now))
	return err
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	tk, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := tk.Header["kid"].(string)
	return kid
}

func jwksKIDs(t *testing.T, e *env) map[string]bool {
	t.Helper()
	r := e.do("GET", "/.well-known/jwks.json", "", nil)
	var set struct{ Keys []struct{ Kid string } }
	if err := json.Unmarshal(r.Raw, &set); err != nil {
		t.Fatal(err)
	}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		kids[k.Kid] = true
	}
	return kids
}

// TestKeyRotationAcrossInstances rotates the signing key the way `gatehouse keys rotate` does on
// two instances sharing one database, with a relying party that caches the JWKS: the new key is
// published everywhere before any instance signs with it, the old key verifies until its tokens
// have expired and is retired only then, and an instance that has not reloaded yet accepts a
// token signed by a key it does not know by reloading at once.
func TestKeyRotationAcrossInstances(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		clock := testclock.New(time.Now().UTC().Truncate(time.Second))
		cfg := testConfig(db)
		a := startOn(t, cfg, clock)
		b := startOn(t, cfg, clock)
		a.createUser("rot@example.com", "correct horse battery", "viewer")
		reload := func() {
			t.Helper()
			for _, e := range []*env{a, b} {
				if err := e.app.ReloadKeys(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		login := func(e *env) string {
			t.Helper()
			return e.login("rot@example.com", "correct horse battery").AccessToken
		}
		me := func(e *env, tok string) int { t.Helper(); return e.do("GET", "/api/v1/me", tok, nil).Status }

		rp := &jwksVerifier{t: t, url: b.srv.URL, clock: clock}
		t1 := login(a)
		k1 := kidOf(t, t1)
		if kidOf(t, login(b)) != k1 {
			t.Fatal("the two instances sign with different keys")
		}
		if err := rp.verify(t1); err != nil {
			t.Fatal(err)
		}

		// Rotate: the key is published by both instances at their next reload, not used yet.
		k2, err := a.app.RotateKey(ctx, "", 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(app.KeyReloadInterval)
		reload()
		for _, e := range []*env{a, b} {
			if kids := jwksKIDs(t, e); !kids[k1] || !kids[k2.ID] {
				t.Fatalf("JWKS after rotate = %v, want %s and %s", kids, k1, k2.ID)
			}
			if kid := kidOf(t, login(e)); kid != k1 {
				t.Fatalf("signed with %s before the activation time, want %s", kid, k1)
			}
		}
		if err := a.app.RetireKey(ctx, k1, false); err == nil {
			t.Fatal("retiring the signing key was accepted")
		}

		// The relying party's cache expires and it learns the new key from instance A.
		clock.Advance(6 * time.Minute)
		rp.url = a.srv.URL
		if err := rp.verify(t1); err != nil {
			t.Fatal(err)
		}
		fetched := rp.fetches

		// Past the activation time, every instance signs with the new key after its reload, and
		// the relying party verifies those tokens from its cache.
		clock.Set(k2.ActivatesAt.Add(time.Second))
		reload()
		for _, e := range []*env{a, b} {
			tok := login(e)
			if kid := kidOf(t, tok); kid != k2.ID {
				t.Fatalf("signs with %s after the activation time, want %s", kid, k2.ID)
			}
			if err := rp.verify(tok); err != nil {
				t.Fatalf("relying party with a cached JWKS: %v", err)
			}
			// A token of the old key still works on both instances.
			if got := me(e, t1); got != http.StatusOK {
				t.Fatalf("old-key token after the switch: %d", got)
			}
		}
		if rp.fetches != fetched {
			t.Fatalf("the relying party fetched the JWKS again (%d times); it should not have needed to", rp.fetches)
		}

		// The old key may not be retired while its tokens live, then may.
		if err := b.app.RetireKey(ctx, k1, false); err == nil {
			t.Fatal("retire accepted while tokens of the key may be valid")
		}
		clock.Advance(cfg.JWT.AccessTTL + time.Minute + time.Second)
		if err := b.app.RetireKey(ctx, k1, false); err != nil {
			t.Fatal(err)
		}
		reload()
		for _, e := range []*env{a, b} {
			if kids := jwksKIDs(t, e); kids[k1] || !kids[k2.ID] {
				t.Fatalf("JWKS after retire = %v, want only %s", kids, k2.ID)
			}
		}

		// Emergency rotation on A only: B has not reloaded, so a token signed by the new key
		// names a kid B does not know; B reloads on that miss and accepts it.
		k3, err := a.app.RotateKey(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.app.ReloadKeys(ctx); err != nil {
			t.Fatal(err)
		}
		t3 := login(a)
		if kidOf(t, t3) != k3.ID {
			t.Fatalf("emergency rotation: signs with %s, want %s", kidOf(t, t3), k3.ID)
		}
		if got := me(b, t3); got != http.StatusOK {
			t.Fatalf("instance B with a token of a key it had not loaded: %d", got)
		}
		if kid := kidOf(t, login(b)); kid != k3.ID {
			t.Fatalf("B signs with %s after the reload on miss, want %s", kid, k3.ID)
		}
		// A made-up kid is refused (the reloads such misses cause are rate-limited: reloadOnMiss).
		forged := forgeKID(t, t3)
		for range 3 {
			if got := me(b, forged); got != http.StatusUnauthorized {
				t.Fatalf("token with an unknown kid: %d", got)
			}
		}
	})
}

// forgeKID returns tok with its header's kid replaced (the signature no longer matters: the
// kid is looked up first).
func forgeKID(t *testing.T, tok string) string {
	t.Helper()
	tk, parts, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil || len(parts) != 3 {
		t.Fatal(err, errors.New("bad token"))
	}
	tk.Header["kid"] = "no-such-key"
	h, err := json.Marshal(tk.Header)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1] + "." + parts[2]
}
