package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

// Identity is an account's link to an identity provider (the domain's gatehouse.Identity).
type Identity = gatehouse.Identity

type identityRow struct {
	bun.BaseModel `bun:"table:user_identities,alias:ui"`

	ID          int64      `bun:"id,pk,autoincrement"`
	UserID      int64      `bun:"user_id"`
	Provider    string     `bun:"provider"`
	Subject     string     `bun:"subject"`
	Email       string     `bun:"email"`
	CreatedAt   time.Time  `bun:"created_at"`
	LastLoginAt *time.Time `bun:"last_login_at"`
}

func (r *identityRow) toDomain() *Identity {
	return &Identity{
		ID: r.ID, UserID: r.UserID, Provider: r.Provider, Subject: r.Subject, Email: r.Email,
		CreatedAt: utc(r.CreatedAt), LastLoginAt: utcPtr(r.LastLoginAt),
	}
}

// Column limits of user_identities.
const (
	maxProviderLen = 100
	maxSubjectLen  = 255
)

func validateIdentity(id *Identity) error {
	switch {
	case strings.TrimSpace(id.Provider) == "" || len(id.Provider) > maxProviderLen:
		return gatehouse.FieldError("provider", fmt.Sprintf("must be 1 to %d characters", maxProviderLen))
	case id.Subject == "" || len(id.Subject) > maxSubjectLen:
		return gatehouse.FieldError("subject", fmt.Sprintf("must be 1 to %d bytes", maxSubjectLen))
	case len(id.Email) > 320:
		return gatehouse.FieldError("email", "must be at most 320 characters")
	}
	return nil
}

// errIdentityTaken is the conflict of linking a subject that is linked already.
var errIdentityTaken = gatehouse.Errorf(gatehouse.EConflict, "this identity is linked to an account already").WithReason("identity_taken")

// IdentityUser returns the account the provider's subject is linked to, with the link; ENotFound
// when the subject is linked to no account.
func (s *Store) IdentityUser(ctx context.Context, provider, subject string) (u *gatehouse.User, id *Identity, err error) {
	defer wrapErr(&err, "store.IdentityUser(%q)", provider)
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(identityRow)
		if err := tx.NewSelect().Model(row).Where("provider = ? AND subject = ?", provider, subject).Scan(ctx); err != nil {
			return notFound(err, "identity not linked")
		}
		id = row.toDomain()
		u, err = s.userWhere(ctx, tx, "id = ?", row.UserID)
		return err
	})
	return u, id, err
}

// CreateExternalUser creates u and links id to it in one transaction, so that an account made
// just in time never exists without the identity that made it. A taken email or an identity
// linked already is EConflict (the second with reason identity_taken): two first sign-ins of
// one person racing each other, or an address that belongs to another account.
func (s *Store) CreateExternalUser(ctx context.Context, u *gatehouse.User, id *Identity) (err error) {
	defer wrapErr(&err, "store.CreateExternalUser(%q)", id.Provider)
	if err := validateIdentity(id); err != nil {
		return err
	}
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.createUser(ctx, tx, u); err != nil {
			return err
		}
		id.UserID = u.ID
		return s.insertIdentity(ctx, tx, id)
	})
}

func (s *Store) insertIdentity(ctx context.Context, tx bun.Tx, id *Identity) error {
	now := utc(s.now())
	row := &identityRow{UserID: id.UserID, Provider: id.Provider, Subject: id.Subject, Email: id.Email, CreatedAt: now, LastLoginAt: &now}
	if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
		if s.dialect.IsUniqueViolation(err) {
			return errIdentityTaken
		}
		return err
	}
	id.ID, id.CreatedAt, id.LastLoginAt = row.ID, now, &now
	return nil
}

// TouchIdentity records a sign-in through the identity: its time and the email the provider
// asserted this time.
func (s *Store) TouchIdentity(ctx context.Context, identityID int64, email string) (err error) {
	defer wrapErr(&err, "store.TouchIdentity(%d)", identityID)
	if len(email) > 320 {
		email = ""
	}
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*identityRow)(nil)).Set("last_login_at = ?", now).Set("email = ?", email).
			Where("id = ?", identityID).Exec(ctx)
		if err != nil {
			return err
		}
		return mustAffect(res, "identity not found")
	})
}

// Identities lists the identities linked to the user, oldest first.
func (s *Store) Identities(ctx context.Context, userID int64) (out []Identity, err error) {
	defer wrapErr(&err, "store.Identities(%d)", userID)
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []identityRow
		if err := tx.NewSelect().Model(&rows).Where("user_id = ?", userID).OrderExpr("id").Scan(ctx); err != nil {
			return err
		}
		out = make([]Identity, len(rows))
		for i := range rows {
			out[i] = *rows[i].toDomain()
		}
		return nil
	})
	return out, err
}

// UnlinkIdentity removes one identity of the user; ENotFound when the user has none with this id.
func (s *Store) UnlinkIdentity(ctx context.Context, userID, identityID int64) (id *Identity, err error) {
	defer wrapErr(&err, "store.UnlinkIdentity(user=%d, %d)", userID, identityID)
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(identityRow)
		if err := tx.NewSelect().Model(row).Where("id = ? AND user_id = ?", identityID, userID).Scan(ctx); err != nil {
			return notFound(err, "identity not found")
		}
		if _, err := tx.NewDelete().Model((*identityRow)(nil)).Where("id = ?", identityID).Exec(ctx); err != nil {
			return err
		}
		id = row.toDomain()
		return nil
	})
	return id, err
}

// SetSSOOnly sets the user's SSO-only flag and returns the user before the change.
func (s *Store) SetSSOOnly(ctx context.Context, userID int64, on bool) (before *gatehouse.User, err error) {
	defer wrapErr(&err, "store.SetSSOOnly(%d, %v)", userID, on)
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err := s.userWhere(ctx, tx, "id = ?", userID)
		if err != nil {
			return err
		}
		before = u
		if u.SSOOnly == on {
			return nil
		}
		_, err = tx.NewUpdate().Model((*userRow)(nil)).Set("sso_only = ?", on).Set("updated_at = ?", now).
			Where("id = ?", userID).Exec(ctx)
		return err
	})
	return before, err
}

// TeamGrant is a team membership an identity provider's groups call for.
type TeamGrant struct {
	// TeamID names the team; when it is 0, TeamName does (exactly, and only when one team has the
	// name).
	TeamID   int64
	TeamName string
	Role     gatehouse.TeamRole // "" removes the user from the team
}

// ExternalAccess is what an SSO sign-in says about a user's access.
type ExternalAccess struct {
	// Roles, when non-nil, replaces the user's global roles. The last active admin keeps the
	// admin role whatever it says.
	Roles *[]gatehouse.Role
	// Teams sets the user's role in each team named (adding, changing or, with an empty Role,
	// removing the membership). The last owner of a team stays its owner.
	Teams []TeamGrant
}

// AccessChanges reports what SyncExternalAccess changed, and what it kept on purpose.
type AccessChanges struct {
	RolesBefore, RolesAfter []gatehouse.Role
	// KeptAdmin is set when the roles would have removed the last active admin.
	KeptAdmin bool
	// Teams lists the memberships changed: team id -> [before, after] ("" for none).
	Teams map[int64][2]gatehouse.TeamRole
	// Skipped names the team grants that could not be applied (unknown or ambiguous team, the
	// last owner), with why.
	Skipped []string
}

// SyncExternalAccess applies a. The roles change in one transaction with the last-admin check;
// each team changes in a transaction of its own with the last-owner check, like ChangeMember, so
// that one refused team does not undo the rest.
func (s *Store) SyncExternalAccess(ctx context.Context, userID int64, a ExternalAccess) (ch AccessChanges, err error) {
	defer wrapErr(&err, "store.SyncExternalAccess(%d)", userID)
	ch.Teams = map[int64][2]gatehouse.TeamRole{}
	if a.Roles != nil {
		want := dedupeRoles(*a.Roles)
		if err := validateRoles(want); err != nil {
			return ch, err
		}
		now := utc(s.now())
		err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			ch.KeptAdmin = false
			if !slices.Contains(want, gatehouse.RoleAdmin) {
				// Might demote an admin: serialise with every other such change (see guardAdmins).
				if err := guardAdmins(ctx, tx); err != nil {
					return err
				}
			}
			cur, err := s.userWhere(ctx, tx, "id = ?", userID)
			if err != nil {
				return err
			}
			roles := slices.Clone(want)
			if isActiveAdmin(cur) && !slices.Contains(roles, gatehouse.RoleAdmin) {
				n, err := otherActiveAdmins(ctx, tx, userID)
				if err != nil {
					return err
				}
				if n == 0 {
					roles = dedupeRoles(append(roles, gatehouse.RoleAdmin))
					ch.KeptAdmin = true
				}
			}
			ch.RolesBefore, ch.RolesAfter = cur.Roles, cur.Roles
			if sameRoles(roles, cur.Roles) {
				return nil
			}
			if err := s.setRoles(ctx, tx, userID, roles); err != nil {
				return err
			}
			if _, err := tx.NewUpdate().Model((*userRow)(nil)).Set("updated_at = ?", now).Where("id = ?", userID).Exec(ctx); err != nil {
				return err
			}
			ch.RolesAfter, err = s.rolesOf(ctx, tx, userID)
			return err
		})
		if err != nil {
			return ch, err
		}
	}
	for _, g := range a.Teams {
		if g.Role != "" && !g.Role.Valid() {
			return ch, gatehouse.FieldError("role", fmt.Sprintf("unknown team role %q", g.Role))
		}
		teamID := g.TeamID
		if teamID == 0 {
			id, problem, err := s.teamByName(ctx, g.TeamName)
			if err != nil {
				return ch, err
			}
			if problem != "" {
				ch.Skipped = append(ch.Skipped, fmt.Sprintf("team %q: %s", g.TeamName, problem))
				continue
			}
			teamID = id
		}
		before, after, problem, err := s.syncMember(ctx, teamID, userID, g.Role)
		switch {
		case err != nil && gatehouse.ErrorCode(err) == gatehouse.ENotFound:
			ch.Skipped = append(ch.Skipped, fmt.Sprintf("team %d: no such team", teamID))
		case err != nil:
			return ch, err
		case problem != "":
			ch.Skipped = append(ch.Skipped, fmt.Sprintf("team %d: %s", teamID, problem))
		case before != after:
			ch.Teams[teamID] = [2]gatehouse.TeamRole{before, after}
		}
	}
	return ch, nil
}

// teamByName finds the one team with this exact name; problem says why there is none to use.
func (s *Store) teamByName(ctx context.Context, name string) (id int64, problem string, err error) {
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var ids []int64
		if err := tx.NewSelect().Model((*teamRow)(nil)).Column("id").Where("name = ?", name).OrderExpr("id").Limit(2).Scan(ctx, &ids); err != nil {
			return err
		}
		switch len(ids) {
		case 0:
			problem = "no team has this name"
		case 1:
			id = ids[0]
		default:
			problem = "several teams have this name; name the team by id"
		}
		return nil
	})
	return id, problem, err
}

// syncMember sets the user's role in one team ("" removes the membership), keeping the team's
// last owner. It returns the role before and after, and why nothing changed when it refused.
func (s *Store) syncMember(ctx context.Context, teamID, userID int64, role gatehouse.TeamRole) (before, after gatehouse.TeamRole, problem string, err error) {
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		problem = ""
		cur, err := memberRole(ctx, tx, teamID, userID)
		if err != nil {
			return err
		}
		before, after = cur, cur
		if cur == role {
			return nil // nothing to do: do not take the team's lock at every sign-in
		}
		if err := lockTeam(ctx, tx, teamID); err != nil {
			return err
		}
		// Read again under the lock: a concurrent change may have come first.
		if cur, err = memberRole(ctx, tx, teamID, userID); err != nil {
			return err
		}
		before, after = cur, cur
		if cur == role {
			return nil
		}
		if cur == gatehouse.TeamOwner {
			n, err := countOwners(ctx, tx, teamID)
			if err != nil {
				return err
			}
			if n <= 1 {
				problem = "the user is the team's last owner and stays owner"
				return nil
			}
		}
		switch {
		case role == "":
			_, err = tx.NewDelete().Model((*memberRow)(nil)).Where("team_id = ? AND user_id = ?", teamID, userID).Exec(ctx)
		case cur == "":
			_, err = tx.NewInsert().Model(&memberRow{TeamID: teamID, UserID: userID, Role: string(role), CreatedAt: now}).Exec(ctx)
		default:
			_, err = tx.NewUpdate().Model((*memberRow)(nil)).Set("role = ?", string(role)).
				Where("team_id = ? AND user_id = ?", teamID, userID).Exec(ctx)
		}
		if err == nil {
			after = role
		}
		return err
	})
	return before, after, problem, err
}
