package app_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehousehq/gatehouse/client"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/testdb"
)

// The end-to-end tests of accounts, teams and API keys through the public Go client (package
// client), on every engine: what a Go program using Gatehouse sees, typed.

// goClient is a client of the test server with no credential.
func (e *env) goClient() *client.Client {
	c := client.New(e.srv.URL)
	c.HTTPClient = e.srv.Client()
	return c
}

// must fails the test when the call that it wraps, must(t)(call()), returns an error, and
// returns the call's value otherwise.
func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// wantCode fails unless err is a *client.Error with the status and code.
func wantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	e, ok := errors.AsType[*client.Error](err)
	if !ok || e.Status != status || e.Code != code {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
	if e.RequestID == "" || e.Message == "" {
		t.Fatalf("error without request id or message: %#v", e)
	}
}

func TestClientAccounts(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		cfg := testConfig(db)
		cfg.Security.Registerable = true
		e := start(t, cfg, true)
		ctx := context.Background()
		anon := e.goClient()

		// Registration, refused input with its fields, confirmation by the mailed token.
		_, err := anon.Register(ctx, client.RegisterRequest{Email: "not an address", Password: strongPassword})
		wantCode(t, err, http.StatusBadRequest, "invalid")
		if ce, _ := errors.AsType[*client.Error](err); ce.Fields["email"] == "" {
			t.Fatalf("no email field error: %#v", ce)
		}
		if m := must[*client.Message](t)(anon.Register(ctx, client.RegisterRequest{Email: "ana@example.com", Password: strongPassword})); m.Message == "" {
			t.Fatal("registration answered no message")
		}
		_, err = anon.Login(ctx, client.LoginRequest{Email: "ana@example.com", Password: strongPassword})
		wantCode(t, err, http.StatusForbidden, "confirmation_required")
		_, tok, _ := e.mailedToken("ana@example.com")
		must[*client.Message](t)(anon.Confirm(ctx, tok))
		_, err = anon.Confirm(ctx, tok)
		wantCode(t, err, http.StatusBadRequest, "invalid")

		// Sign-in, the account, refresh (the old refresh token is spent), password change.
		res := must[*client.LoginResult](t)(anon.Login(ctx, client.LoginRequest{Email: "ana@example.com", Password: strongPassword}))
		if res.TwoFactor != nil || res.Tokens == nil || res.Tokens.TokenType != "Bearer" || res.Tokens.ExpiresIn <= 0 || res.Tokens.Scope != "read" {
			t.Fatalf("login: %+v", res.Tokens)
		}
		ana := anon.WithToken(res.Tokens.AccessToken)
		me := must[*client.Account](t)(ana.Me(ctx))
		if me.Email != "ana@example.com" || me.ID <= 0 || me.ConfirmedAt == nil || !slices.Equal(me.Roles, []string{"viewer"}) || !me.PasswordSet {
			t.Fatalf("me: %+v", me)
		}
		_, err = anon.Me(ctx)
		wantCode(t, err, http.StatusUnauthorized, "unauthenticated")
		pair := must[*client.Tokens](t)(anon.Refresh(ctx, res.Tokens.RefreshToken))
		if pair.AccessToken == "" || pair.RefreshToken == res.Tokens.RefreshToken {
			t.Fatalf("refresh: %+v", pair)
		}
		ana = anon.WithToken(pair.AccessToken)
		_, err = ana.ChangePassword(ctx, "wrong password", strongPassword2)
		wantCode(t, err, http.StatusBadRequest, "invalid")
		if ce, _ := errors.AsType[*client.Error](err); ce.Fields["current_password"] == "" {
			t.Fatalf("no current_password field error: %#v", ce)
		}
		changed := must[*client.Tokens](t)(ana.ChangePassword(ctx, strongPassword, strongPassword2))
		_, err = ana.Me(ctx) // the change ended every other token, this one included
		wantCode(t, err, http.StatusUnauthorized, "unauthenticated")
		ana = anon.WithToken(changed.AccessToken)
		must[*client.Account](t)(ana.Me(ctx))

		// Logout by the bearer's session: its tokens stop working.
		if err := ana.Logout(ctx, ""); err != nil {
			t.Fatal(err)
		}
		_, err = ana.Me(ctx)
		wantCode(t, err, http.StatusUnauthorized, "unauthenticated")
		_, err = anon.Refresh(ctx, changed.RefreshToken)
		wantCode(t, err, http.StatusUnauthorized, "unauthenticated")

		// With an authenticator app the sign-in answers the challenge, and the second step the
		// tokens.
		e.createUser("ben@example.com", strongPassword, "maintainer")
		ben := anon.WithToken(e.login("ben@example.com", strongPassword).AccessToken)
		secret, _ := e.enrolTOTPWith(ben)
		res = must[*client.LoginResult](t)(anon.Login(ctx, client.LoginRequest{Email: "ben@example.com", Password: strongPassword}))
		if res.Tokens != nil || res.TwoFactor == nil || res.TwoFactor.Challenge == "" || !slices.Contains(res.TwoFactor.Methods, "totp") ||
			!res.TwoFactor.ExpiresAt.After(e.clock.Now()) {
			t.Fatalf("login with a second factor: %+v", res)
		}
		e.clock.Advance(30 * time.Second)
		_, err = anon.LoginTwoFactor(ctx, client.TwoFactorRequest{Challenge: res.TwoFactor.Challenge, Method: "totp", Code: "000000"})
		wantCode(t, err, http.StatusUnauthorized, "unauthenticated")
		code := must[string](t)(totp.GenerateCode(secret, e.clock.Now()))
		step := must[*client.LoginResult](t)(anon.LoginTwoFactor(ctx, client.TwoFactorRequest{Challenge: res.TwoFactor.Challenge, Method: "totp", Code: code}))
		if step.Tokens == nil || step.Tokens.AccessToken == "" {
			t.Fatalf("second step: %+v", step)
		}
		if err := anon.WithToken(step.Tokens.AccessToken).LogoutAll(ctx); err != nil {
			t.Fatal(err)
		}
		_, err = ben.Me(ctx)
		wantCode(t, err, http.StatusUnauthorized, "unauthenticated")
	})
}

// enrolTOTPWith sets up an authenticator app through the raw API for the client's account.
func (e *env) enrolTOTPWith(c *client.Client) (secret string, codes []string) {
	e.t.Helper()
	tok, err := c.Tokens.Token(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	r := e.do("POST", "/api/v1/me/2fa/totp", tok, nil)
	e.expect(r, http.StatusOK, "")
	var en enrolment
	r.data(e.t, &en)
	code, err := totp.GenerateCode(en.Secret, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	r = e.do("POST", "/api/v1/me/2fa/totp/confirm", tok, map[string]string{"code": code})
	e.expect(r, http.StatusOK, "")
	var rc struct {
		Codes []string `json:"codes"`
	}
	r.data(e.t, &rc)
	return en.Secret, rc.Codes
}

func TestClientTeamsAndAPIKeys(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), true)
		ctx := context.Background()
		for _, u := range []struct{ email, role string }{
			{"owner@example.com", "maintainer"}, {"member@example.com", "maintainer"}, {"invitee@example.com", "viewer"},
		} {
			e.createUser(u.email, strongPassword, u.role)
		}
		anon := e.goClient()
		signIn := func(email string) *client.Client {
			return anon.WithToken(e.login(email, strongPassword).AccessToken)
		}
		owner, member, invitee := signIn("owner@example.com"), signIn("member@example.com"), signIn("invitee@example.com")

		// Create, read, update under If-Match, list with a cursor.
		_, err := invitee.CreateTeam(ctx, client.TeamInput{Name: "nope"}) // a viewer
		wantCode(t, err, http.StatusForbidden, "forbidden")
		_, err = owner.CreateTeam(ctx, client.TeamInput{Name: ""})
		wantCode(t, err, http.StatusBadRequest, "invalid")
		team := must[*client.Team](t)(owner.CreateTeam(ctx, client.TeamInput{Name: "Platform", Description: "the platform team"}))
		if team.ID <= 0 || team.Role != "owner" || team.ETag == "" || team.Description != "the platform team" {
			t.Fatalf("created team: %+v", team)
		}
		got := must[*client.Team](t)(owner.Team(ctx, team.ID))
		if got.ETag != team.ETag || got.Name != "Platform" {
			t.Fatalf("team read back: %+v", got)
		}
		desc := "renamed"
		updated := must[*client.Team](t)(owner.UpdateTeam(ctx, team.ID, client.TeamPatch{Description: &desc}, client.IfMatch(got.ETag)))
		if updated.Description != "renamed" || updated.ETag == got.ETag {
			t.Fatalf("updated team: %+v", updated)
		}
		_, err = owner.UpdateTeam(ctx, team.ID, client.TeamPatch{Description: &desc}, client.IfMatch(got.ETag))
		wantCode(t, err, http.StatusPreconditionFailed, "precondition_failed")
		for _, name := range []string{"Two", "Three"} {
			must[*client.Team](t)(owner.CreateTeam(ctx, client.TeamInput{Name: name}))
		}
		first := must[*client.Page[client.Team]](t)(owner.ListTeams(ctx, client.ListOptions{Limit: 2}))
		if len(first.Items) != 2 || first.Limit != 2 || first.NextCursor == "" || first.Items[0].ID != team.ID {
			t.Fatalf("first page: %+v", first)
		}
		var names []string
		for tm, err := range client.All(ctx, client.ListOptions{Limit: 2}, owner.ListTeams) {
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, tm.Name)
		}
		if strings.Join(names, ",") != "Platform,Two,Three" {
			t.Fatalf("every team: %v", names)
		}

		// Members: add, change the role, list, the last owner stays, remove.
		memberID := client.ID(e.userID("member@example.com"))
		m, created := must2[*client.Member, bool](t)(owner.SetMember(ctx, team.ID, memberID, "viewer"))
		if !created || m.UserID != memberID || m.Role != "viewer" || m.Email != "member@example.com" || m.ETag == "" {
			t.Fatalf("added member: %+v %v", m, created)
		}
		m, created = must2[*client.Member, bool](t)(owner.SetMember(ctx, team.ID, memberID, "admin", client.IfMatch(m.ETag)))
		if created || m.Role != "admin" {
			t.Fatalf("role change: %+v %v", m, created)
		}
		_, _, err = owner.SetMember(ctx, team.ID, memberID, "maintainer")
		wantCode(t, err, http.StatusBadRequest, "invalid")
		if got := must[*client.Member](t)(member.Member(ctx, team.ID, memberID)); got.ETag != m.ETag {
			t.Fatalf("member read back: %+v", got)
		}
		members := must[*client.Page[client.Member]](t)(member.Members(ctx, team.ID, client.ListOptions{}))
		if len(members.Items) != 2 || members.NextCursor != "" {
			t.Fatalf("members: %+v", members)
		}
		ownerID := client.ID(e.userID("owner@example.com"))
		wantCode(t, owner.RemoveMember(ctx, team.ID, ownerID), http.StatusConflict, "last_owner")

		// Invitations: create (mailed), list, accept with the mailed code, revoke another.
		inv := must[*client.Invitation](t)(member.CreateInvitation(ctx, team.ID, client.InvitationInput{Email: "invitee@example.com", Role: "member"}))
		if inv.ID <= 0 || inv.TeamID != team.ID || inv.Status != "pending" || inv.InvitedBy == nil || *inv.InvitedBy != memberID || inv.ETag == "" {
			t.Fatalf("invitation: %+v", inv)
		}
		_, err = member.CreateInvitation(ctx, team.ID, client.InvitationInput{Email: "invitee@example.com", Role: "member"})
		wantCode(t, err, http.StatusConflict, "already_invited")
		pending := must[*client.Page[client.Invitation]](t)(member.Invitations(ctx, team.ID, client.ListOptions{}))
		if len(pending.Items) != 1 || pending.Items[0].ID != inv.ID {
			t.Fatalf("pending: %+v", pending)
		}
		msg := e.smtp.WaitFor(t, "invitee@example.com", 20*time.Second)
		code := invitationCode.FindStringSubmatch(msg.Text)
		if code == nil {
			t.Fatalf("no code in the invitation:\n%s", msg.Text)
		}
		joined := must[*client.Team](t)(invitee.AcceptInvitation(ctx, code[1]))
		if joined.ID != team.ID || joined.Role != "member" {
			t.Fatalf("accepted: %+v", joined)
		}
		if got := must[*client.Invitation](t)(owner.Invitation(ctx, team.ID, inv.ID)); got.Status != "accepted" {
			t.Fatalf("accepted invitation: %+v", got)
		}
		other := must[*client.Invitation](t)(owner.CreateInvitation(ctx, team.ID, client.InvitationInput{Email: "later@example.com", Role: "viewer"}))
		revoked := must[*client.Invitation](t)(owner.RevokeInvitation(ctx, team.ID, other.ID, client.IfMatch(other.ETag)))
		if revoked.Status != "revoked" {
			t.Fatalf("revoked: %+v", revoked)
		}
		_, err = owner.RevokeInvitation(ctx, team.ID, other.ID)
		wantCode(t, err, http.StatusNotFound, "not_found")

		// Leaving, removing, deleting.
		if err := invitee.LeaveTeam(ctx, team.ID); err != nil {
			t.Fatal(err)
		}
		if err := owner.RemoveMember(ctx, team.ID, memberID); err != nil {
			t.Fatal(err)
		}
		_, err = member.Team(ctx, team.ID)
		wantCode(t, err, http.StatusNotFound, "not_found")
		wantCode(t, owner.DeleteTeam(ctx, team.ID, client.IfMatch(team.ETag)), http.StatusPreconditionFailed, "precondition_failed")
		if err := owner.DeleteTeam(ctx, team.ID); err != nil {
			t.Fatal(err)
		}

		// API keys: create (the secret once), use it as the bearer, list, revoke.
		exp := e.clock.Now().Add(48 * time.Hour)
		key := must[*client.NewAPIKey](t)(owner.CreateAPIKey(ctx, client.APIKeyInput{Name: "deploy", Scopes: []string{"read"}, ExpiresAt: &exp}))
		if key.Secret == "" || key.ID <= 0 || key.Status != "active" || !strings.HasPrefix(key.Secret, key.Prefix) || key.ExpiresAt == nil || key.ParentKeyID != nil {
			t.Fatalf("created key: %+v", key)
		}
		script := anon.WithToken(key.Secret)
		if me := must[*client.Account](t)(script.Me(ctx)); me.Email != "owner@example.com" || !slices.Equal(me.Scopes, []string{"read"}) {
			t.Fatalf("me by the key: %+v", me)
		}
		_, err = script.CreateTeam(ctx, client.TeamInput{Name: "by key"})
		wantCode(t, err, http.StatusForbidden, "insufficient_scope")
		second := must[*client.NewAPIKey](t)(owner.CreateAPIKey(ctx, client.APIKeyInput{Name: "second", Scopes: []string{"read", "write"}}))
		_, err = anon.WithToken(second.Secret).CreateAPIKey(ctx, client.APIKeyInput{Name: "child", Scopes: []string{"read"}})
		wantCode(t, err, http.StatusForbidden, "session_required")
		keys := must[*client.Page[client.APIKey]](t)(owner.APIKeys(ctx, client.ListOptions{Limit: 1}))
		if len(keys.Items) != 1 || keys.NextCursor == "" {
			t.Fatalf("keys page: %+v", keys)
		}
		var all []string
		for k, err := range client.All(ctx, client.ListOptions{Limit: 1}, owner.APIKeys) {
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, k.Name)
		}
		slices.Sort(all)
		if strings.Join(all, ",") != "deploy,second" {
			t.Fatalf("every key: %v", all)
		}
		if err := owner.RevokeAPIKey(ctx, key.ID); err != nil {
			t.Fatal(err)
		}
		_, err = script.Me(ctx)
		wantCode(t, err, http.StatusUnauthorized, "unauthenticated")
		wantCode(t, owner.RevokeAPIKey(ctx, 987654321), http.StatusNotFound, "not_found")
	})
}

// must2 is must for the calls that return two values besides the error.
func must2[A, B any](t *testing.T) func(A, B, error) (A, B) {
	return func(a A, b B, err error) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

// The same client speaks API v2, where identifiers are strings: a short flow at /api/v2, whose
// ids must be the ones v1 shows. Skipped while the server has no v2.
func TestClientV2(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		e := start(t, testConfig(db), false)
		if r := e.do("GET", "/api/v2/health", "", nil); r.Status != http.StatusOK {
			t.Skipf("the server does not answer /api/v2 (GET /api/v2/health: %d)", r.Status)
		}
		ctx := context.Background()
		e.createUser("owner@example.com", strongPassword, "maintainer")
		e.createUser("member@example.com", strongPassword, "viewer")
		v2 := e.goClient().WithVersion(2)
		res := must[*client.LoginResult](t)(v2.Login(ctx, client.LoginRequest{Email: "owner@example.com", Password: strongPassword}))
		owner := v2.WithToken(res.Tokens.AccessToken)
		v1 := owner.WithVersion(1)
		if me, me1 := must[*client.Account](t)(owner.Me(ctx)), must[*client.Account](t)(v1.Me(ctx)); me.ID != me1.ID || me.ID != client.ID(e.userID("owner@example.com")) {
			t.Fatalf("me in v2 %d, in v1 %d", me.ID, me1.ID)
		}
		team := must[*client.Team](t)(owner.CreateTeam(ctx, client.TeamInput{Name: "Platform"}))
		if got := must[*client.Team](t)(v1.Team(ctx, team.ID)); got.Name != "Platform" {
			t.Fatalf("v2's team %d read in v1: %+v", team.ID, got)
		}
		memberID := client.ID(e.userID("member@example.com"))
		if m, created := must2[*client.Member, bool](t)(owner.SetMember(ctx, team.ID, memberID, "viewer")); !created || m.UserID != memberID {
			t.Fatalf("member in v2: %+v", m)
		}
		page := must[*client.Page[client.Member]](t)(owner.Members(ctx, team.ID, client.ListOptions{Limit: 1}))
		if len(page.Items) != 1 || page.NextCursor == "" || page.Limit != 1 {
			t.Fatalf("members page in v2: %+v", page)
		}
		key := must[*client.NewAPIKey](t)(owner.CreateAPIKey(ctx, client.APIKeyInput{Name: "deploy", Scopes: []string{"read"}}))
		keys := must[*client.Page[client.APIKey]](t)(owner.APIKeys(ctx, client.ListOptions{}))
		if len(keys.Items) != 1 || keys.Items[0].ID != key.ID {
			t.Fatalf("keys in v2: %+v", keys)
		}
		if err := owner.RevokeAPIKey(ctx, key.ID); err != nil {
			t.Fatal(err)
		}
		_, err := owner.Team(ctx, 987654321)
		wantCode(t, err, http.StatusNotFound, "not_found")
	})
}
