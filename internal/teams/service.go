// Package teams is the service of teams, their members, their invitations and their projects
// (the example team-owned resource). It owns the rules: each operation looks up the caller's
// role in the team, takes the one authorization decision (rbac.Decide) and writes the row, its
// audit event and any outbox mail in one store transaction. The transports (the API handlers in
// internal/httpapi, the invitation page in internal/web) only decode, call one method and render.
//
// Authorization is decided before anything else is looked at (docs/authorization.md): a caller
// who may not act hears 403 or 404 whatever it sent. So an operation's input reaches the
// service as an Input, which the service reads only once the caller may act, and an id of a
// resource inside the team that is not a positive number is passed as 0, which the service
// answers, after its decision, with not_found.
package teams

import (
	"context"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/rbac"
)

// InvitationValidity is how long an invitation's link and code work.
const InvitationValidity = 7 * 24 * time.Hour

// AcceptPath is the page, under PUBLIC_URL, that the mailed invitation link opens. Like the
// confirmation and reset pages it only shows a button: the POST (of the page, or of the API's
// /api/v1/invitations/accept) consumes the invitation, so a mail scanner following the link
// does no harm.
const AcceptPath = "/invitations/accept"

// TeamStore is what the service needs of the data layer for teams and members. Each method is
// one transaction; the callbacks run inside it (see the store's documentation).
type TeamStore interface {
	// TeamRole is the user's role in the team, "" when not a member (or no such team).
	TeamRole(ctx context.Context, teamID, userID int64) (gatehouse.TeamRole, error)
	ListTeams(ctx context.Context, userID int64, all bool, after int64, limit int) ([]gatehouse.TeamWithRole, error)
	// SearchTeams lists every team whose name contains the text, by id after after.
	SearchTeams(ctx context.Context, contains string, after int64, limit int) ([]*gatehouse.Team, error)
	TeamByID(ctx context.Context, id int64) (*gatehouse.Team, error)
	CreateTeamAudited(ctx context.Context, t *gatehouse.Team, owner int64, audit func(*gatehouse.Team) gatehouse.AuditEvent) error
	UpdateTeam(ctx context.Context, id int64, p gatehouse.TeamPatch, check func(*gatehouse.Team) error) (*gatehouse.Team, error)
	DeleteTeam(ctx context.Context, id int64, check func(*gatehouse.Team) error, audit func(*gatehouse.Team) gatehouse.AuditEvent) error

	Members(ctx context.Context, teamID, after int64, limit int) ([]gatehouse.Member, error)
	Member(ctx context.Context, teamID, userID int64) (*gatehouse.Member, error)
	ChangeMember(ctx context.Context, c gatehouse.MemberChange) (previous gatehouse.TeamRole, err error)
}

// InvitationStore is what the service needs of the data layer for invitations.
type InvitationStore interface {
	PendingInvitations(ctx context.Context, teamID, after int64, limit int) ([]*gatehouse.Invitation, error)
	InvitationByID(ctx context.Context, teamID, id int64) (*gatehouse.Invitation, error)
	// CreateInvitation writes the invitation with its audit event and its email.
	CreateInvitation(ctx context.Context, in gatehouse.NewInvitation) (*gatehouse.Invitation, error)
	// RenewInvitation gives a pending or expired invitation new secrets and expiry, with its
	// audit event and its email.
	RenewInvitation(ctx context.Context, teamID, id int64, tokenHash, codeHash string, expiresAt time.Time,
		mail *gatehouse.OutboxMail, audit func(*gatehouse.Invitation) gatehouse.AuditEvent) (*gatehouse.Invitation, error)
	RevokeInvitationIf(ctx context.Context, teamID, id int64, check func(*gatehouse.Invitation) error,
		audit func(*gatehouse.Invitation) gatehouse.AuditEvent) (*gatehouse.Invitation, error)
	// AcceptInvitationAudited joins the team of the invitation hash belongs to (one sent to the
	// user's own address) and returns the invitation and the team.
	AcceptInvitationAudited(ctx context.Context, hash string, userID int64,
		audit func(*gatehouse.Invitation) gatehouse.AuditEvent) (*gatehouse.Invitation, *gatehouse.Team, error)
}

// ProjectStore is what the service needs of the data layer for projects.
type ProjectStore interface {
	Projects(ctx context.Context, teamID, after int64, limit int) ([]*gatehouse.Project, error)
	ProjectByID(ctx context.Context, teamID, id int64) (*gatehouse.Project, error)
	CreateProject(ctx context.Context, p *gatehouse.Project) error
	UpdateProject(ctx context.Context, teamID, id int64, patch gatehouse.ProjectPatch, check func(*gatehouse.Project) error) (*gatehouse.Project, error)
	DeleteProject(ctx context.Context, teamID, id int64, check func(*gatehouse.Project) error) error
}

// Store is the data layer the service consumes (*store.Store).
type Store interface {
	TeamStore
	InvitationStore
	ProjectStore
}

// Secrets hashes the one-time secrets of invitations (*auth.Service). They are auth's: the same
// link tokens and typed codes as the confirmation and reset emails (auth.NewOneTimeSecrets),
// stored under the same keyed hash, so that one key (SECURITY_TOKEN_HMAC_KEY) covers every
// mailed secret.
type Secrets interface {
	// HashOneTimeSecret is the stored form of a token or of a code, however the code was typed.
	HashOneTimeSecret(secret string) string
}

// Mailer is the mail dispatcher (*mail.Dispatcher). The service queues its emails in its own
// transactions; after a commit it only wakes the dispatcher, so that delivery starts now rather
// than at the next poll.
type Mailer interface{ Wake() }

// Client describes where a request came from, for the audit trail.
type Client struct {
	IP        string
	UserAgent string
}

// Input supplies the input of an operation, decoded and validated by the transport. The
// service calls it once, and only when the caller may act, so that a caller who may not hears
// 403 or 404 whatever it sent.
type Input[T any] func() (T, error)

// Page is the page of a list: the items after the id After, at most Limit of them.
type Page struct {
	After int64
	Limit int
}

// Precondition compares a client's expectation (If-Match) with a resource as the transaction
// that changes it sees it, before anything is written; it returns the error that refuses the
// change. It may run more than once when the transaction is retried, so it must not have side
// effects. Nil: no precondition.
type Precondition[T any] func(current *T) error

// Options configure the service.
type Options struct {
	// Mailer is nil when SMTP is not configured: invitations, which are sent by email, are then
	// refused (ErrInvitationsDisabled).
	Mailer Mailer
	// PublicURL is the only base of the links in emails (never a request's Host header).
	PublicURL string
	// BrandName names the product in emails.
	BrandName string
	// Now is the clock of invitation expiry. Nil means time.Now.
	Now func() time.Time
}

// Service implements the team operations. It is safe for concurrent use.
type Service struct {
	store     Store
	secrets   Secrets
	mailer    Mailer
	publicURL string
	brand     mail.Brand
	now       func() time.Time
}

// New returns the service over st, with the one-time secrets of secrets.
func New(st Store, secrets Secrets, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{store: st, secrets: secrets, mailer: o.Mailer, publicURL: strings.TrimRight(o.PublicURL, "/"),
		brand: mail.Brand{Name: o.BrandName}, now: o.Now}
}

// errUnauthenticated answers an operation without a principal (the transports authenticate
// first; this only keeps a mistake from becoming a nil dereference).
var errUnauthenticated = gatehouse.Errorf(gatehouse.EUnauthenticated, "authentication required")

// role looks up p's role in the team.
func (s *Service) role(ctx context.Context, p *gatehouse.Principal, teamID int64) (gatehouse.TeamRole, error) {
	if p == nil || p.User == nil {
		return "", errUnauthenticated
	}
	return s.store.TeamRole(ctx, teamID, p.User.ID)
}

// access looks up p's role in the team and takes the decision on act there: a team p may not
// see is not_found, like one that does not exist.
func (s *Service) access(ctx context.Context, p *gatehouse.Principal, teamID int64, act rbac.Action) (gatehouse.TeamRole, error) {
	role, err := s.role(ctx, p, teamID)
	if err != nil {
		return "", err
	}
	if err := rbac.Decide(p, act, role); err != nil {
		return "", err
	}
	return role, nil
}

// page reads the page of a list once the caller may list, and asks the store for one item more
// than the page holds: whether that one comes back tells the transport if another page
// follows (rest.Paginate cuts it off), so a page that is exactly the last one carries no cursor.
func page(in Input[Page]) (after int64, limit int, err error) {
	pg, err := in()
	if err != nil {
		return 0, 0, err
	}
	return pg.After, pg.Limit + 1, nil
}

// audit fills in the event's actor and origin.
func audit(p *gatehouse.Principal, c Client, ev gatehouse.AuditEvent) gatehouse.AuditEvent {
	id := p.User.ID
	ev.ActorID, ev.IP, ev.UserAgent = &id, c.IP, c.UserAgent
	return ev
}

func teamDetail(teamID int64) string { return "team " + itoa(teamID) }
