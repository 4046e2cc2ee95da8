package auth

import (
	"context"
	"fmt"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/username"
)

// Usernames (Flask-Security-Too's SECURITY_USERNAME_ENABLE): a second identifier besides the
// email address, to sign in with. The rules of a name are internal/username's; the store keeps
// it unique and refuses look-alikes. What this file adds: the switch, checking a new name, the
// owner's change, and recovery by email.

// UsernameOptions are the SECURITY_USERNAME_* settings.
type UsernameOptions struct {
	Enable   bool // SECURITY_USERNAME_ENABLE
	Required bool // SECURITY_USERNAME_REQUIRED: registration and creation must give one
	Recovery bool // SECURITY_USERNAME_RECOVERY: POST /api/v1/auth/username/recover
	// Policy is what a new name must satisfy (length, punctuation, normal form). Zero: the
	// defaults.
	Policy username.Policy
}

// UsernamesEnabled reports whether accounts may have usernames.
func (s *Service) UsernamesEnabled() bool { return s.opts.Usernames.Enable }

// UsernameRequired reports whether new accounts must have a username.
func (s *Service) UsernameRequired() bool {
	return s.opts.Usernames.Enable && s.opts.Usernames.Required
}

// UsernameRecoveryEnabled reports whether username recovery by email works: it needs usernames,
// the setting and SMTP.
func (s *Service) UsernameRecoveryEnabled() bool {
	return s.opts.Usernames.Enable && s.opts.Usernames.Recovery && s.mailer != nil
}

var errUsernamesDisabled = "is not accepted: usernames are not enabled on this server (SECURITY_USERNAME_ENABLE)"

// CheckNewUsername checks a username given for a new account or a change, reported on field,
// and returns its display form. "" passes as no username unless one is required.
func (s *Service) CheckNewUsername(field, name string) (string, error) {
	if !s.opts.Usernames.Enable {
		if name != "" {
			return "", gatehouse.FieldError(field, errUsernamesDisabled)
		}
		return "", nil
	}
	if name == "" {
		if s.opts.Usernames.Required {
			return "", gatehouse.FieldError(field, "is required")
		}
		return "", nil
	}
	display, _, err := s.opts.Usernames.Policy.Check(name)
	if err != nil {
		return "", gatehouse.FieldError(field, err.Error())
	}
	return display, nil
}

// loginIdentity checks that a sign-in names its account by exactly one of email and username,
// and returns the one it gave (username: byUsername true). A username is looked up under its
// key only (not the policy of new names), so a name made under an older policy still signs in.
func (s *Service) loginIdentity(email, name string) (id string, byUsername bool, err error) {
	switch {
	case name == "":
		e, err := ValidateEmail("email", email)
		return e, false, err
	case !s.opts.Usernames.Enable:
		return "", false, gatehouse.FieldError("username", errUsernamesDisabled)
	case email != "":
		return "", false, gatehouse.FieldError("username", "send either email or username, not both")
	case len(name) > 4*username.MaxLength:
		return "", false, gatehouse.FieldError("username", fmt.Sprintf("must be at most %d characters", username.MaxLength))
	}
	return name, true, nil
}

// unknownUsernameKey is the throttle key of a sign-in with a username no account has: its own
// counter, so that unknown names slow down like unknown addresses.
func unknownUsernameKey(name string) string {
	key, err := username.Key(name)
	if err != nil {
		key = name
	}
	return "username:" + key
}

// signInStartUsername is signInStart for a username: the account is looked up first, and its
// counters are the account's (by its email, as for a sign-in with the address, so the two
// ways in share one budget); an unknown name counts under a key of its own. The same queries
// run either way.
func (s *Service) signInStartUsername(ctx context.Context, name string, c Client, deviceTok string) (gate *loginGate, u *gatehouse.User, counterKey string, locked bool, err error) {
	u, err = s.store.UserByUsername(ctx, name)
	if err != nil && gatehouse.ErrorCode(err) != gatehouse.ENotFound {
		return nil, nil, "", false, err
	}
	counterKey = unknownUsernameKey(name)
	if err != nil {
		u = nil
	} else {
		counterKey = u.Email
	}
	if gate, err = s.openGate(ctx, counterKey, c, deviceTok); err != nil {
		return nil, nil, "", false, err
	}
	gate.trust(u, s.now())
	if locked, err = s.verdict(gate); err != nil {
		return nil, nil, "", false, err
	}
	return gate, u, counterKey, locked, nil
}

// ChangeUsername sets, changes or (name "") removes the caller's own username. It is a change
// of a sign-in identifier, so it follows the rules of credential changes (fresh.go), like the
// email address: a signed-in session, a write-capable token, and a fresh authentication or the
// right currentPassword. A name another account has, or one that looks like it, is 409
// username_taken on field username. The event (username_changed) is written with the change.
func (s *Service) ChangeUsername(ctx context.Context, p *gatehouse.Principal, name, currentPassword string, c Client) (*gatehouse.User, error) {
	if !s.opts.Usernames.Enable {
		return nil, gatehouse.Errorf(gatehouse.EForbidden, "usernames are not enabled on this server").WithReason("feature_disabled")
	}
	if err := s.requireCredentialChange(ctx, p, "the username", currentPassword, c); err != nil {
		return nil, err
	}
	display, err := s.CheckNewUsername("username", name)
	if err != nil {
		return nil, err
	}
	_, after, err := s.store.AdminUpdateUser(ctx, p.User.ID, gatehouse.UserChange{Username: &display}, nil,
		func(before, after *gatehouse.User) []gatehouse.AuditEvent {
			return []gatehouse.AuditEvent{{Event: gatehouse.AuditUsernameChanged, SubjectID: idPtr(after.ID), ActorID: idPtr(after.ID),
				Email: after.Email, IP: c.IP, UserAgent: c.UserAgent, Detail: UsernameChangeDetail(before.Username, after.Username)}}
		})
	if err != nil {
		return nil, err
	}
	p.User.Username = after.Username
	return after, nil
}

// UsernameChangeDetail is the audit detail of a change of username: `set "b"`, `"a" -> "b"` or
// `removed "a"`.
func UsernameChangeDetail(before, after string) string {
	switch {
	case before == "":
		return fmt.Sprintf("set %q", after)
	case after == "":
		return fmt.Sprintf("removed %q", before)
	}
	return fmt.Sprintf("%q -> %q", before, after)
}

var errUsernameRecoveryDisabled = gatehouse.Errorf(gatehouse.EForbidden, "username recovery is not available on this server").WithReason("feature_disabled")

// RecoverUsername mails the username of the active account of email, if it has one (Flask-
// Security's SECURITY_USERNAME_RECOVERY). It answers the same in every case, is throttled like
// forgot-password (every request counts, per address and per client), and writes its event and
// mail in one transaction of the same statements whether or not such an account exists.
func (s *Service) RecoverUsername(ctx context.Context, email string, c Client) error {
	if !s.UsernameRecoveryEnabled() {
		return errUsernameRecoveryDisabled
	}
	email, err := ValidateEmail("email", email)
	if err != nil {
		return err
	}
	keys := []string{accountKey("username_recover", email)}
	if c.IP != "" {
		keys = append(keys, ipKey("username_recover", c.IP))
	}
	if _, err := s.checkThrottle(ctx, keys...); err != nil {
		return err
	}
	s.fail(ctx, "username_recover", email, c, nil)
	brand, login := mail.Brand{Name: s.opts.BrandName}, s.url("/login")
	err = s.store.RecoverUsername(ctx, store.UsernameRecovery{Email: email,
		Render: func(u *gatehouse.User) (*gatehouse.OutboxMail, error) {
			m, err := mail.Render(brand, u.Email, mail.UsernameRecovery{Username: u.Username, LoginLink: login})
			if err != nil {
				return nil, err
			}
			return &gatehouse.OutboxMail{Subject: m.Subject, Text: m.Text, HTML: m.HTML}, nil
		},
		Audit: gatehouse.AuditEvent{Event: gatehouse.AuditUsernameRecovery, Email: email, IP: c.IP, UserAgent: c.UserAgent}})
	if err != nil {
		return err
	}
	s.MailQueued()
	return nil
}
