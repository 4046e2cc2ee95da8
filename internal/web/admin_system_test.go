package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
)

// The system page: version, database and migrations, license, single sign-on, signing keys and
// the configuration in force, with no secret on it; for admins only.
func TestAdminSystem(t *testing.T) {
	env := map[string]string{"DB_TYPE": "sqlite", "SMTP_PASS": "smtp-secret-value", "BRAND_NAME": "Acme <Identity>"}
	s := startSite(t, siteOptions{config: func(c *config.Config) {
		c.Settings = config.Effective(func(k string) string { return env[k] })
	}})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	s.createUser("bob@example.com", strongPassword, gatehouse.RoleMaintainer)
	nb := s.browser()
	nb.login("bob@example.com", strongPassword, "/profile")
	nb.expect(nb.get("/admin/system"), http.StatusNotFound, "")

	b := s.browser()
	b.login("root@example.com", strongPassword, "/profile")
	page := b.expect(b.get("/admin/system"), http.StatusOK, "").body
	for _, want := range []string{"<dd>sqlite</dd>", "Migrations (gatehouse)", "<code>SMTP_PASS</code>", "(set)", "<code>DB_TYPE</code>",
		"Acme &lt;Identity&gt;", "No identity provider is configured.", `id="signing-keys"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("system page without %q:\n%s", want, excerpt(page))
		}
	}
	if strings.Contains(page, "smtp-secret-value") || strings.Contains(page, "admin123") {
		t.Fatal("the system page shows a secret")
	}
	if strings.Contains(page, "pending</strong>") {
		t.Fatalf("migrations pending on a migrated database:\n%s", excerpt(page))
	}
}

// Rotating the signing key from the system page: after a fresh sign-in, a new key is published
// (next) and the event names the admin; not for anyone else.
func TestAdminRotateKey(t *testing.T) {
	s := startSite(t, siteOptions{config: func(c *config.Config) { c.Security.Freshness = 15 * time.Minute }})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	s.createUser("bob@example.com", strongPassword, gatehouse.RoleMaintainer)
	nb := s.browser()
	nb.login("bob@example.com", strongPassword, "/profile")
	nb.expect(nb.post("/admin/system/keys/rotate", nil), http.StatusNotFound, "")

	b := s.browser()
	b.login("root@example.com", strongPassword, "/profile")
	before := strings.Count(b.get("/admin/system").body, `<span class="badge">EdDSA</span>`)
	b.expect(b.post("/admin/system/keys/rotate", nil), http.StatusSeeOther, "/admin/system#keys")
	page := b.get("/admin/system").body
	if !strings.Contains(page, "is published now and signs from") || strings.Count(page, `<span class="badge">EdDSA</span>`) != before+1 ||
		!strings.Contains(page, `<span class="badge">next</span>`) {
		t.Fatalf("after rotating (%d keys before):\n%s", before, excerpt(page))
	}
	if evs, _, err := s.app.Store.ListAuditPage(context.Background(), gatehouse.AuditQuery{Event: gatehouse.AuditSigningKeyAdded, Limit: 5}); err != nil ||
		len(evs) != 1 || evs[0].ActorID == nil {
		t.Fatalf("signing_key_added events: %+v, %v", evs, err)
	}
	s.clock.Advance(20 * time.Minute)
	b.expect(b.post("/admin/system/keys/rotate", nil), http.StatusSeeOther, "/verify?next=%2Fadmin%2Fsystem")
}
