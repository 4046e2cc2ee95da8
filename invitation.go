package gatehouse

import "time"

// Invitation is an offer of a team role to an email address. The secrets that accept it (a
// link token and a short code) are never stored, only their hashes; an invitation is pending
// until it is accepted, revoked or expires.
type Invitation struct {
	ID         int64
	TeamID     int64
	Email      string
	Role       TeamRole
	InvitedBy  *int64 // nil when the inviter's account was deleted
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt *time.Time
	AcceptedBy *int64
	RevokedAt  *time.Time
}

// InvitationStatus is where an invitation stands; its string is the wire name.
type InvitationStatus string

// The invitation states.
const (
	InvitationPending  InvitationStatus = "pending"
	InvitationAccepted InvitationStatus = "accepted"
	InvitationRevoked  InvitationStatus = "revoked"
	InvitationExpired  InvitationStatus = "expired"
)

// Pending reports whether the invitation can still be accepted at now.
func (i *Invitation) Pending(now time.Time) bool {
	return i.AcceptedAt == nil && i.RevokedAt == nil && now.Before(i.ExpiresAt)
}

// Status is the invitation's state at now. Accepted and revoked are final; a pending
// invitation turns expired by the clock alone.
func (i *Invitation) Status(now time.Time) InvitationStatus {
	switch {
	case i.AcceptedAt != nil:
		return InvitationAccepted
	case i.RevokedAt != nil:
		return InvitationRevoked
	case !i.Pending(now):
		return InvitationExpired
	}
	return InvitationPending
}

// NewInvitation is an invitation to store, with its audit event and its email, which are
// written in the same transaction: an invitation is never pending without its email queued.
type NewInvitation struct {
	TeamID    int64
	Email     string // already validated as an address
	Role      TeamRole
	InvitedBy int64
	// TokenHash and CodeHash are the hashes of the mailed secrets; the secrets themselves are
	// never stored.
	TokenHash string
	CodeHash  string
	ExpiresAt time.Time
	// Audit, when set, returns the audit event of the new invitation (it may run more than
	// once when the transaction is retried). At defaults to the transaction's time.
	Audit func(*Invitation) AuditEvent
	// Mail, when set, is queued in the outbox with the invitation; its To is the invitation's
	// Email.
	Mail *OutboxMail
}
