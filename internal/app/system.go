package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/token"
	"github.com/gatehousehq/gatehouse/internal/web"
)

// systemInfo reports the instance's state for the console's system page (web.SystemInfo).
type systemInfo struct{ a *App }

// SystemReport gathers the version, the database engine and its migrations, the configured
// single sign-on providers with whether the license lets the login page offer them, the signing
// keys and the configuration in force (secrets masked by config.Effective).
func (s systemInfo) SystemReport(ctx context.Context) (*web.SystemReport, error) {
	a := s.a
	r := &web.SystemReport{Version: a.version, Engine: a.Config.DB.Type}

	migrations, err := a.Store.MigrationStatus(ctx)
	if err != nil {
		return nil, err
	}
	sets := map[string]*web.MigrationSetState{}
	for _, m := range migrations {
		name := m.Set
		if name == "" {
			name = "gatehouse"
		}
		st := sets[name]
		if st == nil {
			r.Migrations = append(r.Migrations, web.MigrationSetState{Set: name})
			st = &r.Migrations[len(r.Migrations)-1]
			sets[name] = st
		}
		if m.Applied {
			st.Applied++
			st.Latest = max(st.Latest, m.Version)
		} else {
			st.Pending++
		}
	}

	r.SSO = s.SSOProviders(ctx)

	keys, err := a.Keys(ctx)
	switch {
	case errors.Is(err, errKeyFile):
		r.KeysNote = "The signing keys come from JWT_SIGNING_KEY_FILE; rotate them by editing that file."
	case err != nil:
		return nil, err
	}
	for _, k := range keys {
		r.Keys = append(r.Keys, web.SigningKeyState{KID: k.KID, Alg: k.Alg, State: k.State, CreatedAt: k.CreatedAt, ActivatesAt: k.ActivatesAt})
	}

	for _, c := range a.Config.Settings {
		r.Config = append(r.Config, web.ConfigSetting{Name: c.Name, Value: c.Value, Source: c.Source, Secret: c.Secret})
	}
	return r, nil
}

// SSOProviders lists the configured providers (OIDC in the configuration's order, then SAML),
// each marked active when the license lets the login page offer it.
func (s systemInfo) SSOProviders(ctx context.Context) []web.SSOProviderState {
	a := s.a
	offered := map[string]bool{}
	if a.SSO != nil {
		for _, p := range a.SSO.Providers(ctx) {
			offered[p.ID] = true
		}
	}
	var out []web.SSOProviderState
	for _, p := range a.Config.SSO.OIDC {
		id := "oidc:" + p.Name
		out = append(out, web.SSOProviderState{ID: id, Kind: "OIDC", Name: p.Name, Label: p.Label, Active: offered[id]})
	}
	if saml := a.Config.SSO.SAML; saml.Enabled() {
		out = append(out, web.SSOProviderState{ID: "saml", Kind: "SAML", Label: saml.Label, Active: offered["saml"]})
	}
	return out
}

// RotateSigningKey adds a key of JWT_SIGNING_ALG that signs after token.DefaultPublishDelay, as
// `gatehouse keys rotate` does, and records signing_key_added with the administrator as actor.
// Keys from JWT_SIGNING_KEY_FILE are refused (EConflict): that file is rotated by editing it.
func (s systemInfo) RotateSigningKey(ctx context.Context, actor *gatehouse.Principal, c auth.Client) (*web.SigningKeyState, error) {
	a := s.a
	k, err := a.RotateKey(ctx, "", token.DefaultPublishDelay)
	if errors.Is(err, errKeyFile) {
		return nil, gatehouse.Errorf(gatehouse.EConflict, "%s", err.Error())
	}
	if err != nil {
		return nil, err
	}
	id := actor.User.ID
	if err := a.Store.RecordAudit(ctx, gatehouse.AuditEvent{Event: gatehouse.AuditSigningKeyAdded, ActorID: &id, IP: c.IP, UserAgent: c.UserAgent,
		Detail: fmt.Sprintf("key %s (%s), signs from %s", k.ID, k.Alg, k.ActivatesAt.UTC().Format("2006-01-02 15:04:05 UTC"))}); err != nil {
		a.log.Error("signing key added, its audit event not recorded", "kid", k.ID, "error", err)
	}
	return &web.SigningKeyState{KID: k.ID, Alg: k.Alg, State: KeyNext, CreatedAt: k.CreatedAt, ActivatesAt: k.ActivatesAt}, nil
}
