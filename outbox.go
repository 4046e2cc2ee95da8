package gatehouse

import "time"

// MailStatus is where an outbox message stands. Its string is what the database and the admin
// view hold.
type MailStatus string

// The outbox states. A message is pending until it is delivered (sent) or until the dispatcher
// gives up on it (failed); a failed message stays in the outbox, with its last error, for an
// admin to see.
const (
	MailPending MailStatus = "pending"
	MailSent    MailStatus = "sent"
	MailFailed  MailStatus = "failed"
)

// Valid reports whether s is one of the outbox states.
func (s MailStatus) Valid() bool {
	switch s {
	case MailPending, MailSent, MailFailed:
		return true
	}
	return false
}

// OutboxMail is one email in the outbox: stored before any delivery attempt, so that no message
// is lost when the process stops, and kept after it is sent or given up.
type OutboxMail struct {
	ID      int64
	To      string // one recipient
	Subject string
	Text    string // the text/plain body
	HTML    string // the text/html body; may be empty
	Status  MailStatus
	// Attempts counts delivery attempts started, including one in progress.
	Attempts      int
	NextAttemptAt time.Time
	// LockedUntil is the end of the lease of the dispatcher delivering the message right now; nil
	// when none holds it. Its value also identifies that lease (see the store's ClaimDueMail).
	LockedUntil *time.Time
	LastError   string // why the last attempt failed; empty when it did not
	CreatedAt   time.Time
	SentAt      *time.Time
}
