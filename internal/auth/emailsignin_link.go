package auth

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// The mailed link of a sign-in by email opens a page (GET shows, POST acts, so that a mail
// scanner opening it changes nothing). In the browser that asked (it holds the binding), the
// POST signs in. In any other browser it cannot: the page shows which client asked and when,
// and its holder may confirm that that client may sign in (ApproveEmailSignIn); the client
// then finishes with its binding (VerifyEmailSignIn without a code).

// errBadEmailLink answers a link that is unknown, used, expired or whose account changed.
var errBadEmailLink = gatehouse.FieldError("token", "is invalid or has expired")

// ErrEmailLinkOtherClient answers a link followed in a browser that did not ask for it: it
// cannot sign that browser in; ApproveEmailSignIn lets the one that asked finish.
var ErrEmailLinkOtherClient = gatehouse.Errorf(gatehouse.EForbidden,
	"this sign-in was asked for in another browser or app; confirm there, or type the code where you asked").WithReason("email_signin_other_client")

// EmailLinkInfo describes the request a mailed link belongs to, for the page the link opens.
type EmailLinkInfo struct {
	// SameClient: the browser holds the request's binding, so following the link signs it in.
	SameClient bool
	// Email is the account's address.
	Email string
	// RequestedAt, IP and UserAgent describe the client that asked, so that whoever opens the
	// link elsewhere can tell whether that was them before confirming.
	RequestedAt time.Time
	IP          string
	UserAgent   string
	ExpiresAt   time.Time
	// Approved: the link was confirmed in a browser without the binding already.
	Approved bool
}

func (s *Service) emailLink(ctx context.Context, token string, c Client) (*store.EmailSignInLink, error) {
	if !s.EmailSignInEnabled() {
		return nil, errEmailSignInOff
	}
	if token == "" {
		return nil, gatehouse.FieldError("token", "is required")
	}
	if c.IP != "" {
		if _, err := s.checkThrottle(ctx, ipKey("email-link", c.IP)); err != nil {
			return nil, err
		}
	}
	l, err := s.store.EmailSignInByToken(ctx, s.HashOneTimeSecret(token), emailSignInMaxFailures)
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		s.failIP(ctx, "email-link", c)
		return nil, errBadEmailLink
	}
	return l, err
}

// sameBinding reports whether binding is the one whose hash the request keeps.
func sameBinding(binding, hash string) bool {
	return binding != "" && subtle.ConstantTimeCompare([]byte(hashToken(binding)), []byte(hash)) == 1
}

func linkInfo(l *store.EmailSignInLink, binding string) *EmailLinkInfo {
	return &EmailLinkInfo{SameClient: sameBinding(binding, l.BindingHash), Email: l.Email, RequestedAt: l.CreatedAt,
		IP: l.IP, UserAgent: l.UserAgent, ExpiresAt: l.ExpiresAt, Approved: l.Approved}
}

// EmailSignInLink describes the live request of a mailed link, as seen from a browser holding
// binding ("" for none). It changes nothing.
func (s *Service) EmailSignInLink(ctx context.Context, token, binding string, c Client) (*EmailLinkInfo, error) {
	l, err := s.emailLink(ctx, token, c)
	if err != nil {
		return nil, err
	}
	return linkInfo(l, binding), nil
}

// EmailLinkInput follows a mailed link in the browser that asked for it.
type EmailLinkInput struct {
	Token   string
	Binding string // the browser's binding; another one's answers ErrEmailLinkOtherClient
	// Remember, RememberDeviceToken and DeviceToken are LoginInput's.
	Remember            bool
	RememberDeviceToken string
	DeviceToken         string
	Client              Client
}

// SignInWithEmailLink signs in the browser that asked for the link, and answers like Login.
func (s *Service) SignInWithEmailLink(ctx context.Context, in EmailLinkInput) (*TokenPair, error) {
	l, err := s.emailLink(ctx, in.Token, in.Client)
	if err != nil {
		return nil, err
	}
	if !sameBinding(in.Binding, l.BindingHash) {
		return nil, ErrEmailLinkOtherClient
	}
	u, err := s.store.UserByID(ctx, l.UserID)
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		return nil, errBadEmailLink
	}
	if err != nil {
		return nil, err
	}
	gate, err := s.gateFor(ctx, u, in.Client, in.DeviceToken)
	if err != nil {
		return nil, err
	}
	locked, err := s.verdict(gate)
	if err != nil {
		return nil, err
	}
	if locked {
		s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditLoginFailure, SubjectID: idPtr(u.ID), Email: u.Email, Detail: "email link: account locked"}, in.Client)
		return nil, errBadEmailLink
	}
	res, err := s.store.ConsumeEmailSignIn(ctx, store.EmailSignInProof{BindingHash: l.BindingHash, TokenHash: s.HashOneTimeSecret(in.Token)},
		emailSignInMaxFailures, store.NewSecurityStamp())
	if err != nil {
		return nil, err
	}
	if res.Outcome != store.EmailSignInDone {
		return nil, errBadEmailLink // used or changed meanwhile
	}
	return s.finishEmailSignIn(ctx, res, gate, nil, EmailSignInInput{Remember: in.Remember, RememberDeviceToken: in.RememberDeviceToken,
		DeviceToken: in.DeviceToken, Client: in.Client}, "email link")
}

// ApproveEmailSignIn confirms, from a browser that opened the mailed link without its binding,
// that the client that asked may finish signing in. This browser is not signed in.
func (s *Service) ApproveEmailSignIn(ctx context.Context, token string, c Client) (*EmailLinkInfo, error) {
	if _, err := s.emailLink(ctx, token, c); err != nil {
		return nil, err
	}
	l, err := s.store.ApproveEmailSignIn(ctx, s.HashOneTimeSecret(token), emailSignInMaxFailures)
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		return nil, errBadEmailLink
	}
	if err != nil {
		return nil, err
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditEmailSignInApproved, SubjectID: idPtr(l.UserID), Email: l.Email,
		Detail: "for the client at " + l.IP + " (" + l.UserAgent + ") that asked at " + l.CreatedAt.Format(time.RFC3339)}, c)
	return linkInfo(l, ""), nil
}
