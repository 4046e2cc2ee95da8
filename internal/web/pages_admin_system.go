package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/license"
)

// The console's system page: the running version, the database and its migrations, the
// license, the single sign-on providers, the signing keys and the configuration in force with
// every secret masked. internal/app assembles the report (SystemInfo); the license comes
// through the users service, which decides license.read as the API does.

// SystemInfo reports the instance's state for the system page, and acts on it for the console.
type SystemInfo interface {
	SystemReport(ctx context.Context) (*SystemReport, error)
	// SSOProviders lists the configured sign-in providers (for linking an identity by hand).
	SSOProviders(ctx context.Context) []SSOProviderState
	// RotateSigningKey adds a signing key that signs after the publication delay, with its
	// audit event naming the actor.
	RotateSigningKey(ctx context.Context, actor *gatehouse.Principal, c auth.Client) (*SigningKeyState, error)
}

// SystemReport is what the system page shows besides the license.
type SystemReport struct {
	Version string
	// Engine is DB_TYPE; Migrations the applied and pending migrations of each set.
	Engine     string
	Migrations []MigrationSetState
	SSO        []SSOProviderState
	// Keys are the stored signing keys; KeysNote explains an empty list (keys from a file).
	Keys     []SigningKeyState
	KeysNote string
	Config   []ConfigSetting
}

// MigrationSetState is one migration set: Gatehouse's own ("gatehouse"), or a host program's.
type MigrationSetState struct {
	Set              string
	Latest           int64 // the newest applied version
	Applied, Pending int
}

// SSOProviderState is a configured sign-in provider and whether it is offered now.
type SSOProviderState struct {
	// ID is the provider as identities name it: "oidc:<name>" or "saml".
	ID                string
	Kind, Name, Label string
	// Active: the license grants its feature, so the login page offers it.
	Active bool
}

// SigningKeyState is one stored JWT signing key.
type SigningKeyState struct {
	KID, Alg, State string
	CreatedAt       time.Time
	ActivatesAt     time.Time
}

// ConfigSetting is one variable of the configuration in force (secrets masked).
type ConfigSetting struct {
	Name, Value, Source string
	Secret              bool
}

// adminSystemData is the system page.
type adminSystemData struct {
	*SystemReport
	License *license.Status
	// LicenseNote explains a missing license status (no license client configured).
	LicenseNote string
}

func (w *Web) handleAdminSystem(rw http.ResponseWriter, r *http.Request) {
	if w.system == nil {
		w.notFound(rw, r)
		return
	}
	d := &adminSystemData{}
	st, err := w.users.License(r.Context(), principal(r))
	switch {
	case err == nil:
		d.License = &st
	case gatehouse.ErrorCode(err) == gatehouse.EUnavailable:
		d.LicenseNote = sentence(gatehouse.ErrorMessage(err))
	default:
		w.serverError(rw, r, err)
		return
	}
	if d.SystemReport, err = w.system.SystemReport(r.Context()); err != nil {
		w.serverError(rw, r, err)
		return
	}
	w.render(rw, r, http.StatusOK, "admin_system", &page{Title: "System", Data: d})
}

// handleAdminRotateKey adds a signing key (as `gatehouse keys rotate` does), after a fresh
// sign-in: every instance publishes it within 30 seconds and signs with it after the delay.
func (w *Web) handleAdminRotateKey(rw http.ResponseWriter, r *http.Request) {
	if w.system == nil {
		w.notFound(rw, r)
		return
	}
	if !w.requireFresh(rw, r, adminSystemPath) {
		return
	}
	k, err := w.system.RotateSigningKey(r.Context(), principal(r), w.client(r))
	switch {
	case err == nil:
		w.flash(r, flashSuccess, "A new "+k.Alg+" key "+k.KID+" is published now and signs from "+formatTime(k.ActivatesAt)+
			"; the current key goes on verifying the tokens it signed.")
	case gatehouse.ErrorCode(err) == gatehouse.EInvalid || gatehouse.ErrorCode(err) == gatehouse.EConflict:
		w.flash(r, flashError, sentence(gatehouse.ErrorMessage(err)))
	default:
		w.serverError(rw, r, err)
		return
	}
	http.Redirect(rw, r, adminSystemPath+"#keys", http.StatusSeeOther)
}

const adminSystemPath = "/admin/system"
