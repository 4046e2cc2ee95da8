package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/license"
)

type licenseFeature struct {
	Name        string `json:"name"`
	Entitled    bool   `json:"entitled"`
	Enabled     bool   `json:"enabled"`
	Units       int    `json:"units"`
	Description string `json:"description,omitzero"`
}

type licenseLimits struct {
	MaxServers        int `json:"max_servers"`
	MaxUsers          int `json:"max_users"`
	DataRetentionDays int `json:"data_retention_days"`
}

// licenseResponse is the license state as admins see it; the key is masked, never whole.
type licenseResponse struct {
	State              string           `json:"state"`
	Valid              bool             `json:"valid"`
	Tier               string           `json:"tier"`
	LicensedTier       string           `json:"licensed_tier,omitzero"`
	Customer           string           `json:"customer,omitzero"`
	SupportTier        string           `json:"support_tier,omitzero"`
	Product            string           `json:"product"`
	Key                string           `json:"key,omitzero"`
	ServerURL          string           `json:"server_url,omitzero"`
	ServerID           string           `json:"server_id,omitzero"`
	Features           []licenseFeature `json:"features"`
	Limits             *licenseLimits   `json:"limits,omitzero"`
	IssuedAt           time.Time        `json:"issued_at,omitzero"`
	ExpiresAt          time.Time        `json:"expires_at,omitzero"`
	LastCheck          time.Time        `json:"last_check,omitzero"`
	LastSuccess        time.Time        `json:"last_success,omitzero"`
	LastError          string           `json:"last_error,omitzero"`
	GraceUntil         time.Time        `json:"grace_until,omitzero"`
	LastKeepalive      time.Time        `json:"last_keepalive,omitzero"`
	LastKeepaliveError string           `json:"last_keepalive_error,omitzero"`
}

func licenseData(st license.Status) licenseResponse {
	out := licenseResponse{
		State: string(st.State), Valid: st.Valid, Tier: st.Tier, LicensedTier: st.LicensedTier, Customer: st.Customer,
		SupportTier: st.SupportTier, Product: st.Product, Key: st.Key, ServerURL: st.ServerURL, ServerID: st.ServerID,
		IssuedAt: st.IssuedAt, ExpiresAt: st.ExpiresAt, LastCheck: st.LastCheck, LastSuccess: st.LastSuccess,
		LastError: st.LastError, GraceUntil: st.GraceUntil, LastKeepalive: st.LastKeepalive, LastKeepaliveError: st.LastKeepaliveError,
		Features: make([]licenseFeature, len(st.Features)),
	}
	for i, f := range st.Features {
		out.Features[i] = licenseFeature{Name: f.Name, Entitled: f.Entitled, Enabled: f.Enabled, Units: f.Units, Description: f.Description}
	}
	if st.Limits != nil {
		out.Limits = &licenseLimits{MaxServers: st.Limits.MaxServers, MaxUsers: st.Limits.MaxUsers, DataRetentionDays: st.Limits.DataRetentionDays}
	}
	return out
}

func (s *server) handleLicense(w http.ResponseWriter, r *http.Request) error {
	st, err := s.users.License(r.Context(), gatehouse.PrincipalFrom(r.Context()))
	if err != nil {
		return err
	}
	return Respond(w, r, http.StatusOK, licenseData(st))
}
