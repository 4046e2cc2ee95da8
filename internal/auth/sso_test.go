package auth

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/testclock"
	"github.com/gatehousehq/gatehouse/internal/testdb"
	"github.com/gatehousehq/gatehouse/internal/token"
)

// newSSOService is a Service with a token manager on a fresh database, with the SSO rules given.
func newSSOService(t *testing.T, db config.DB, sso SSOOptions) (*Service, *store.Store, *testclock.Clock) {
	t.Helper()
	ctx := context.Background()
	clk := testclock.New(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	st, err := store.Open(ctx, db, store.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	key, err := token.GenerateKey(token.AlgEdDSA, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	tm, err := token.NewManager(token.Options{Issuer: "https://gatehouse.test", Audience: "gatehouse", Now: clk.Now}, key)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{AccessTTL: 15 * time.Minute, RefreshMaxAge: 24 * time.Hour, RefreshMaxIdle: time.Hour, Trackable: true, SSO: sso}
	return New(st, testHasher(), tm, nil, opts, nil, clk.Now), st, clk
}

func mustRules(t *testing.T, v string) []config.RoleRule {
	t.Helper()
	r, err := config.ParseRoleMapping(v)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func auditDetails(t *testing.T, st *store.Store, userID int64, event string) []string {
	t.Helper()
	evs, err := st.AuditEvents(context.Background(), userID, event, 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Detail)
	}
	return out
}

func TestLoginExternalJustInTime(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s, st, _ := newSSOService(t, db, SSOOptions{DefaultRole: gatehouse.RoleMaintainer})
		c := Client{IP: "192.0.2.7", UserAgent: "test"}
		in := ExternalLogin{Provider: "oidc:corp", Subject: "sub-1", Email: "New.User@Example.com", EmailVerified: true, Client: c}
		pair, err := s.LoginExternal(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if pair.AccessToken == "" || pair.RefreshToken == "" || pair.SessionID == "" || pair.Scope != "read write" || pair.TwoFactor != nil {
			t.Fatalf("pair = %+v", pair)
		}
		u, err := st.UserByEmail(ctx, "new.user@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if !u.SSOOnly || !u.Active || u.ConfirmedAt == nil || u.PasswordHash != "" || !slices.Equal(u.Roles, []gatehouse.Role{gatehouse.RoleMaintainer}) || u.LoginCount != 1 {
			t.Fatalf("user = %+v", u)
		}
		// The tokens are real: they authenticate, in the session they name.
		p, err := s.Authenticate(ctx, pair.AccessToken)
		if err != nil || p.User.ID != u.ID || p.SessionID != pair.SessionID {
			t.Fatalf("Authenticate = %+v, %v", p, err)
		}
		if d := auditDetails(t, st, u.ID, gatehouse.AuditUserCreated); len(d) != 1 || !strings.Contains(d[0], "just in time") {
			t.Fatalf("user_created audit = %q", d)
		}
		if d := auditDetails(t, st, u.ID, gatehouse.AuditLoginSuccess); len(d) != 1 || d[0] != "sso oidc:corp" {
			t.Fatalf("login_success audit = %q", d)
		}

		// The second sign-in finds the same account by its subject, even with another address.
		in.Email, in.EmailVerified = "renamed@example.com", false
		if _, err := s.LoginExternal(ctx, in); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.CountUsers(ctx); n != 1 {
			t.Fatalf("%d users after the second sign-in", n)
		}
		ids, _ := st.Identities(ctx, u.ID)
		if len(ids) != 1 || ids[0].Email != "renamed@example.com" {
			t.Fatalf("identities = %+v", ids)
		}

		// The SSO-only account cannot log in with a password, even after setting one by reset:
		// the same answer as a wrong password.
		if err := st.SetPassword(ctx, u.ID, store.PasswordUpdate{Hash: mustHash(t, "correct horse battery staple"), Scheme: SchemeBcryptHMAC}); err != nil {
			t.Fatal(err)
		}
		_, err = s.Login(ctx, LoginInput{Email: u.Email, Password: "correct horse battery staple", Client: c})
		if gatehouse.ErrorMessage(err) != gatehouse.ErrorMessage(errInvalidCredentials) || gatehouse.ErrorCode(err) != gatehouse.EUnauthenticated {
			t.Fatalf("password login of an SSO-only account: %v", err)
		}
		if d := auditDetails(t, st, u.ID, gatehouse.AuditLoginFailure); len(d) != 1 || !strings.Contains(d[0], "only through SSO") {
			t.Fatalf("login_failure audit = %q", d)
		}
		// Lifting the flag lets the password work.
		admin := &gatehouse.Principal{User: &gatehouse.User{ID: u.ID, Roles: []gatehouse.Role{gatehouse.RoleAdmin}}, Scopes: gatehouse.AllScopes}
		if acct, err := s.AdminSetSSOOnly(ctx, admin, u.ID, false, c); err != nil || acct.SSOOnly || len(acct.Identities) != 1 {
			t.Fatalf("AdminSetSSOOnly = %+v, %v", acct, err)
		}
		if _, err := s.Login(ctx, LoginInput{Email: u.Email, Password: "correct horse battery staple", Client: c}); err != nil {
			t.Fatalf("password login after the flag was lifted: %v", err)
		}
		viewer := &gatehouse.Principal{User: &gatehouse.User{ID: 42, Roles: []gatehouse.Role{gatehouse.RoleViewer}}, Scopes: gatehouse.AllScopes}
		if _, err := s.AdminSetSSOOnly(ctx, viewer, u.ID, true, c); gatehouse.ErrorCode(err) != gatehouse.EForbidden {
			t.Fatalf("a viewer set the flag: %v", err)
		}
	})
}

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	h, _, err := testHasher().Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestLoginExternalLinking(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		s, st, _ := newSSOService(t, db, SSOOptions{})
		c := Client{IP: "192.0.2.8"}
		confirmedAt := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		local := &gatehouse.User{Email: "alice@example.com", Active: true, Roles: []gatehouse.Role{gatehouse.RoleMaintainer},
			PasswordHash: mustHash(t, "alice's own password"), PasswordScheme: SchemeBcryptHMAC, ConfirmedAt: &confirmedAt}
		if err := st.CreateUser(ctx, local); err != nil {
			t.Fatal(err)
		}

		// An unverified address never links (nor creates): the same answer whether or not an
		// account has the address.
		for _, email := range []string{"alice@example.com", "nobody@example.com", ""} {
			_, err := s.LoginExternal(ctx, ExternalLogin{Provider: "saml", Subject: "alice-" + email, Email: email, Client: c})
			if gatehouse.ErrorCode(err) != gatehouse.EForbidden || !strings.Contains(gatehouse.ErrorMessage(err), "did not confirm an email") {
				t.Fatalf("unverified %q: %v", email, err)
			}
		}
		if n, _ := st.CountUsers(ctx); n != 1 {
			t.Fatalf("%d users after refused sign-ins", n)
		}
		if ids, _ := st.Identities(ctx, local.ID); len(ids) != 0 {
			t.Fatalf("linked by an unverified address: %+v", ids)
		}

		// A verified address from a provider not trusted to link (LinkByEmail off) does not link
		// either: the same answer again.
		_, err := s.LoginExternal(ctx, ExternalLogin{Provider: "saml", Subject: "alice-nameid", Email: "alice@example.com", EmailVerified: true, Client: c})
		if gatehouse.ErrorCode(err) != gatehouse.EForbidden || !strings.Contains(gatehouse.ErrorMessage(err), "did not confirm an email") {
			t.Fatalf("untrusted provider: %v", err)
		}
		if ids, _ := st.Identities(ctx, local.ID); len(ids) != 0 {
			t.Fatalf("linked by an untrusted provider: %+v", ids)
		}

		// A verified address of a trusted provider matching an account links to it
		// (case-insensitively); the (confirmed) account keeps its roles, its password and its
		// confirmation time, and stays a password account.
		pair, err := s.LoginExternal(ctx, ExternalLogin{Provider: "saml", Subject: "alice-nameid", Email: "ALICE@example.com", EmailVerified: true, LinkByEmail: true, Client: c})
		if err != nil {
			t.Fatal(err)
		}
		if pair.Scope != "read write" {
			t.Fatalf("scope = %q", pair.Scope)
		}
		u, _ := st.UserByID(ctx, local.ID)
		if u.SSOOnly || u.ConfirmedAt == nil || !u.ConfirmedAt.Equal(confirmedAt) || !slices.Equal(u.Roles, []gatehouse.Role{gatehouse.RoleMaintainer}) || u.PasswordHash != local.PasswordHash {
			t.Fatalf("linked user = %+v", u)
		}
		if _, err := s.Login(ctx, LoginInput{Email: "alice@example.com", Password: "alice's own password", Client: c}); err != nil {
			t.Fatalf("the confirmed account's password after the link: %v", err)
		}
		if d := auditDetails(t, st, local.ID, gatehouse.AuditSSOLinkSecured); len(d) != 0 {
			t.Fatalf("a confirmed account was secured: %q", d)
		}
		if d := auditDetails(t, st, local.ID, gatehouse.AuditSSOLinked); len(d) != 1 || !strings.Contains(d[0], "saml") {
			t.Fatalf("sso_identity_linked audit = %q", d)
		}

		// Inactive accounts are refused, linked or not, and are not linked.
		bob := &gatehouse.User{Email: "bob@example.com", Active: false}
		if err := st.CreateUser(ctx, bob); err != nil {
			t.Fatal(err)
		}
		_, err = s.LoginExternal(ctx, ExternalLogin{Provider: "oidc:corp", Subject: "bob", Email: "bob@example.com", EmailVerified: true, LinkByEmail: true, Client: c})
		if gatehouse.ErrorCode(err) != gatehouse.EForbidden {
			t.Fatalf("inactive: %v", err)
		}
		if ids, _ := st.Identities(ctx, bob.ID); len(ids) != 0 {
			t.Fatalf("an inactive account was linked: %+v", ids)
		}
		if err := st.SetActive(ctx, local.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LoginExternal(ctx, ExternalLogin{Provider: "saml", Subject: "alice-nameid", Client: c}); gatehouse.ErrorCode(err) != gatehouse.EForbidden {
			t.Fatalf("deactivated linked account: %v", err)
		}
		// Newest first: this refusal, then the untrusted provider's (which names the subject an
		// administrator could link).
		if d := auditDetails(t, st, local.ID, gatehouse.AuditLoginFailure); len(d) != 2 || !strings.Contains(d[0], "inactive") ||
			!strings.Contains(d[1], "not trusted to link") || !strings.Contains(d[1], `subject "alice-nameid"`) {
			t.Fatalf("login_failure audit = %q", d)
		}

		// Bad input names the field.
		for _, in := range []ExternalLogin{{Subject: "x"}, {Provider: "saml"}} {
			if _, err := s.LoginExternal(ctx, in); gatehouse.ErrorCode(err) != gatehouse.EInvalid || len(gatehouse.ErrorFields(err)) != 1 {
				t.Errorf("%+v: %v", in, err)
			}
		}

		// An administrator unlinks: the subject then signs in as new (linked again by email).
		admin := &gatehouse.Principal{User: &gatehouse.User{ID: 99, Roles: []gatehouse.Role{gatehouse.RoleAdmin}}, Scopes: gatehouse.AllScopes}
		acct, err := s.AdminSSOAccount(ctx, admin, local.ID)
		if err != nil || len(acct.Identities) != 1 {
			t.Fatalf("AdminSSOAccount = %+v, %v", acct, err)
		}
		if err := s.AdminUnlinkIdentity(ctx, admin, local.ID, acct.Identities[0].ID, c); err != nil {
			t.Fatal(err)
		}
		if err := s.AdminUnlinkIdentity(ctx, admin, local.ID, acct.Identities[0].ID, c); gatehouse.ErrorCode(err) != gatehouse.ENotFound {
			t.Fatalf("second unlink: %v", err)
		}
	})
}

func TestLoginExternalRoleMapping(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, db config.DB) {
		ctx := context.Background()
		rules := mustRules(t, "admins=admin; staff=maintainer; [corp]devs=team:Engineering:member; [corp]leads=team:Engineering:admin; [saml]ops=team:Ops:viewer")
		s, st, _ := newSSOService(t, db, SSOOptions{DefaultRole: gatehouse.RoleViewer, Rules: rules})
		owner := &gatehouse.User{Email: "owner@example.com", Active: true, Roles: []gatehouse.Role{gatehouse.RoleAdmin}}
		if err := st.CreateUser(ctx, owner); err != nil {
			t.Fatal(err)
		}
		eng, ops := &gatehouse.Team{Name: "Engineering"}, &gatehouse.Team{Name: "Ops"}
		for _, tm := range []*gatehouse.Team{eng, ops} {
			if err := st.CreateTeam(ctx, tm, owner.ID); err != nil {
				t.Fatal(err)
			}
		}
		in := ExternalLogin{Provider: "oidc:corp", Subject: "carol", Email: "carol@example.com", EmailVerified: true,
			Groups: []string{"STAFF", "devs", "leads", "ops"}}
		if _, err := s.LoginExternal(ctx, in); err != nil {
			t.Fatal(err)
		}
		u, _ := st.UserByEmail(ctx, "carol@example.com")
		if !slices.Equal(u.Roles, []gatehouse.Role{gatehouse.RoleMaintainer}) {
			t.Fatalf("roles = %v", u.Roles)
		}
		// The strongest matching team rule wins; a rule for another provider does not apply.
		if r, _ := st.TeamRole(ctx, eng.ID, u.ID); r != gatehouse.TeamAdmin {
			t.Fatalf("engineering role = %q", r)
		}
		if r, _ := st.TeamRole(ctx, ops.ID, u.ID); r != "" {
			t.Fatalf("ops role = %q", r)
		}

		// Groups change at the provider: the next sign-in follows them.
		in.Groups = []string{"admins", "devs"}
		if _, err := s.LoginExternal(ctx, in); err != nil {
			t.Fatal(err)
		}
		u, _ = st.UserByID(ctx, u.ID)
		if !slices.Equal(u.Roles, []gatehouse.Role{gatehouse.RoleAdmin}) {
			t.Fatalf("roles = %v", u.Roles)
		}
		if r, _ := st.TeamRole(ctx, eng.ID, u.ID); r != gatehouse.TeamMember {
			t.Fatalf("engineering role = %q", r)
		}
		if d := auditDetails(t, st, u.ID, gatehouse.AuditRoleChange); len(d) != 1 || !strings.Contains(d[0], "maintainer -> admin") {
			t.Fatalf("role_change audit = %q", d)
		}
		// No matching group: the default role, and out of the mapped team.
		in.Groups = nil
		if _, err := s.LoginExternal(ctx, in); err != nil {
			t.Fatal(err)
		}
		u, _ = st.UserByID(ctx, u.ID)
		if !slices.Equal(u.Roles, []gatehouse.Role{gatehouse.RoleViewer}) {
			t.Fatalf("roles = %v", u.Roles)
		}
		if r, _ := st.TeamRole(ctx, eng.ID, u.ID); r != "" {
			t.Fatalf("still in engineering as %q", r)
		}
		if d := auditDetails(t, st, u.ID, gatehouse.AuditMemberRemoved); len(d) != 1 {
			t.Fatalf("member_removed audit = %q", d)
		}

		// SAML sign-ins see the [saml] rule and the provider-wide ones.
		if _, err := s.LoginExternal(ctx, ExternalLogin{Provider: "saml", Subject: "dave", Email: "dave@example.com", EmailVerified: true, Groups: []string{"ops", "devs"}}); err != nil {
			t.Fatal(err)
		}
		dave, _ := st.UserByEmail(ctx, "dave@example.com")
		if r, _ := st.TeamRole(ctx, ops.ID, dave.ID); r != gatehouse.TeamViewer {
			t.Fatalf("dave in ops = %q", r)
		}
		if r, _ := st.TeamRole(ctx, eng.ID, dave.ID); r != "" {
			t.Fatalf("dave in engineering = %q", r)
		}
		if !slices.Equal(dave.Roles, []gatehouse.Role{gatehouse.RoleViewer}) {
			t.Fatalf("dave's roles = %v", dave.Roles)
		}

		// The last active admin, linked to the IdP (by an administrator: an admin account is
		// never linked by its address), keeps the admin role whatever the groups say.
		if _, err := st.SyncExternalAccess(ctx, u.ID, store.ExternalAccess{Roles: &[]gatehouse.Role{gatehouse.RoleViewer}}); err != nil {
			t.Fatal(err)
		}
		admin := &gatehouse.Principal{User: owner, Scopes: gatehouse.AllScopes}
		if _, err := s.AdminLinkIdentity(ctx, admin, owner.ID, IdentityLink{Provider: "oidc:corp", Subject: "owner", Configured: true}, Client{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LoginExternal(ctx, ExternalLogin{Provider: "oidc:corp", Subject: "owner", Email: "owner@example.com", EmailVerified: true}); err != nil {
			t.Fatal(err)
		}
		o, _ := st.UserByID(ctx, owner.ID)
		if !o.HasRole(gatehouse.RoleAdmin) {
			t.Fatalf("the last admin lost the role: %v", o.Roles)
		}
	})
}

func TestSSOAccessRules(t *testing.T) {
	o := SSOOptions{Rules: mustRules(t, "[corp]a=admin;t=team:5:viewer;u=team:5:owner")}
	// No role rule for saml: roles untouched; team rules for every provider.
	roles, teams := o.access("saml", []string{"a", "t"})
	if roles != nil || len(teams) != 1 || teams[0] != (store.TeamGrant{TeamID: 5, Role: gatehouse.TeamViewer}) {
		t.Fatalf("saml: %v %+v", roles, teams)
	}
	roles, teams = o.access("oidc:corp", []string{"A", "u", "t"})
	if roles == nil || !slices.Equal(*roles, []gatehouse.Role{gatehouse.RoleAdmin}) || teams[0].Role != gatehouse.TeamOwner {
		t.Fatalf("corp: %v %+v", roles, teams)
	}
	roles, teams = o.access("oidc:corp", nil)
	if roles == nil || !slices.Equal(*roles, []gatehouse.Role{gatehouse.RoleViewer}) || teams[0].Role != "" {
		t.Fatalf("corp without groups: %v %+v", roles, teams)
	}
}
