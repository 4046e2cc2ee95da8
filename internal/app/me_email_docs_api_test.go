package app_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// PATCH /api/v1/me refuses email and points at the email-change flow, and docs/users.md says
// the same thing (it said the flow did not exist, while POST /api/v1/me/email did): the field
// message and the docs name the same endpoint, and the endpoint answers (202 with SMTP).
func TestMeEmailPointsToTheChangeFlow(t *testing.T) {
	b, err := os.ReadFile("../../docs/users.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "## Your own account: `PATCH /api/v1/me`")
	j := strings.Index(doc[i+1:], "\n## ")
	section := doc[i : i+1+j]
	if !strings.Contains(section, "`POST /api/v1/me/email`") || strings.Contains(section, "does not exist") {
		t.Errorf("docs/users.md's PATCH /api/v1/me section should send email changes to POST /api/v1/me/email:\n%s", section)
	}
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		e.createUser("ann@example.com", strongPassword, "maintainer")
		tk := e.login("ann@example.com", strongPassword).AccessToken
		r := e.do("PATCH", "/api/v1/me", tk, map[string]any{"email": "new@example.com"})
		e.expect(r, http.StatusBadRequest, "invalid")
		if msg := r.Body.Error.Fields["email"]; !strings.Contains(msg, "POST /api/v1/me/email") {
			t.Errorf("PATCH /api/v1/me email message %q should name POST /api/v1/me/email", msg)
		}
		r = e.do("POST", "/api/v1/me/email", tk, map[string]any{"new_email": "new@example.com", "password": strongPassword})
		e.expect(r, http.StatusAccepted, "")
	})
}
