package app

import (
	"context"
	"errors"

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

	offered := map[string]bool{}
	if a.SSO != nil {
		for _, p := range a.SSO.Providers(ctx) {
			offered[p.ID] = true
		}
	}
	for _, p := range a.Config.SSO.OIDC {
		r.SSO = append(r.SSO, web.SSOProviderState{Kind: "OIDC", Name: p.Name, Label: p.Label, Active: offered["oidc:"+p.Name]})
	}
	if saml := a.Config.SSO.SAML; saml.Enabled() {
		r.SSO = append(r.SSO, web.SSOProviderState{Kind: "SAML", Label: saml.Label, Active: offered["saml"]})
	}

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
