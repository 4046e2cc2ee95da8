package gatehouse

import "time"

// TeamWithRole is a team and one user's role in it ("" when the user is not a member): a team
// as a list or a read shows it to that user.
type TeamWithRole struct {
	Team
	Role TeamRole
}

// TeamPatch is a change of a team's settings; nil fields stay as they are. Creating a team
// takes one too: its nil fields are empty.
type TeamPatch struct {
	Name        *string
	Description *string
}

// Member is a membership with the member's email address, as the members of a team are listed.
type Member struct {
	UserID    int64
	Email     string
	Role      TeamRole
	CreatedAt time.Time
}

// MemberChange adds, changes or removes one membership, in one transaction in which the team
// is locked first. Its callbacks run inside that transaction, in this order, and may run more
// than once when the transaction is retried, so they must not have side effects.
type MemberChange struct {
	TeamID int64
	UserID int64
	Role   TeamRole // the new role; "" removes the member
	// Check, when set, receives the member's current role ("" when not a member) and may
	// refuse the change: the permission of a change can depend on that role.
	Check func(current TeamRole) error
	// IfMatch, when set, runs after Check on the membership as the transaction sees it (nil
	// when the user is not a member), before anything is written: the If-Match comparison.
	IfMatch func(current *Member) error
	// Audit, when set, returns the audit event of the change, given the role the member had;
	// it is written in the same transaction. At defaults to the transaction's time.
	Audit func(previous TeamRole) AuditEvent
	// Result, when set, receives the membership as it is after the change (unchanged when the
	// member was removed).
	Result *Member
}
