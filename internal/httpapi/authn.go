package httpapi

import (
	"net/http"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
)

// accessOf is how far a mode lets an account with a pending restriction go (auth.Gate): GET
// /me, logout and the password change (the MayChangePassword modes) stay open to every
// account, the /me/2fa routes also to one that must set up a second factor.
func accessOf(m AuthMode) auth.Access {
	switch m {
	case Authenticated:
		return auth.AccessFull
	case AuthenticatedTwoFactorSetup:
		return auth.AccessTwoFactorSetup
	}
	return auth.AccessAny
}

// requireAuth authenticates the bearer token and puts the principal in the request context.
func (s *server) requireAuth(mode AuthMode, next HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.auth == nil {
			return gatehouse.Errorf(gatehouse.EUnavailable, "authentication is not configured")
		}
		bearer, present := bearerToken(r)
		if !present {
			if mode == OptionalAuthMayChangePassword {
				return next(w, r)
			}
			return gatehouse.Errorf(gatehouse.EUnauthenticated, "authentication required: send an access token as Authorization: Bearer <token>")
		}
		p, err := s.auth.Authenticate(r.Context(), bearer)
		if err != nil {
			if gatehouse.ErrorCode(err) == gatehouse.EUnauthenticated {
				return &gatehouse.Error{Code: gatehouse.EUnauthenticated, Message: gatehouse.ErrorMessage(err), Err: err,
					Challenge: `Bearer error="invalid_token"`}
			}
			return err
		}
		if err := auth.Gate(p, accessOf(mode)); err != nil {
			return err
		}
		if st := stateOf(r); st != nil {
			st.userID = p.User.ID
		}
		return next(w, r.WithContext(gatehouse.WithPrincipal(r.Context(), p)))
	}
}

// bearerToken returns the token of an "Authorization: Bearer" header (the scheme is
// case-insensitive, RFC 9110 §11.1) and whether any Authorization header was sent.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(tok), true
}

// client describes the caller for tracking, throttling and audit.
func (s *server) client(r *http.Request) auth.Client { return Client(r, s.trusted) }
