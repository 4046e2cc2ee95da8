package auth

import (
	"context"
	"fmt"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// errRegistrationDisabled answers register when SECURITY_REGISTERABLE is off.
var errRegistrationDisabled = gatehouse.Errorf(gatehouse.EForbidden, "registration is disabled on this server; ask an administrator for an account").WithReason("feature_disabled")

// Register creates an account with the viewer role. Registering an address that already has an
// account answers exactly like a new registration and mails the owner instead, so registration
// cannot be used to find out who has an account. Where accounts can sign in without a password
// (PasswordlessSignIn), an empty password registers an account without one.
func (s *Service) Register(ctx context.Context, email, password string, c Client) error {
	return s.RegisterWithUsername(ctx, email, "", password, c)
}

// RegisterWithUsername is Register with a username (SECURITY_USERNAME_ENABLE; "" for none,
// refused when SECURITY_USERNAME_REQUIRED). A username another account has (or one that looks
// like it) gets the same answer as any registration and no account: the address that
// registered is mailed that the name is taken, so that registration does not tell strangers
// which usernames exist.
func (s *Service) RegisterWithUsername(ctx context.Context, email, name, password string, c Client) error {
	if !s.opts.Registerable {
		return errRegistrationDisabled
	}
	email, err := ValidateNewEmail("email", email)
	if err != nil {
		return err
	}
	name, err = s.CheckNewUsername("username", name)
	if err != nil {
		return err
	}
	passwordless := s.optionalPassword(password) // an account without a password (passwordless.go)
	if !passwordless {
		if err := s.opts.Policy.CheckContext(ctx, "password", password, email); err != nil {
			return err
		}
	}
	if c.IP != "" {
		if _, err := s.checkThrottle(ctx, ipKey("register", c.IP)); err != nil {
			return err
		}
		// Every registration counts against the address, new or taken alike: counting only the
		// taken ones would let the 429 tell which addresses have accounts.
		if _, err := s.store.RecordFailure(ctx, ipKey("register", c.IP), failureWindow, s.policyFor(s.opts.BackoffAfter*ipFactor, 0)); err != nil {
			s.log.Error("registration not counted", "error", err)
		}
	}
	var hash, scheme string
	if !passwordless {
		if hash, scheme, err = s.hasher.Hash(ctx, password); err != nil {
			return err
		}
	}
	u := &gatehouse.User{Email: email, Username: name, PasswordHash: hash, PasswordScheme: scheme, Active: true, Roles: []gatehouse.Role{gatehouse.RoleViewer}}
	if !s.opts.Confirmable {
		now := s.now()
		u.ConfirmedAt = &now
	}
	// From here on the work is the same whether or not the address has an account, so that the
	// answer takes the same time (issue 12): both mails are rendered, then one transaction
	// (store.Register) writes the account, its confirmation token, the event and the
	// confirmation mail for a new address, or the event and the already-registered mail for a
	// taken one.
	req := store.RegisterRequest{User: u,
		Audit: gatehouse.AuditEvent{Event: gatehouse.AuditRegister, Email: email, IP: c.IP, UserAgent: c.UserAgent}}
	if name != "" {
		// The detail of a new account (a taken address or name gets the store's own detail).
		req.Audit.Detail = fmt.Sprintf("username %q", name)
	}
	brand := mail.Brand{Name: s.opts.BrandName}
	if s.opts.Confirmable {
		tok, code := randomToken(32), newCode()
		m, err := mail.Render(brand, email, mail.Confirm{Link: s.link("/confirm", tok), Code: code, ValidFor: s.opts.ConfirmWithin})
		if err != nil {
			return err
		}
		req.TokenHash, req.CodeHash, req.ExpiresAt = s.HashOneTimeSecret(tok), s.HashOneTimeSecret(code), s.now().Add(s.opts.ConfirmWithin)
		req.ConfirmMail = &gatehouse.OutboxMail{Subject: m.Subject, Text: m.Text, HTML: m.HTML}
	}
	if s.mailer != nil {
		m, err := mail.Render(brand, email, mail.AlreadyRegistered{LoginLink: s.url("/login"), ResetLink: s.url("/forgot-password")})
		if err != nil {
			return err
		}
		req.AlreadyRegisteredMail = &gatehouse.OutboxMail{Subject: m.Subject, Text: m.Text, HTML: m.HTML}
		if name != "" {
			m, err := mail.Render(brand, email, mail.UsernameTaken{Username: name, RegisterLink: s.url("/register")})
			if err != nil {
				return err
			}
			req.UsernameTakenMail = &gatehouse.OutboxMail{Subject: m.Subject, Text: m.Text, HTML: m.HTML}
		}
	}
	out, err := s.store.Register(ctx, req)
	if err != nil {
		return err
	}
	switch out {
	case store.RegisterConfusable:
		// An address that looks like another account's (UTS #39) gets no account, and the same
		// answer as any registration, so that registering look-alikes does not tell who has an
		// account. Nothing is mailed: the look-alike's owner asked for it, the other did not.
		s.log.Warn("registration refused: address confusable with an existing account", "email", email)
		return nil
	case store.RegisterUsernameTaken:
		s.log.Info("registration refused: username taken", "email", email)
	case store.RegisterCreated:
		s.metrics.observe(gatehouse.AuditEvent{Event: gatehouse.AuditRegister, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email, IP: c.IP, UserAgent: c.UserAgent})
	}
	if w, ok := s.mailer.(interface{ Wake() }); ok && (req.ConfirmMail != nil || req.AlreadyRegisteredMail != nil || req.UsernameTakenMail != nil) {
		w.Wake() // deliver now rather than at the next poll
	}
	return nil
}

func (s *Service) sendConfirmation(ctx context.Context, u *gatehouse.User) error {
	tok, code, err := s.issueActionToken(ctx, store.PurposeConfirm, u, s.opts.ConfirmWithin)
	if err != nil {
		return err
	}
	s.send(ctx, u.Email, mail.Confirm{Link: s.link("/confirm", tok), Code: code, ValidFor: s.opts.ConfirmWithin})
	return nil
}

// Confirm consumes a confirmation token or code and marks the address confirmed.
func (s *Service) Confirm(ctx context.Context, tok string, c Client) error {
	if tok == "" {
		return gatehouse.FieldError("token", "is required")
	}
	if c.IP != "" {
		if _, err := s.checkThrottle(ctx, ipKey("confirm", c.IP)); err != nil {
			return err
		}
	}
	u, err := s.store.ConfirmWithToken(ctx, s.HashOneTimeSecret(tok))
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		s.failIP(ctx, "confirm", c)
		return errBadActionToken
	}
	if err != nil {
		return err
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditConfirm, SubjectID: idPtr(u.ID), ActorID: idPtr(u.ID), Email: u.Email}, c)
	return nil
}

// ResendConfirmation mails a new confirmation link when the address has an unconfirmed account.
// It answers the same in every case and is rate-limited per address and client.
func (s *Service) ResendConfirmation(ctx context.Context, email string, c Client) error {
	if !s.opts.Confirmable {
		return gatehouse.Errorf(gatehouse.EForbidden, "email confirmation is not enabled on this server").WithReason("feature_disabled")
	}
	email, err := ValidateEmail("email", email)
	if err != nil {
		return err
	}
	keys := []string{accountKey("resend", email)}
	if c.IP != "" {
		keys = append(keys, ipKey("resend", c.IP))
	}
	if _, err := s.checkThrottle(ctx, keys...); err != nil {
		return err
	}
	s.fail(ctx, "resend", email, c, nil)
	u, err := s.store.UserByEmail(ctx, email)
	if gatehouse.ErrorCode(err) == gatehouse.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if u.ConfirmedAt != nil || !u.Active {
		return nil
	}
	return s.sendConfirmation(ctx, u)
}

// CreateUser creates an account on behalf of an administrator or the command line. The
// password must pass the policy; confirmed marks the address confirmed.
func (s *Service) CreateUser(ctx context.Context, email, password string, roles []gatehouse.Role, confirmed bool) (*gatehouse.User, error) {
	email, err := ValidateNewEmail("email", email)
	if err != nil {
		return nil, err
	}
	if err := s.opts.Policy.CheckContext(ctx, "password", password, email); err != nil {
		return nil, err
	}
	hash, scheme, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	u := &gatehouse.User{Email: email, PasswordHash: hash, PasswordScheme: scheme, Active: true, Roles: roles}
	if confirmed {
		now := s.now()
		u.ConfirmedAt = &now
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditUserCreated, SubjectID: idPtr(u.ID), Email: u.Email}, Client{})
	return u, nil
}

// SetPassword sets a user's password on behalf of an administrator (command line); every
// session of the user ends. The must-change flag stays as it is.
func (s *Service) SetPassword(ctx context.Context, actor *int64, userID int64, password string, c Client) error {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	if err := s.opts.Policy.CheckContext(ctx, "password", password, u.Email); err != nil {
		return err
	}
	hash, scheme, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, userID, store.PasswordUpdate{Hash: hash, Scheme: scheme, NewStamp: store.NewSecurityStamp()}); err != nil {
		return err
	}
	s.audit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditPasswordChange, SubjectID: idPtr(userID), ActorID: actor, Email: u.Email,
		Detail: "set by an administrator"}, c)
	return nil
}

// ResetAccess ends every session and token of a user (the command line's "user reset-access";
// the API's is the users service).
func (s *Service) ResetAccess(ctx context.Context, actor *int64, userID int64, c Client) error {
	// The event is written with the change, in one transaction.
	return s.store.ResetAccessAudited(ctx, userID, store.NewSecurityStamp(), "reset_access",
		gatehouse.AuditEvent{Event: gatehouse.AuditResetAccess, SubjectID: idPtr(userID), ActorID: actor, IP: c.IP, UserAgent: c.UserAgent})
}
