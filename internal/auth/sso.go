package auth

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/rbac"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// Single sign-on accounts. internal/sso checks what an identity provider says (the OIDC ID
// token, the SAML assertion) and hands the result to LoginExternal, which turns it into an
// account and a session exactly like a password login's.
//
// An SSO sign-in never asks for a local second factor: the identity provider authenticated the
// person, with its own multi-factor policy. Nor does it count against the password throttle.

// SSOOptions are the account rules of SSO sign-ins.
type SSOOptions struct {
	// DefaultRole is SSO_DEFAULT_ROLE, the global role of an account made by a first SSO sign-in
	// when no role rule matches its groups. Empty means viewer.
	DefaultRole gatehouse.Role
	// Rules is SSO_ROLE_MAPPING.
	Rules []config.RoleRule
}

// ExternalLogin is a sign-in an identity provider vouched for.
type ExternalLogin struct {
	// Provider is "oidc:<name>" or "saml".
	Provider string
	// Subject is the provider's stable id for the person (OIDC sub, SAML NameID).
	Subject string
	// Email is the address the provider asserts; EmailVerified whether it vouches for it.
	Email         string
	EmailVerified bool
	// LinkByEmail says that the operator trusts the provider's addresses enough to link a first
	// sign-in to the existing account with the (verified) address: the provider's trust_email
	// option for OIDC, SAML_EMAIL_VERIFIED for SAML. Without it such a sign-in is refused (an
	// administrator links the identity instead); an address no account has may still create one.
	LinkByEmail bool
	// Groups are the person's groups at the provider, for SSO_ROLE_MAPPING.
	Groups   []string
	Remember bool
	Client   Client
}

// errSSORefused is the answer when an identity may not sign in, whatever the reason (which is
// audited): an inactive account, an identity that may not be linked.
var errSSORefused = gatehouse.Errorf(gatehouse.EForbidden, "this sign-in cannot be completed; ask an administrator").WithReason("sso_refused")

// errSSOUnverified refuses a first sign-in without a verified email, whether or not an account
// has the address: creating one would let the identity squat an address it may not own, and
// linking would hand it someone else's account.
var errSSOUnverified = gatehouse.Errorf(gatehouse.EForbidden,
	"your identity provider did not confirm an email address for you, so no account can be set up; ask an administrator").WithReason("sso_email_unverified")

// providerKey is the provider's name as SSO_ROLE_MAPPING rules write it: "saml", or the OIDC
// provider's name without the "oidc:" prefix.
func providerKey(provider string) string { return strings.TrimPrefix(provider, "oidc:") }

// LoginExternal signs in the person an identity provider vouched for and opens a session like
// Login. The account is the one the provider's subject is linked to; at the first sign-in it is
// the account with the same, verified email address when the provider is trusted to link by
// address and the account is no admin's (linked from then on, see linkOrCreate), or a new
// SSO-only account created just in time with SSO_DEFAULT_ROLE. Roles and team memberships then follow
// SSO_ROLE_MAPPING. The reasons for a refusal are audited, not shown.
func (s *Service) LoginExternal(ctx context.Context, in ExternalLogin) (*TokenPair, error) {
	switch {
	case in.Provider == "":
		return nil, gatehouse.FieldError("provider", "is required")
	case in.Subject == "":
		return nil, gatehouse.FieldError("subject", "is required")
	}
	email := ""
	if in.Email != "" {
		if e, err := ValidateEmail("email", in.Email); err == nil {
			email = e
		} else {
			s.log.Warn("SSO: the identity provider's email address is not valid; ignored", "provider", in.Provider)
		}
	}
	refuse := func(u *gatehouse.User, err error, detail string) (*TokenPair, error) {
		ev := gatehouse.AuditEvent{Event: gatehouse.AuditLoginFailure, Email: email, Detail: "sso " + in.Provider + ": " + detail}
		if u != nil {
			ev.SubjectID = idPtr(u.ID)
		}
		s.audit(ctx, ev, in.Client)
		return nil, err
	}

	u, ident, err := s.store.IdentityUser(ctx, in.Provider, in.Subject)
	created := false
	switch {
	case err == nil:
		if err := s.store.TouchIdentity(ctx, ident.ID, email); err != nil {
			return nil, err
		}
	case gatehouse.ErrorCode(err) != gatehouse.ENotFound:
		return nil, err
	case email == "":
		return refuse(nil, errSSOUnverified, "no email address asserted for an unlinked identity")
	case !in.EmailVerified:
		return refuse(nil, errSSOUnverified, "email address not verified for an unlinked identity")
	default:
		var why string
		u, created, why, err = s.linkOrCreate(ctx, in, email)
		if why != "" {
			return refuse(u, err, why)
		}
		if err != nil {
			return nil, err
		}
	}
	if !u.Active {
		return refuse(u, errSSORefused, "account inactive")
	}

	if u, err = s.syncAccess(ctx, u, in, created); err != nil {
		return nil, err
	}
	if s.opts.Confirmable && !s.opts.LoginWithoutConfirmation && u.ConfirmedAt == nil {
		return refuse(u, gatehouse.Errorf(gatehouse.EForbidden, "confirm your email address first; check your inbox for the link").WithReason("confirmation_required"),
			"email address not confirmed")
	}
	scopes, err := s.allowedScopes(ctx, u)
	if err != nil {
		return nil, err
	}
	if s.opts.Trackable {
		if err := s.store.RecordLogin(ctx, u.ID, in.Client.IP); err != nil {
			return nil, err
		}
	}
	pair, err := s.openSession(ctx, u, scopes, in.Remember, in.Client)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginSuccess, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email,
		Detail: "sso " + in.Provider}, in.Client)
	return pair, nil
}

// linkOrCreate handles the first sign-in of an identity with a verified address: it links the
// identity to the account with that address, or creates an SSO-only account for it. The link is
// refused (why says why, for the audit trail; err is the answer) when the account is inactive
// (errSSORefused), when the provider is not trusted to link by address (in.LinkByEmail), or when
// the account holds the global admin role: the highest-value account is linked only by an
// administrator (AdminLinkIdentity). Both of these answer errSSOUnverified.
//
// Linking an account that was never confirmed takes away whatever its registrant set (see
// store.LinkOutcome.Secured): the address was never proven, so the registrant may be someone
// who signed up with the victim's address before the victim's first SSO sign-in.
func (s *Service) linkOrCreate(ctx context.Context, in ExternalLogin, email string) (u *gatehouse.User, created bool, why string, err error) {
	subject := fmt.Sprintf("identity %s subject %q", in.Provider, in.Subject)
	// check decides whether the account may be linked; the store runs it again inside the
	// linking transaction. refused keeps its answer: domain errors come back from the store
	// wrapped.
	var refused error
	check := func(existing *gatehouse.User) error {
		refused, why = nil, ""
		switch {
		case !existing.Active:
			why, refused = "the account with this email address is inactive; not linked", errSSORefused
		case !in.LinkByEmail:
			why, refused = "an account has this email address, and the provider is not trusted to link by email address (trust_email / SAML_EMAIL_VERIFIED); not linked; an administrator can link "+subject, errSSOUnverified
		case slices.Contains(existing.Roles, gatehouse.RoleAdmin):
			why, refused = "the account with this email address holds the admin role, which is never linked automatically; an administrator can link "+subject, errSSOUnverified
		}
		return refused
	}
	for attempt := 0; ; attempt++ {
		existing, err := s.store.UserByEmail(ctx, email)
		switch {
		case err == nil:
			if err := check(existing); err != nil {
				return existing, false, why, err
			}
			id := &store.Identity{UserID: existing.ID, Provider: in.Provider, Subject: in.Subject, Email: email}
			var out store.LinkOutcome
			out, err = s.store.LinkIdentity(ctx, id, store.LinkOptions{Check: check, NewStamp: store.NewSecurityStamp(),
				Audit: func(o store.LinkOutcome) []gatehouse.AuditEvent {
					return s.linkAudit(o, nil, "provider "+in.Provider+"; linked by its verified email address at the first sign-in", in.Client)
				}})
			switch {
			case err != nil && refused != nil:
				return existing, false, why, refused
			case err == nil:
				if out.Secured {
					s.log.Warn("SSO: linked an account that was never confirmed; its password, factors, sessions and API keys were removed",
						"user_id", existing.ID, "provider", in.Provider)
				}
				return out.User, false, "", nil
			}
		case gatehouse.ErrorCode(err) == gatehouse.ENotFound:
			now := s.now()
			roles, _ := s.opts.SSO.access(in.Provider, in.Groups)
			u := &gatehouse.User{Email: email, Active: true, SSOOnly: true, ConfirmedAt: &now, Roles: []gatehouse.Role{s.opts.SSO.defaultRole()}}
			if roles != nil {
				u.Roles = *roles
			}
			id := &store.Identity{Provider: in.Provider, Subject: in.Subject, Email: email}
			err = s.store.CreateExternalUser(ctx, u, id)
			if err == nil {
				s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditUserCreated, SubjectID: idPtr(u.ID), Email: u.Email,
					Detail: "just in time by SSO provider " + in.Provider + "; SSO-only; roles: " + gatehouse.FormatRoles(u.Roles)}, in.Client)
				return u, true, "", nil
			}
		}
		// A conflict is another sign-in of the same person (or an account made with the same
		// address) that won a race: look again, once.
		if gatehouse.ErrorCode(err) != gatehouse.EConflict || attempt > 0 {
			return nil, false, "", err
		}
		if u, _, lerr := s.store.IdentityUser(ctx, in.Provider, in.Subject); lerr == nil {
			return u, false, "", nil
		}
	}
}

// linkAudit returns the audit events of a link: sso_identity_linked, and before it
// sso_link_unconfirmed_password_removed when the account had never been confirmed.
func (s *Service) linkAudit(o store.LinkOutcome, actor *int64, detail string, c Client) []gatehouse.AuditEvent {
	var evs []gatehouse.AuditEvent
	ev := func(event, detail string) {
		evs = append(evs, gatehouse.AuditEvent{Event: event, SubjectID: idPtr(o.User.ID), ActorID: actor, Email: o.User.Email,
			Detail: detail, IP: c.IP, UserAgent: c.UserAgent})
	}
	if o.Secured {
		removed := "no password was set"
		if o.HadPassword {
			removed = "password removed"
		}
		ev(gatehouse.AuditSSOLinkSecured, fmt.Sprintf("the account had never been confirmed: %s; second factors and pending one-time tokens removed; every session ended; %d API keys revoked (%s)",
			removed, o.APIKeysRevoked, detail))
	}
	ev(gatehouse.AuditSSOLinked, detail)
	return evs
}

// syncAccess applies SSO_ROLE_MAPPING to the user's roles and teams, audits what changed, and
// returns the user as it is now.
func (s *Service) syncAccess(ctx context.Context, u *gatehouse.User, in ExternalLogin, created bool) (*gatehouse.User, error) {
	roles, teams := s.opts.SSO.access(in.Provider, in.Groups)
	if created {
		roles = nil // set when the account was made
	}
	if roles == nil && len(teams) == 0 {
		return u, nil
	}
	ch, err := s.store.SyncExternalAccess(ctx, u.ID, store.ExternalAccess{Roles: roles, Teams: teams})
	if err != nil {
		return nil, err
	}
	why := " (SSO_ROLE_MAPPING, sign-in through " + in.Provider + ")"
	if b, a := gatehouse.FormatRoles(ch.RolesBefore), gatehouse.FormatRoles(ch.RolesAfter); b != a {
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditRoleChange, SubjectID: idPtr(u.ID), Email: u.Email, Detail: "roles: " + b + " -> " + a + why}, in.Client)
	}
	if ch.KeptAdmin {
		s.log.Warn("SSO: the groups would take the admin role from the last active admin; kept", "user_id", u.ID, "provider", in.Provider)
	}
	for _, id := range slices.Sorted(maps.Keys(ch.Teams)) {
		c := ch.Teams[id]
		ev := gatehouse.AuditMemberChanged
		if c[1] == "" {
			ev = gatehouse.AuditMemberRemoved
		}
		s.audit(ctx, gatehouse.AuditEvent{Event: ev, SubjectID: idPtr(u.ID), Email: u.Email,
			Detail: fmt.Sprintf("team %d: %s -> %s%s", id, teamRoleOrNone(c[0]), teamRoleOrNone(c[1]), why)}, in.Client)
	}
	for _, skipped := range ch.Skipped {
		s.log.Warn("SSO: a team rule of SSO_ROLE_MAPPING was not applied", "user_id", u.ID, "provider", in.Provider, "reason", skipped)
	}
	return s.store.UserByID(ctx, u.ID)
}

func teamRoleOrNone(r gatehouse.TeamRole) string {
	if r == "" {
		return "(none)"
	}
	return string(r)
}

func (o SSOOptions) defaultRole() gatehouse.Role {
	if o.DefaultRole.Valid() {
		return o.DefaultRole
	}
	return gatehouse.RoleViewer
}

// access evaluates the rules for a sign-in through provider by a member of groups (compared
// case-insensitively). roles is nil when no role rule concerns the provider: the account's
// roles are then left alone; otherwise it is the roles of the matching rules, or the default
// role when none matches. teams names every team a rule for the provider concerns, with the
// strongest matching role, or "" (not a member) when none matches.
func (o SSOOptions) access(provider string, groups []string) (roles *[]gatehouse.Role, teams []store.TeamGrant) {
	key := providerKey(provider)
	member := func(g string) bool {
		return slices.ContainsFunc(groups, func(have string) bool { return strings.EqualFold(have, g) })
	}
	type teamKey struct {
		id   int64
		name string
	}
	best := map[teamKey]gatehouse.TeamRole{}
	var order []teamKey
	var matched []gatehouse.Role
	roleRules := false
	for _, r := range o.Rules {
		if r.Provider != "" && r.Provider != key {
			continue
		}
		if r.IsTeam() {
			k := teamKey{r.TeamID, r.TeamName}
			if _, seen := best[k]; !seen {
				best[k] = ""
				order = append(order, k)
			}
			if member(r.Group) {
				best[k] = rbac.StrongerTeamRole(best[k], r.TeamRole) // the strongest of several matching rules
			}
			continue
		}
		roleRules = true
		if member(r.Group) && !slices.Contains(matched, r.Role) {
			matched = append(matched, r.Role)
		}
	}
	if roleRules {
		if len(matched) == 0 {
			matched = []gatehouse.Role{o.defaultRole()}
		}
		roles = &matched
	}
	for _, k := range order {
		teams = append(teams, store.TeamGrant{TeamID: k.id, TeamName: k.name, Role: best[k]})
	}
	return roles, teams
}

// AuditSSOFailure records a refused SSO sign-in that never reached LoginExternal: a bad or
// expired state, an invalid token or assertion, an identity provider error.
func (s *Service) AuditSSOFailure(ctx context.Context, provider, detail string, c Client) {
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginFailure, Detail: "sso " + provider + ": " + detail}, c)
}

// SSOAccount is a user's SSO state as administrators see it.
type SSOAccount struct {
	SSOOnly    bool
	Identities []gatehouse.Identity
}

// AdminSSOAccount returns the SSO state of user id.
func (s *Service) AdminSSOAccount(ctx context.Context, p *gatehouse.Principal, id int64) (*SSOAccount, error) {
	if err := rbac.Decide(p, rbac.ActUsersRead, ""); err != nil {
		return nil, err
	}
	return s.ssoAccount(ctx, id)
}

// ssoAccount is AdminSSOAccount for callers that have decided already (a change answers with
// the state after it, under its own decision).
func (s *Service) ssoAccount(ctx context.Context, id int64) (*SSOAccount, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	ids, err := s.store.Identities(ctx, id)
	if err != nil {
		return nil, err
	}
	return &SSOAccount{SSOOnly: u.SSOOnly, Identities: ids}, nil
}

// AdminSetSSOOnly marks user id SSO-only (password login refused) or lifts the mark.
func (s *Service) AdminSetSSOOnly(ctx context.Context, p *gatehouse.Principal, id int64, on bool, c Client) (*SSOAccount, error) {
	if err := rbac.Decide(p, rbac.ActUsersUpdate, ""); err != nil {
		return nil, err
	}
	before, err := s.store.SetSSOOnly(ctx, id, on)
	if err != nil {
		return nil, err
	}
	if before.SSOOnly != on {
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditUserUpdated, SubjectID: idPtr(id), ActorID: idPtr(p.User.ID), Email: before.Email,
			Detail: fmt.Sprintf("sso_only: %t -> %t", before.SSOOnly, on)}, c)
	}
	return s.ssoAccount(ctx, id)
}

// AdminUnlinkIdentity removes one linked identity of user id: the provider's subject then signs
// in as if for the first time (linked again by a verified email, or a new account).
func (s *Service) AdminUnlinkIdentity(ctx context.Context, p *gatehouse.Principal, userID, identityID int64, c Client) error {
	if err := rbac.Decide(p, rbac.ActUsersUpdate, ""); err != nil {
		return err
	}
	id, err := s.store.UnlinkIdentity(ctx, userID, identityID)
	if err != nil {
		return err
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditSSOUnlinked, SubjectID: idPtr(userID), ActorID: idPtr(p.User.ID), Email: id.Email,
		Detail: "provider " + id.Provider}, c)
	return nil
}
