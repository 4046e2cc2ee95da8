package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/gatehousehq/gatehouse"
)

type invitationRow struct {
	bun.BaseModel `bun:"table:invitations,alias:inv"`

	ID         int64      `bun:"id,pk,autoincrement"`
	TeamID     int64      `bun:"team_id"`
	Email      string     `bun:"email"`
	EmailLower string     `bun:"email_lower"`
	Role       string     `bun:"role"`
	TokenHash  string     `bun:"token_hash"`
	CodeHash   string     `bun:"code_hash"`
	InvitedBy  *int64     `bun:"invited_by"`
	CreatedAt  time.Time  `bun:"created_at"`
	ExpiresAt  time.Time  `bun:"expires_at"`
	AcceptedAt *time.Time `bun:"accepted_at"`
	AcceptedBy *int64     `bun:"accepted_by"`
	RevokedAt  *time.Time `bun:"revoked_at"`
}

func (r *invitationRow) toInvitation() *gatehouse.Invitation {
	return &gatehouse.Invitation{
		ID: r.ID, TeamID: r.TeamID, Email: r.Email, Role: gatehouse.TeamRole(r.Role), InvitedBy: r.InvitedBy,
		CreatedAt: utc(r.CreatedAt), ExpiresAt: utc(r.ExpiresAt), AcceptedAt: utcPtr(r.AcceptedAt),
		AcceptedBy: r.AcceptedBy, RevokedAt: utcPtr(r.RevokedAt),
	}
}

// Conflicts of CreateInvitation and AcceptInvitation; the reason is the wire code.
var (
	errAlreadyMember  = gatehouse.Errorf(gatehouse.EConflict, "this person is already a member of the team").WithReason("already_member")
	errAlreadyInvited = gatehouse.Errorf(gatehouse.EConflict,
		"a pending invitation for this address exists; revoke it first to send a new one").WithReason("already_invited")
	errYouAreMember = gatehouse.Errorf(gatehouse.EConflict,
		"you are already a member of this team; the invitation stays unused").WithReason("already_member")
)

// errNoInvitation is the one answer for an invitation that does not exist, belongs to another
// team, or (on accept) was sent to someone else: nobody learns about invitations not theirs.
var errNoInvitation = gatehouse.Errorf(gatehouse.ENotFound, "invitation not found")

func validateInvitation(in gatehouse.NewInvitation) error {
	switch {
	case in.Email == "" || NormalizeEmail(in.Email) == "":
		return gatehouse.FieldError("email", "is required")
	case len(in.Email) > 320:
		return gatehouse.FieldError("email", "must be at most 320 characters")
	case !in.Role.Valid():
		return gatehouse.FieldError("role", "must be owner, admin, member or viewer")
	case in.TokenHash == "" || in.CodeHash == "":
		return gatehouse.Errorf(gatehouse.EInternal, "store: invitation without secrets")
	}
	return nil
}

// CreateInvitation stores a pending invitation, with its audit event and its email (in.Audit,
// in.Mail) when given, in one transaction. It is ENotFound for an unknown team, and EConflict
// when the address already belongs to a member of the team (reason already_member) or already
// has a pending invitation to it (reason already_invited). The team is locked first, so that
// concurrent invitations of one address, and an invitation racing an acceptance, cannot both
// pass the checks.
func (s *Store) CreateInvitation(ctx context.Context, in gatehouse.NewInvitation) (inv *gatehouse.Invitation, err error) {
	defer wrapErr(&err, "store.CreateInvitation(team=%d, %q)", in.TeamID, in.Role)
	if err := validateInvitation(in); err != nil {
		return nil, err
	}
	var msg gatehouse.OutboxMail
	if in.Mail != nil {
		msg = *in.Mail
		msg.To = in.Email
		if err := validateMail(&msg); err != nil {
			return nil, err
		}
	}
	now := utc(s.now())
	lower := NormalizeEmail(in.Email)
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := lockTeam(ctx, tx, in.TeamID); err != nil {
			return err
		}
		n, err := tx.NewSelect().Model((*memberRow)(nil)).Join("JOIN users AS u ON u.id = tm.user_id").
			Where("tm.team_id = ? AND u.email_lower = ?", in.TeamID, lower).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return errAlreadyMember
		}
		n, err = tx.NewSelect().Model((*invitationRow)(nil)).
			Where("team_id = ? AND email_lower = ?", in.TeamID, lower).
			Where("accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", now).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return errAlreadyInvited
		}
		by := in.InvitedBy
		row := &invitationRow{
			TeamID: in.TeamID, Email: in.Email, EmailLower: lower, Role: string(in.Role),
			TokenHash: in.TokenHash, CodeHash: in.CodeHash, InvitedBy: &by, CreatedAt: now, ExpiresAt: utc(in.ExpiresAt),
		}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return err
		}
		inv = row.toInvitation()
		if in.Audit != nil {
			if err := insertAuditAt(ctx, tx, in.Audit(inv), now); err != nil {
				return err
			}
		}
		if in.Mail != nil {
			m := msg
			return insertMail(ctx, tx, &m, now)
		}
		return nil
	})
	return inv, err
}

// PendingInvitations lists a team's pending invitations (not accepted, not revoked, not
// expired) by id after the id after. An unknown team is ENotFound.
func (s *Store) PendingInvitations(ctx context.Context, teamID, after int64, limit int) (out []*gatehouse.Invitation, err error) {
	defer wrapErr(&err, "store.PendingInvitations(team=%d)", teamID)
	now := utc(s.now())
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		exists, err := tx.NewSelect().Model((*teamRow)(nil)).Where("id = ?", teamID).Exists(ctx)
		if err != nil {
			return err
		}
		if !exists {
			return gatehouse.Errorf(gatehouse.ENotFound, "team not found")
		}
		var rows []invitationRow
		if err := tx.NewSelect().Model(&rows).Where("team_id = ? AND id > ?", teamID, after).
			Where("accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", now).
			OrderExpr("id").Limit(int64(limit)).Scan(ctx); err != nil {
			return err
		}
		out = make([]*gatehouse.Invitation, len(rows))
		for i := range rows {
			out[i] = rows[i].toInvitation()
		}
		return nil
	})
	return out, err
}

// RevokeInvitation revokes the team's invitation id, pending or expired, and returns it. One that
// does not exist, belongs to another team or is already revoked is ENotFound; one already accepted
// is EConflict (the member is removed from the team instead). The UPDATE is conditional, so a
// revocation racing an acceptance has exactly one winner.
func (s *Store) RevokeInvitation(ctx context.Context, teamID, id int64) (inv *gatehouse.Invitation, err error) {
	return s.RevokeInvitationIf(ctx, teamID, id, nil, nil)
}

// RevokeInvitationIf is RevokeInvitation with check (may be nil), which runs on the invitation
// as the transaction sees it before anything is written (the If-Match comparison), and audit
// (may be nil), which returns the audit event of the revocation, written in the same
// transaction. Both may run more than once when the transaction is retried, so they must not
// have side effects.
func (s *Store) RevokeInvitationIf(ctx context.Context, teamID, id int64, check func(*gatehouse.Invitation) error,
	audit func(*gatehouse.Invitation) gatehouse.AuditEvent) (inv *gatehouse.Invitation, err error) {
	defer wrapErr(&err, "store.RevokeInvitation(team=%d, %d)", teamID, id)
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(invitationRow)
		if err := tx.NewSelect().Model(row).Where("id = ? AND team_id = ?", id, teamID).Scan(ctx); err != nil {
			return notFound(err, errNoInvitation.Message)
		}
		if check != nil {
			if err := check(row.toInvitation()); err != nil {
				return err
			}
		}
		switch {
		case row.RevokedAt != nil:
			return errNoInvitation
		case row.AcceptedAt != nil:
			return gatehouse.Errorf(gatehouse.EConflict, "the invitation was already accepted; remove the member from the team instead")
		}
		res, err := tx.NewUpdate().Model((*invitationRow)(nil)).Set("revoked_at = ?", now).
			Where("id = ? AND accepted_at IS NULL AND revoked_at IS NULL", id).Exec(ctx)
		if err != nil {
			return err
		}
		if err := mustAffect(res, errNoInvitation.Message); err != nil {
			return err
		}
		row.RevokedAt = &now
		inv = row.toInvitation()
		if audit != nil {
			return insertAuditAt(ctx, tx, audit(inv), now)
		}
		return nil
	})
	return inv, err
}

// InvitationByID returns the team's invitation id, whatever its state; one of another team is
// ENotFound, like one that does not exist.
func (s *Store) InvitationByID(ctx context.Context, teamID, id int64) (inv *gatehouse.Invitation, err error) {
	defer wrapErr(&err, "store.InvitationByID(team=%d, %d)", teamID, id)
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := new(invitationRow)
		if err := tx.NewSelect().Model(row).Where("id = ? AND team_id = ?", id, teamID).Scan(ctx); err != nil {
			return notFound(err, errNoInvitation.Message)
		}
		inv = row.toInvitation()
		return nil
	})
	return inv, err
}

// AcceptInvitation makes userID a member of the team with the invitation's role, consuming the
// invitation, in one transaction. hash is the hash of the link token or of the code. The
// invitation must have been sent to the user's address (compared case-insensitively): any other
// is ENotFound, like an unknown one. One of the user's own that was used, revoked or has expired
// is ENotFound with a message saying which. When the user is a member of the team already, it is
// EConflict (reason already_member) and the invitation stays unused.
func (s *Store) AcceptInvitation(ctx context.Context, hash string, userID int64) (*gatehouse.Invitation, error) {
	inv, _, err := s.AcceptInvitationAudited(ctx, hash, userID, nil)
	return inv, err
}

// AcceptInvitationAudited is AcceptInvitation that also records the audit event audit returns
// for the accepted invitation (nil: none) in the same transaction, and returns the team joined
// as that transaction sees it.
func (s *Store) AcceptInvitationAudited(ctx context.Context, hash string, userID int64,
	audit func(*gatehouse.Invitation) gatehouse.AuditEvent) (inv *gatehouse.Invitation, team *gatehouse.Team, err error) {
	defer wrapErr(&err, "store.AcceptInvitation(user=%d)", userID)
	now := utc(s.now())
	err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err := s.userWhere(ctx, tx, "id = ?", userID)
		if err != nil {
			return err
		}
		row := new(invitationRow)
		err = tx.NewSelect().Model(row).Where("email_lower = ?", NormalizeEmail(u.Email)).
			WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.Where("token_hash = ?", hash).WhereOr("code_hash = ?", hash)
			}).
			// A code could, in theory, repeat between two invitations to one address: take the
			// newest.
			OrderExpr("id DESC").Limit(1).Scan(ctx)
		if err != nil {
			return notFound(err, errNoInvitation.Message)
		}
		switch {
		case row.AcceptedAt != nil:
			return gatehouse.Errorf(gatehouse.ENotFound, "invitation not found: it was already used")
		case row.RevokedAt != nil:
			return gatehouse.Errorf(gatehouse.ENotFound, "invitation not found: it was revoked")
		case !now.Before(utc(row.ExpiresAt)):
			return gatehouse.Errorf(gatehouse.ENotFound, "invitation not found: it has expired; ask for a new one")
		}
		// As ChangeMember does: lock the team, then look at the membership as it is now.
		if err := lockTeam(ctx, tx, row.TeamID); err != nil {
			return err
		}
		cur, err := memberRole(ctx, tx, row.TeamID, userID)
		if err != nil {
			return err
		}
		if cur != "" {
			return errYouAreMember
		}
		// Conditional, so that a concurrent acceptance or revocation leaves exactly one winner.
		res, err := tx.NewUpdate().Model((*invitationRow)(nil)).Set("accepted_at = ?", now).Set("accepted_by = ?", userID).
			Where("id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", row.ID, now).Exec(ctx)
		if err != nil {
			return err
		}
		if err := mustAffect(res, errNoInvitation.Message); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(&memberRow{TeamID: row.TeamID, UserID: userID, Role: row.Role, CreatedAt: now}).Exec(ctx); err != nil {
			return err
		}
		row.AcceptedAt, row.AcceptedBy = &now, &userID
		inv = row.toInvitation()
		t := new(teamRow)
		if err := tx.NewSelect().Model(t).Where("id = ?", row.TeamID).Scan(ctx); err != nil {
			return notFound(err, "team not found")
		}
		team = t.toDomain()
		if audit != nil {
			return insertAuditAt(ctx, tx, audit(inv), now)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return inv, team, nil
}
