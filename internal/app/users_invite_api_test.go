package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// An administrator creates an account by invitation: no password, a mail with a link to the
// reset page, which sets the password and confirms the address; the link works once. Bad
// combinations name their field and create nothing; without mail there is no invitation.
func TestCreateUserByInvitation(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		e.createUser("root@example.com", strongPassword, "admin")
		root := e.login("root@example.com", strongPassword).AccessToken

		for name, body := range map[string]map[string]any{
			"password":             {"email": "bad@example.com", "invite": true, "password": strongPassword},
			"must_change_password": {"email": "bad@example.com", "invite": true, "must_change_password": true},
		} {
			r := e.do("POST", "/api/v1/users", root, body)
			e.expect(r, http.StatusBadRequest, "invalid")
			if r.Body.Error.Fields[name] == "" {
				t.Errorf("%s not named: %s", name, r.Raw)
			}
		}
		e.expect(e.do("GET", "/api/v1/users?email=bad@", root, nil), http.StatusOK, "")
		if r := e.do("GET", "/api/v1/users?email=bad@", root, nil); string(r.Body.Data) != "[]" {
			t.Fatalf("a refused invitation made an account: %s", r.Body.Data)
		}

		r := e.do("POST", "/api/v1/users", root, map[string]any{"email": "new@example.com", "invite": true, "roles": []string{"maintainer"}})
		e.expect(r, http.StatusCreated, "")
		var u struct {
			PasswordSet bool    `json:"password_set"`
			ConfirmedAt *string `json:"confirmed_at"`
		}
		r.data(t, &u)
		if u.PasswordSet || u.ConfirmedAt != nil {
			t.Fatalf("invited account: %s", r.Body.Data)
		}
		e.expect(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "new@example.com", "password": ""}), http.StatusBadRequest, "invalid")

		path, tok, msg := e.mailedToken("new@example.com")
		if path != "/reset-password" || !strings.Contains(msg.Subject, "account") {
			t.Fatalf("invitation mail: %s %q", path, msg.Subject)
		}
		reset := func() *response {
			return e.do("POST", "/api/v1/auth/password/reset", "", map[string]string{"token": tok, "new_password": strongPassword2})
		}
		e.expect(reset(), http.StatusOK, "")
		e.expect(reset(), http.StatusBadRequest, "invalid") // once
		tk := e.login("new@example.com", strongPassword2)
		me := e.do("GET", "/api/v1/me", tk.AccessToken, nil)
		var m struct {
			ConfirmedAt *string  `json:"confirmed_at"`
			Roles       []string `json:"roles"`
		}
		me.data(t, &m)
		if m.ConfirmedAt == nil || len(m.Roles) != 1 || m.Roles[0] != "maintainer" {
			t.Fatalf("after choosing the password: %s", me.Body.Data)
		}
	})
}

// Without outgoing mail there is no invitation: 403 feature_disabled, and no account.
func TestCreateUserByInvitationNeedsMail(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		e.createUser("root@example.com", strongPassword, "admin")
		root := e.login("root@example.com", strongPassword).AccessToken
		r := e.do("POST", "/api/v1/users", root, map[string]any{"email": "new@example.com", "invite": true})
		e.expect(r, http.StatusForbidden, "feature_disabled")
		if r := e.do("GET", "/api/v1/users?email=new@", root, nil); string(r.Body.Data) != "[]" {
			t.Fatalf("a refused invitation made an account: %s", r.Body.Data)
		}
	})
}
