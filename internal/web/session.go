package web

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/transport"
)

// Page session keys. The session holds no account data: only the auth session it belongs to,
// when the password was last proven, and short-lived flow state.
const (
	keyAuthSession = "sid"         // the gatehouse.Session id (auth.TokenPair.SessionID)
	keyFreshAt     = "fresh_at"    // unix seconds of the last sign-in or password re-entry
	keyPending     = "pending_2fa" // JSON of pendingLogin: a password login awaiting its second factor
	keyFlash       = "flash"       // JSON of []flash: messages for the next page shown
)

type managerKey struct{}

// manager returns the session manager that loaded this request's session.
func manager(r *http.Request) *scs.SessionManager {
	m, _ := r.Context().Value(managerKey{}).(*scs.SessionManager)
	return m
}

// EstablishSession signs the browser in to the auth session of pair (after a password login,
// a second factor, or single sign-on): the page session gets a new token (no fixation), the
// auth session id and the sign-in time (for freshness); remember makes the cookie last
// SECURITY_REMEMBER_DURATION instead of ending with the browser. It works inside the page
// middleware (the cookie is written with the response) and outside it (it writes the cookie
// itself); either way call it before the response is written.
func (w *Web) EstablishSession(rw http.ResponseWriter, r *http.Request, pair *auth.TokenPair, remember bool) error {
	if pair == nil || pair.SessionID == "" {
		return errors.New("web: EstablishSession needs a token pair with a session id")
	}
	m := w.sessions(r)
	ctx := r.Context()
	inside := manager(r) == m
	if !inside {
		// Outside the middleware: end the session the browser carried, if any, and start a new
		// one by hand.
		if c, err := r.Cookie(m.Cookie.Name); err == nil && c.Value != "" {
			if old, err := m.Load(ctx, c.Value); err == nil {
				if err := m.Destroy(old); err != nil {
					return err
				}
			}
		}
		var err error
		if ctx, err = m.Load(ctx, ""); err != nil {
			return err
		}
	} else if err := m.RenewToken(ctx); err != nil {
		return err
	}
	flashes := m.GetString(ctx, keyFlash)
	if err := m.Clear(ctx); err != nil {
		return err
	}
	if flashes != "" {
		m.Put(ctx, keyFlash, flashes)
	}
	m.Put(ctx, keyAuthSession, pair.SessionID)
	m.Put(ctx, keyFreshAt, w.now().Unix())
	m.RememberMe(ctx, remember)
	m.SetDeadline(ctx, time.Now().Add(m.Lifetime).UTC()) // scs compares deadlines to the wall clock
	if inside {
		return nil
	}
	token, expiry, err := m.Commit(ctx)
	if err != nil {
		return err
	}
	m.WriteSessionCookie(ctx, rw, token, expiry)
	return nil
}

// endSession forgets the page session (after logout, or when its auth session has ended) and
// starts an anonymous one carrying only the flash message, if any.
func (w *Web) endSession(r *http.Request, kind, msg string) error {
	m := manager(r)
	if err := m.Destroy(r.Context()); err != nil {
		return err
	}
	if msg != "" {
		w.flash(r, kind, msg)
	}
	return nil
}

// loadPrincipal authenticates the auth session the page session points to and puts the
// principal in the request context. A session whose auth session has ended (logout elsewhere,
// password change, deactivation) is emptied. ok is false when a response was written.
func (w *Web) loadPrincipal(rw http.ResponseWriter, r *http.Request) (_ *http.Request, ok bool) {
	m := manager(r)
	ctx := r.Context()
	sid := m.GetString(ctx, keyAuthSession)
	if sid == "" {
		return r, true
	}
	p, err := w.auth.AuthenticateSession(ctx, sid)
	if err != nil {
		switch gatehouse.ErrorCode(err) {
		case gatehouse.EUnauthenticated, gatehouse.ENotFound, gatehouse.EForbidden:
			if err := w.endSession(r, flashInfo, "Your session has ended. Please sign in again."); err != nil {
				w.serverError(rw, r, err)
				return r, false
			}
			return r, true
		}
		w.serverError(rw, r, err)
		return r, false
	}
	logUser(r, p.User.ID)
	// The password prompt of this browser (/verify) counts as a re-authentication of the
	// session, as the sign-in does: the services judge freshness by p.AuthTime.
	if at := m.GetInt64(ctx, keyFreshAt); at != 0 && time.Unix(at, 0).After(p.AuthTime) {
		p.AuthTime = time.Unix(at, 0)
	}
	return r.WithContext(gatehouse.WithPrincipal(ctx, p)), true
}

// principal is the signed-in account of the request, or nil.
func principal(r *http.Request) *gatehouse.Principal { return gatehouse.PrincipalFrom(r.Context()) }

// fresh reports whether the password was proven recently enough (SECURITY_FRESHNESS) for a
// sensitive change.
func (w *Web) fresh(r *http.Request) bool {
	at := manager(r).GetInt64(r.Context(), keyFreshAt)
	return at != 0 && w.now().Sub(time.Unix(at, 0)) < w.freshness
}

// markFresh records that the password was just proven.
func (w *Web) markFresh(r *http.Request) { manager(r).Put(r.Context(), keyFreshAt, w.now().Unix()) }

// requireFresh sends the browser to the password prompt, to come back to next, unless the
// sign-in is fresh. It reports whether the caller may go on.
func (w *Web) requireFresh(rw http.ResponseWriter, r *http.Request, next string) bool {
	if w.fresh(r) {
		return true
	}
	http.Redirect(rw, r, "/verify?next="+urlQueryEscape(next), http.StatusSeeOther)
	return false
}

// Flash message kinds.
const (
	flashInfo    = "info"
	flashSuccess = "success"
	flashError   = "error"
)

type flash struct {
	Kind string `json:"k"`
	Text string `json:"t"`
}

// flash queues a message for the next page shown in this browser.
func (w *Web) flash(r *http.Request, kind, text string) {
	m := manager(r)
	var list []flash
	_ = json.Unmarshal([]byte(m.GetString(r.Context(), keyFlash)), &list)
	list = append(list, flash{Kind: kind, Text: text})
	b, err := json.Marshal(list)
	if err != nil { // strings only: cannot happen
		w.log.Error("flash message not kept", "error", err)
		return
	}
	m.Put(r.Context(), keyFlash, string(b))
}

// popFlashes returns and forgets the queued messages.
func (w *Web) popFlashes(r *http.Request) []flash {
	m := manager(r)
	if m == nil || !m.Exists(r.Context(), keyFlash) {
		return nil
	}
	var list []flash
	_ = json.Unmarshal([]byte(m.PopString(r.Context(), keyFlash)), &list)
	return list
}

// pendingLogin is a password login waiting for its second factor.
type pendingLogin struct {
	Challenge string    `json:"c"`
	Methods   []string  `json:"m"`
	ExpiresAt time.Time `json:"e"`
	Remember  bool      `json:"r"`
	Next      string    `json:"n"`
	EmailSent bool      `json:"s"`
}

func (w *Web) pending(r *http.Request) *pendingLogin {
	s := manager(r).GetString(r.Context(), keyPending)
	if s == "" {
		return nil
	}
	var p pendingLogin
	if json.Unmarshal([]byte(s), &p) != nil || !w.now().Before(p.ExpiresAt) {
		return nil
	}
	return &p
}

func (w *Web) setPending(r *http.Request, p *pendingLogin) {
	if p == nil {
		manager(r).Remove(r.Context(), keyPending)
		return
	}
	b, err := json.Marshal(p)
	if err != nil { // strings, a bool and a time: cannot happen
		w.log.Error("pending sign-in not kept", "error", err)
		return
	}
	manager(r).Put(r.Context(), keyPending, string(b))
}

// client describes the browser for throttling, tracking and audit, exactly as the API does.
func (w *Web) client(r *http.Request) auth.Client { return transport.Client(r, w.trusted) }

// secureRequest decides COOKIE_SECURE for this request.
func (w *Web) secureRequest(r *http.Request) bool {
	switch w.secure {
	case "true":
		return true
	case "false":
		return false
	}
	return w.overTLS(r)
}

// overTLS reports whether the browser reached us over TLS: directly, or through a trusted
// proxy that says so in X-Forwarded-Proto (its last value, the one the nearest proxy set).
func (w *Web) overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	proto := r.Header.Values("X-Forwarded-Proto")
	if len(proto) == 0 || !w.fromTrustedProxy(r) {
		return false
	}
	last := proto[len(proto)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.EqualFold(strings.TrimSpace(last), "https")
}

func (w *Web) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range w.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
