package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehousehq/gatehouse"
)

// SSO configures single sign-on (internal/sso): OpenID Connect providers and one SAML identity
// provider, and how their users become accounts. SSO is a licensed feature: what is configured
// here only takes effect while the license grants sso_oauth (OIDC) or sso_saml (SAML).
type SSO struct {
	// DefaultRole is SSO_DEFAULT_ROLE: the global role of an account created by an SSO sign-in
	// when no role rule of RoleMapping matches.
	DefaultRole gatehouse.Role
	// RoleMapping is SSO_ROLE_MAPPING, parsed.
	RoleMapping []RoleRule
	// OIDC is SSO_OIDC_PROVIDERS (or the file SSO_OIDC_PROVIDERS_FILE names), parsed.
	OIDC []OIDCProvider
	SAML SAML
}

// OIDCProvider is one OpenID Connect provider.
type OIDCProvider struct {
	// Name identifies the provider in URLs (/sso/oidc/{name}/login) and in linked identities
	// ("oidc:{name}"): lower-case letters, digits, - and _.
	Name string `json:"name"`
	// Issuer is the provider's issuer URL; discovery reads {Issuer}/.well-known/openid-configuration.
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	// ClientSecretFile names the file holding the client secret. Empty: a public client (PKCE only).
	ClientSecretFile string `json:"client_secret_file"`
	// ClientSecret is the content of ClientSecretFile, read when the configuration is loaded.
	ClientSecret string `json:"-"`
	// Scopes requested; "openid" is always included. Default: openid, email, profile.
	Scopes []string `json:"scopes"`
	// Label is the text of the sign-in button. Default: "Sign in with {Name}".
	Label string `json:"label"`
	// TrustEmail trusts the provider's email addresses: they count as verified even without an
	// email_verified claim, and a first sign-in is linked to the existing account with the
	// address (never to an admin account). Off (the default): a first sign-in with a verified
	// address may create an account, but is never linked to an existing one; an administrator
	// links it. Only for providers that only hand out addresses they control.
	TrustEmail bool `json:"trust_email"`
	// GroupsClaim names the ID token claim with the user's groups, for SSO_ROLE_MAPPING.
	// Default "groups".
	GroupsClaim string `json:"groups_claim"`
}

// SAML configures the SAML 2.0 service provider. It is on when IDPMetadataURL or
// IDPMetadataFile is set.
type SAML struct {
	IDPMetadataURL  string // SAML_IDP_METADATA_URL
	IDPMetadataFile string // SAML_IDP_METADATA_FILE
	// EntityID is SAML_SP_ENTITY_ID; default PUBLIC_URL + "/sso/saml/metadata".
	EntityID string
	// SPKeyFile and SPCertFile hold the SP's RSA key and certificate (PEM); empty: generated at
	// first start and stored in the database.
	SPKeyFile  string
	SPCertFile string
	// Label is the text of the sign-in button.
	Label string
	// EmailAttribute and GroupsAttribute name the assertion attributes (Name or FriendlyName)
	// with the email address and the groups. Empty: the common names are tried.
	EmailAttribute  string
	GroupsAttribute string
	// EmailVerified is SAML_EMAIL_VERIFIED (default off): the IdP's email addresses count as
	// verified, so a first sign-in may create an account or link to the one with the same
	// address (never to an admin account).
	EmailVerified bool
}

// Enabled reports whether a SAML identity provider is configured.
func (s SAML) Enabled() bool { return s.IDPMetadataURL != "" || s.IDPMetadataFile != "" }

// RoleRule is one rule of SSO_ROLE_MAPPING: members of Group (at Provider, or at any provider
// when Provider is empty) get the global role Role, or the team role TeamRole in a team.
type RoleRule struct {
	Provider string // "" (any), "saml" or an OIDC provider name
	Group    string
	Role     gatehouse.Role // set for a global-role rule
	TeamID   int64          // the team of a team rule, by id …
	TeamName string         // … or by its exact name
	TeamRole gatehouse.TeamRole
}

// IsTeam reports whether r grants a team membership rather than a global role.
func (r RoleRule) IsTeam() bool { return r.TeamRole != "" }

// DefaultSSO returns the SSO defaults.
func DefaultSSO() SSO {
	return SSO{DefaultRole: gatehouse.RoleViewer, SAML: SAML{Label: "Sign in with SAML single sign-on"}}
}

var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// parseOIDCProviders parses SSO_OIDC_PROVIDERS: a JSON array of providers. It reads each
// client secret file, so that a missing or unreadable one is reported at start.
func parseOIDCProviders(v string) ([]OIDCProvider, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(v)))
	dec.DisallowUnknownFields()
	var ps []OIDCProvider
	if err := dec.Decode(&ps); err != nil {
		return nil, accepts(`a JSON array of providers such as [{"name":"corp","issuer":"https://idp.example.com","client_id":"gatehouse","client_secret_file":"/run/secrets/corp"}] (` + jsonProblem(err) + `)`)
	}
	if dec.More() {
		return nil, accepts("one JSON array of providers, with nothing after it")
	}
	seen := map[string]bool{}
	for i := range ps {
		p := &ps[i]
		at := fmt.Sprintf("provider %d", i+1)
		if p.Name != "" {
			at = fmt.Sprintf("provider %q", p.Name)
		}
		if !providerName.MatchString(p.Name) {
			return nil, accepts(at + ": name must be 1 to 32 lower-case letters, digits, - or _, starting with a letter or digit")
		}
		if seen[p.Name] {
			return nil, accepts(at + ": names must be unique")
		}
		if p.Name == "saml" {
			// SSO_ROLE_MAPPING's [saml] names the SAML provider; an OIDC provider of that name
			// would make its rules apply to both.
			return nil, accepts(at + ": the name saml is reserved for the SAML provider")
		}
		seen[p.Name] = true
		if err := checkIssuer(p.Issuer); err != nil {
			return nil, accepts(at + ": issuer " + err.Error())
		}
		if strings.TrimSpace(p.ClientID) == "" {
			return nil, accepts(at + ": client_id is required")
		}
		if p.ClientSecretFile != "" {
			b, err := os.ReadFile(p.ClientSecretFile) // #nosec G304 -- the operator names the secret file
			if err != nil {
				why := err.Error()
				if inner := errors.Unwrap(err); inner != nil {
					why = inner.Error() // without the path, which the operator knows
				}
				return nil, accepts(at + ": client_secret_file must be a readable file (" + why + ")")
			}
			p.ClientSecret = strings.TrimRight(string(b), "\r\n")
			if p.ClientSecret == "" {
				return nil, accepts(at + ": client_secret_file is empty")
			}
		}
		if len(p.Scopes) == 0 {
			p.Scopes = []string{"openid", "email", "profile"}
		}
		for _, sc := range p.Scopes {
			if sc == "" || strings.ContainsAny(sc, " \t\r\n\"") {
				return nil, accepts(at + fmt.Sprintf(": scope %q is not a scope name", sc))
			}
		}
		if !slices.Contains(p.Scopes, "openid") {
			p.Scopes = append([]string{"openid"}, p.Scopes...)
		}
		p.Label = strings.TrimSpace(p.Label)
		if p.Label == "" {
			p.Label = "Sign in with " + p.Name
		}
		if len(p.Label) > 100 || strings.ContainsAny(p.Label, "\r\n") {
			return nil, accepts(at + ": label must be one line of at most 100 characters")
		}
		if p.GroupsClaim == "" {
			p.GroupsClaim = "groups"
		}
	}
	return ps, nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	return err.Error()
}

// checkIssuer accepts https URLs, and http ones only on the loopback interface (development and
// tests): discovery and the token exchange carry the client secret and the tokens.
func checkIssuer(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return errors.New("is required")
	case err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return errors.New("must be an absolute URL without credentials, query or fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
		return nil
	}
	return errors.New("must be an https URL (http only on the loopback interface)")
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// ParseRoleMapping parses SSO_ROLE_MAPPING. Rules are separated by ";" or new lines (or by
// commas when the value has neither, as in "admins=admin,staff=viewer"); each rule is
// "[provider]group=target", split at its last "=" so that group names may contain "=" and commas
// (LDAP distinguished names). The optional [provider] limits the rule to "saml" or one OIDC
// provider. target is a global role (admin, maintainer, viewer) or "team:TEAM:ROLE", where TEAM
// is a team id or exact name and ROLE a team role (owner, admin, member, viewer).
func ParseRoleMapping(v string) ([]RoleRule, error) {
	sep := func(r rune) bool { return r == ';' || r == '\n' }
	if !strings.ContainsAny(v, ";\n") {
		sep = func(r rune) bool { return r == ',' }
	}
	var rules []RoleRule
	for _, raw := range strings.FieldsFunc(v, sep) {
		item := strings.TrimSpace(raw)
		if item == "" {
			continue
		}
		r, err := parseRoleRule(item)
		if err != nil {
			hint := ""
			if !strings.ContainsAny(v, ";\n") && strings.Count(v, "=") > 1 {
				hint = "; separate rules with ; when group names contain commas"
			}
			return nil, accepts(fmt.Sprintf("rules such as admins=admin;[corp]devs=team:Engineering:member (rule %q: %s%s)", item, err, hint))
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func parseRoleRule(item string) (RoleRule, error) {
	var r RoleRule
	if strings.HasPrefix(item, "[") {
		end := strings.Index(item, "]")
		if end < 0 {
			return r, errors.New("[provider] is not closed")
		}
		r.Provider = item[1:end]
		if r.Provider != "saml" && !providerName.MatchString(r.Provider) {
			return r, fmt.Errorf("%q is not a provider name", r.Provider)
		}
		item = item[end+1:]
	}
	eq := strings.LastIndex(item, "=")
	if eq < 0 {
		return r, errors.New("expected group=target")
	}
	r.Group, item = strings.TrimSpace(item[:eq]), strings.TrimSpace(item[eq+1:])
	if r.Group == "" {
		return r, errors.New("the group is empty")
	}
	if rest, ok := strings.CutPrefix(item, "team:"); ok {
		i := strings.LastIndex(rest, ":")
		if i <= 0 {
			return r, errors.New("a team target is team:TEAM:ROLE")
		}
		team, role := rest[:i], gatehouse.TeamRole(rest[i+1:])
		if !role.Valid() {
			return r, fmt.Errorf("%q is not a team role (owner, admin, member, viewer)", role)
		}
		r.TeamRole = role
		if id, err := strconv.ParseInt(team, 10, 64); err == nil && id > 0 {
			r.TeamID = id
		} else {
			r.TeamName = team
		}
		return r, nil
	}
	r.Role = gatehouse.Role(item)
	if !r.Role.Valid() {
		return r, fmt.Errorf("%q is not a role (admin, maintainer, viewer) or team:TEAM:ROLE", item)
	}
	return r, nil
}

// finishSSO derives the SAML entity id from PUBLIC_URL and checks the SSO variables together.
func (c *Config) finishSSO() []Problem {
	var problems []Problem
	s := &c.SSO
	if s.SAML.IDPMetadataURL != "" && s.SAML.IDPMetadataFile != "" {
		problems = append(problems, Problem{Var: "SAML_IDP_METADATA_URL", Value: s.SAML.IDPMetadataURL, Accepts: "either SAML_IDP_METADATA_URL or SAML_IDP_METADATA_FILE, not both"})
	}
	if (s.SAML.SPKeyFile == "") != (s.SAML.SPCertFile == "") {
		problems = append(problems, Problem{Var: "SAML_SP_KEY_FILE", Value: s.SAML.SPKeyFile, Accepts: "SAML_SP_KEY_FILE and SAML_SP_CERT_FILE set together, or neither"})
	}
	if s.SAML.EntityID == "" {
		s.SAML.EntityID = strings.TrimRight(c.PublicURL, "/") + "/sso/saml/metadata"
	}
	names := map[string]bool{"saml": true}
	for _, p := range s.OIDC {
		names[p.Name] = true
	}
	for _, r := range s.RoleMapping {
		if r.Provider != "" && !names[r.Provider] {
			problems = append(problems, Problem{Var: "SSO_ROLE_MAPPING", Value: "[" + r.Provider + "]" + r.Group,
				Accepts: "rules whose [provider] is saml or a provider of SSO_OIDC_PROVIDERS"})
			break
		}
	}
	return problems
}
