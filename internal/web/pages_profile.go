package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
)

// profileData is everything the profile page shows.
type profileData struct {
	Roles          string
	Teams          []teamItem
	ChangePassword bool // SECURITY_CHANGEABLE, and the account has a password
	ChangeEmail    bool // SMTP is configured, the account has a password and no restriction
	// Username shows the username and its form (SECURITY_USERNAME_ENABLE, no restriction).
	Username         bool
	UsernameRequired bool
	UsernameHint     string
	Sessions         []sessionItem
	APIKeys          []apiKeyItem
	MoreAPIKeys      bool
	CanCreateKeys    bool     // the account's roles let it make API keys
	Scopes           []string // the scopes a new API key may have
	TwoFactor        *auth.TwoFactorState
	EmailCodes       bool // sign-in codes by email can be offered (SMTP)
	Fresh            bool
}

type teamItem struct {
	Name string
	Role string
}

type sessionItem struct {
	ID         string
	Current    bool
	Remember   bool
	IP         string
	UserAgent  string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

type apiKeyItem struct {
	ID         int64
	Name       string
	Prefix     string
	Scopes     string
	Status     string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
}

// profileKeysShown is how many API keys the profile lists.
const profileKeysShown = 50

// renderProfile loads what the profile shows and renders it with p's messages.
func (w *Web) renderProfile(rw http.ResponseWriter, r *http.Request, status int, p *page) {
	pr := principal(r)
	ctx := r.Context()
	d := profileData{Fresh: w.fresh(r), EmailCodes: w.mail}
	roles := make([]string, len(pr.User.Roles))
	for i, ro := range pr.User.Roles {
		roles[i] = string(ro)
	}
	d.Roles = strings.Join(roles, ", ")
	d.ChangePassword = w.auth.Options().Changeable && !pr.User.SSOOnly
	// An account that must change its password or set up a second factor first sees only that.
	restricted := auth.Gate(pr, auth.AccessFull) != nil
	d.ChangeEmail = w.auth.EmailChangeEnabled() && !pr.User.SSOOnly && !restricted
	d.Username, d.UsernameRequired, d.UsernameHint = w.auth.UsernamesEnabled() && !restricted, w.auth.UsernameRequired(), w.usernameHint()
	var err error
	if d.TwoFactor, err = w.auth.TwoFactorState(ctx, pr); err != nil {
		w.serverError(rw, r, err)
		return
	}
	if !restricted {
		teams, err := w.auth.MyTeams(ctx, pr)
		if err != nil {
			w.serverError(rw, r, err)
			return
		}
		for _, t := range teams {
			d.Teams = append(d.Teams, teamItem{Name: t.Team.Name, Role: string(t.Role)})
		}
		sessions, err := w.auth.Sessions(ctx, pr)
		if err != nil {
			w.serverError(rw, r, err)
			return
		}
		for _, s := range sessions {
			d.Sessions = append(d.Sessions, sessionItem{ID: s.ID, Current: s.ID == pr.SessionID, Remember: s.Remember,
				IP: s.IP, UserAgent: s.UserAgent, CreatedAt: s.CreatedAt, LastUsedAt: s.LastUsedAt})
		}
		keys, err := w.auth.APIKeys(ctx, pr, nil, profileKeysShown)
		if err != nil && gatehouse.ErrorCode(err) != gatehouse.EForbidden {
			w.serverError(rw, r, err)
			return
		}
		more := len(keys) > profileKeysShown
		keys = keys[:min(len(keys), profileKeysShown)]
		for _, k := range keys {
			d.APIKeys = append(d.APIKeys, apiKeyItem{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: gatehouse.FormatScopes(k.Scopes),
				Status: w.auth.APIKeyStatus(pr.User, k), CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt})
		}
		d.MoreAPIKeys = more
		d.CanCreateKeys = w.auth.MayCreateAPIKeys(pr)
		for _, s := range pr.Scopes {
			d.Scopes = append(d.Scopes, string(s))
		}
	}
	p.Title = "Your account"
	p.Data = d
	w.render(rw, r, status, "profile", p)
}

// failProfile shows err in the named form of the profile.
func (w *Web) failProfile(rw http.ResponseWriter, r *http.Request, form string, err error) {
	p := &page{Form: form}
	if status, ok := w.describe(rw, r, p, err); ok {
		w.renderProfile(rw, r, status, p)
	}
}

func (w *Web) handleProfile(rw http.ResponseWriter, r *http.Request) {
	w.renderProfile(rw, r, http.StatusOK, &page{})
}

// changePassword is the change of the profile and of the must-change page: the current
// password proves freshness by itself. The service ends every session, this one included,
// and opens a new one, which the page session then points to.
func (w *Web) changePassword(rw http.ResponseWriter, r *http.Request) (*page, error) {
	p := &page{Form: "password"}
	next := r.PostFormValue("new_password")
	if !passwordsMatch(p, next, r.PostFormValue("confirm_password"), "confirm_password") {
		return p, nil
	}
	pair, err := w.auth.ChangePassword(r.Context(), principal(r), r.PostFormValue("current_password"), next, w.client(r))
	if err != nil {
		return p, err
	}
	remember := manager(r).GetBool(r.Context(), "__rememberMe")
	if err := w.EstablishSession(rw, r, pair, remember); err != nil {
		return p, gatehouse.Wrap(gatehouse.EInternal, err, "page session")
	}
	return nil, nil
}

func (w *Web) handleProfilePassword(rw http.ResponseWriter, r *http.Request) {
	p, err := w.changePassword(rw, r)
	switch {
	case err != nil:
		w.failProfile(rw, r, "password", err)
	case p != nil:
		w.renderProfile(rw, r, http.StatusBadRequest, p)
	default:
		w.flash(r, flashSuccess, "Your password has been changed. Your other sessions have been signed out.")
		http.Redirect(rw, r, "/profile#password", http.StatusSeeOther)
	}
}

func (w *Web) handleMustChangeForm(rw http.ResponseWriter, r *http.Request) {
	if !principal(r).User.MustChangePassword {
		http.Redirect(rw, r, "/profile#password", http.StatusSeeOther)
		return
	}
	w.render(rw, r, http.StatusOK, "change_password", &page{Title: "Change your password"})
}

func (w *Web) handleMustChange(rw http.ResponseWriter, r *http.Request) {
	p, err := w.changePassword(rw, r)
	switch {
	case err != nil:
		w.fail(rw, r, "change_password", &page{Title: "Change your password"}, err)
	case p != nil:
		p.Title = "Change your password"
		w.render(rw, r, http.StatusBadRequest, "change_password", p)
	default:
		w.flash(r, flashSuccess, "Your password has been changed.")
		http.Redirect(rw, r, defaultNext, http.StatusSeeOther)
	}
}

func (w *Web) handleVerifyForm(rw http.ResponseWriter, r *http.Request) {
	w.render(rw, r, http.StatusOK, "verify", &page{Title: "Confirm your password", Next: safeNext(r.URL.Query().Get("next")), Data: w.verifyByEmail(r)})
}

func (w *Web) handleVerify(rw http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	if err := w.auth.VerifyPassword(r.Context(), principal(r), r.PostFormValue("password"), w.client(r)); err != nil {
		w.fail(rw, r, "verify", &page{Title: "Confirm your password", Next: next, Data: w.verifyByEmail(r)}, err)
		return
	}
	w.markFresh(r)
	http.Redirect(rw, r, nextOr(next, defaultNext), http.StatusSeeOther)
}

func (w *Web) handleSessionRevoke(rw http.ResponseWriter, r *http.Request) {
	pr := principal(r)
	id := r.PathValue("id")
	if err := w.auth.RevokeSession(r.Context(), pr, id, w.client(r)); err != nil {
		w.failProfile(rw, r, "sessions", err)
		return
	}
	if id == pr.SessionID {
		if err := w.endSession(r, flashSuccess, "You have signed out."); err != nil {
			w.serverError(rw, r, err)
			return
		}
		http.Redirect(rw, r, "/login", http.StatusSeeOther)
		return
	}
	w.flash(r, flashSuccess, "The session has been signed out.")
	http.Redirect(rw, r, "/profile#sessions", http.StatusSeeOther)
}

// handleSessionsRevokeAll is "sign out everywhere": every session and API key of the account
// ends (the security stamp changes), this browser's too.
func (w *Web) handleSessionsRevokeAll(rw http.ResponseWriter, r *http.Request) {
	if err := w.auth.LogoutAll(r.Context(), principal(r), w.client(r)); err != nil {
		w.failProfile(rw, r, "sessions", err)
		return
	}
	if err := w.endSession(r, flashSuccess, "You have been signed out everywhere."); err != nil {
		w.serverError(rw, r, err)
		return
	}
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}

// apiKeyLifetimes are the expiry choices of the API key form, in days (0: never).
var apiKeyLifetimes = map[string]int{"30": 30, "90": 90, "365": 365, "never": 0}

type apiKeyCreated struct {
	Name   string
	Secret string
	Scopes string
	Expiry string
}

func (w *Web) handleAPIKeyCreate(rw http.ResponseWriter, r *http.Request) {
	// A new key is a credential change: a stale sign-in proves the password again first (the
	// service refuses it otherwise, see auth/fresh.go).
	if !w.requireFresh(rw, r, "/profile#api-keys") {
		return
	}
	if err := r.ParseForm(); err != nil {
		w.failProfile(rw, r, "api-keys", gatehouse.FieldError("name", "could not be read"))
		return
	}
	in := auth.APIKeyInput{Name: r.PostFormValue("name"), Scopes: r.PostForm["scopes"]}
	days, ok := apiKeyLifetimes[r.PostFormValue("expires")]
	if !ok {
		w.failProfile(rw, r, "api-keys", gatehouse.FieldError("expires_at", "must be one of the choices offered"))
		return
	}
	if days > 0 {
		t := w.now().Add(time.Duration(days) * 24 * time.Hour)
		in.ExpiresAt = &t
	}
	k, secret, err := w.auth.CreateAPIKey(r.Context(), principal(r), in, w.client(r))
	if err != nil {
		w.failProfile(rw, r, "api-keys", err)
		return
	}
	expiry := "Never expires"
	if k.ExpiresAt != nil {
		expiry = "Expires " + formatTime(*k.ExpiresAt)
	}
	// The secret is shown this once, on a page that is never cached.
	w.render(rw, r, http.StatusCreated, "api_key_created", &page{Title: "API key created",
		Data: apiKeyCreated{Name: k.Name, Secret: secret, Scopes: gatehouse.FormatScopes(k.Scopes), Expiry: expiry}})
}

func (w *Web) handleAPIKeyRevoke(rw http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		w.failProfile(rw, r, "api-keys", gatehouse.Errorf(gatehouse.ENotFound, "no such API key"))
		return
	}
	if err := w.auth.RevokeAPIKey(r.Context(), principal(r), id, w.client(r)); err != nil {
		w.failProfile(rw, r, "api-keys", err)
		return
	}
	w.flash(r, flashSuccess, "The API key has been revoked.")
	http.Redirect(rw, r, "/profile#api-keys", http.StatusSeeOther)
}
