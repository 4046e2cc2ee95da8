package transport

import (
	"slices"

	"github.com/gatehousehq/gatehouse/rest"
)

// Body limits of the table, beside the routes they bound. 0 in a route keeps its chain's default:
// the API server's body limit (1 MiB unless changed), or 64 KiB for a form post of the pages (the
// largest form, a security key's registration, is a few kilobytes).
const (
	credentials = 16 << 10  // credentials, tokens, codes, a user's short fields: nothing legitimate is bigger
	teamDoc     = 64 << 10  // a team or project: a name and a description
	ceremony    = 64 << 10  // a WebAuthn attestation or assertion: far more than any real authenticator sends, still a bound on what an attacker makes us parse
	ssoAdmin    = 4 << 10   // a flag, or a provider and a subject
	samlPost    = 512 << 10 // a signed, possibly encrypted SAML response with its attributes
)

// Who may use a route (rest.AuthMode), shortened so that each route stays on one line.
const (
	public   = rest.Public
	signedIn = rest.Authenticated
	// mayChangePassword also lets in an account that must change its password first: the few
	// routes that let it (me, the change itself, logout) and, on the pages, the change page.
	mayChangePassword = rest.AuthenticatedMayChangePassword
	// optional reads a token when one is sent, of any account, and works without.
	optional = rest.OptionalAuthMayChangePassword
	// twoFactorSetup also lets in an account that must set up a second factor first.
	twoFactorSetup = rest.AuthenticatedTwoFactorSetup
)

// table is Gatehouse's whole URL surface, grouped by surface and chain. Each route's handler is
// bound where it is written (internal/httpapi/routes.go, internal/web/routes.go,
// internal/sso/routes.go); a route is added here first, and Bind refuses a handler for a route
// that is not here. Host applications' API routes (rest.Route through httpapi.WithRoutes) join
// the surface beside these.
var table = slices.Concat(
	chain(API,
		// Operations: unversioned, so that load balancer and orchestrator probes never change.
		// /metrics exposes no account data but does reveal traffic shape; keep it off the public
		// listener or behind the proxy's access rules.
		Route{Pattern: "GET /healthz"},
		Route{Pattern: "GET /readyz"},
		Route{Pattern: "GET /metrics"},
		Route{Pattern: "GET /.well-known/jwks.json"},

		// API v1: the service. Anyone may ask the version; an admin's token adds the build.
		Route{Pattern: "GET /api/v1/health"},
		Route{Pattern: "GET /api/v1/ready"},
		Route{Pattern: "GET /api/v1/version", Auth: optional},
		// The OpenAPI 3.1 document of the version: the bare document, not the envelope.
		Route{Pattern: "GET /api/v1/openapi.json"},
		Route{Pattern: "GET /api/v1/openapi.yaml"},

		// API v1: signing in and out, registration, confirmation, recovery (Flask-Security-Too's
		// flows as a JSON API). One-time tokens are consumed by POST only.
		Route{Pattern: "POST /api/v1/auth/register", BodyLimit: credentials},
		Route{Pattern: "POST /api/v1/auth/confirm", BodyLimit: credentials},
		Route{Pattern: "POST /api/v1/auth/confirm/resend", BodyLimit: credentials},
		Route{Pattern: "POST /api/v1/auth/login", BodyLimit: credentials},
		Route{Pattern: "POST /api/v1/auth/login/2fa", BodyLimit: ceremony},
		Route{Pattern: "POST /api/v1/auth/login/2fa/email-code", BodyLimit: credentials},
		Route{Pattern: "POST /api/v1/auth/login/2fa/webauthn/options", BodyLimit: credentials},
		// Passkeys and authenticator codes as the first factor (SECURITY_WAN_ALLOW_AS_FIRST_FACTOR,
		// SECURITY_PASSWORDLESS_AUTHENTICATOR).
		Route{Pattern: "POST /api/v1/auth/login/passkey/options", BodyLimit: credentials},
		Route{Pattern: "POST /api/v1/auth/login/passkey", BodyLimit: ceremony},
		Route{Pattern: "POST /api/v1/auth/login/authenticator", BodyLimit: credentials},
		// Sign-in by emailed code or link (SECURITY_PASSWORDLESS_EMAIL).
		Route{Pattern: "POST /api/v1/auth/login/email-code", BodyLimit: credentials},
		Route{Pattern: "POST /api/v1/auth/login/email-code/verify", BodyLimit: credentials},
		Route{Pattern: "POST /api/v1/auth/refresh", BodyLimit: credentials},
		Route{Pattern: "POST /api/v1/auth/logout", BodyLimit: credentials, Auth: optional},
		Route{Pattern: "POST /api/v1/auth/logout-all", BodyLimit: credentials, Auth: mayChangePassword},
		Route{Pattern: "POST /api/v1/auth/reauth", BodyLimit: credentials, Auth: twoFactorSetup},
		Route{Pattern: "POST /api/v1/auth/password/change", BodyLimit: credentials, Auth: mayChangePassword},
		Route{Pattern: "POST /api/v1/auth/password/forgot", BodyLimit: credentials},
		Route{Pattern: "POST /api/v1/auth/password/reset", BodyLimit: credentials},
		// Username recovery by email (SECURITY_USERNAME_RECOVERY).
		Route{Pattern: "POST /api/v1/auth/username/recover", BodyLimit: credentials},
		// No bearer: the mailed token is the proof, and every session has ended by the time it is
		// used on another device.
		Route{Pattern: "POST /api/v1/auth/email/confirm", BodyLimit: credentials},
		Route{Pattern: "GET /api/v1/auth/sessions", Auth: signedIn},
		Route{Pattern: "DELETE /api/v1/auth/sessions/{id}", Auth: signedIn},

		// API v1: your own account, its second factors and its API keys.
		Route{Pattern: "GET /api/v1/me", Auth: mayChangePassword, Action: "me.read"},
		Route{Pattern: "PATCH /api/v1/me", BodyLimit: credentials, Auth: signedIn, Action: "me.update"},
		Route{Pattern: "POST /api/v1/me/email", BodyLimit: credentials, Auth: signedIn},
		// The owner's username (SECURITY_USERNAME_ENABLE): a sign-in identifier, changed under the
		// rules of credential changes like the address, so no action of its own (see auth).
		Route{Pattern: "POST /api/v1/me/username", BodyLimit: credentials, Auth: signedIn},
		Route{Pattern: "GET /api/v1/me/2fa", Auth: twoFactorSetup, Action: "me.read"},
		Route{Pattern: "POST /api/v1/me/2fa/totp", BodyLimit: credentials, Auth: twoFactorSetup},
		Route{Pattern: "POST /api/v1/me/2fa/totp/confirm", BodyLimit: credentials, Auth: twoFactorSetup},
		Route{Pattern: "DELETE /api/v1/me/2fa/totp", BodyLimit: credentials, Auth: twoFactorSetup},
		Route{Pattern: "POST /api/v1/me/2fa/recovery-codes", BodyLimit: credentials, Auth: twoFactorSetup},
		Route{Pattern: "POST /api/v1/me/2fa/email", BodyLimit: credentials, Auth: twoFactorSetup},
		Route{Pattern: "DELETE /api/v1/me/2fa/email", BodyLimit: credentials, Auth: twoFactorSetup},
		Route{Pattern: "POST /api/v1/me/2fa/webauthn/register/options", BodyLimit: credentials, Auth: twoFactorSetup},
		Route{Pattern: "POST /api/v1/me/2fa/webauthn/passkeys/register/options", BodyLimit: credentials, Auth: twoFactorSetup},
		Route{Pattern: "POST /api/v1/me/2fa/webauthn/register", BodyLimit: ceremony, Auth: twoFactorSetup},
		Route{Pattern: "GET /api/v1/me/2fa/webauthn", Auth: twoFactorSetup, Action: "me.read"},
		Route{Pattern: "PATCH /api/v1/me/2fa/webauthn/{id}", BodyLimit: credentials, Auth: twoFactorSetup},
		Route{Pattern: "DELETE /api/v1/me/2fa/webauthn/{id}", BodyLimit: credentials, Auth: twoFactorSetup},
		Route{Pattern: "POST /api/v1/api-keys", BodyLimit: credentials, Auth: signedIn, Action: "api_keys.create"},
		Route{Pattern: "GET /api/v1/api-keys", Auth: signedIn, Action: "api_keys.list"},
		Route{Pattern: "DELETE /api/v1/api-keys/{id}", Auth: signedIn, Action: "api_keys.revoke"},

		// API v1: user administration, single sign-on state included (not license-gated, so that
		// an administrator can let SSO-only users back in with a password while SSO is off).
		Route{Pattern: "GET /api/v1/users", Auth: signedIn, Action: "users.list"},
		Route{Pattern: "POST /api/v1/users", BodyLimit: credentials, Auth: signedIn, Action: "users.create"},
		Route{Pattern: "GET /api/v1/users/{user_id}", Auth: signedIn, Action: "users.read"},
		Route{Pattern: "PATCH /api/v1/users/{user_id}", BodyLimit: credentials, Auth: signedIn, Action: "users.update"},
		Route{Pattern: "DELETE /api/v1/users/{user_id}", Auth: signedIn, Action: "users.delete"},
		Route{Pattern: "POST /api/v1/users/{user_id}/reset-access", BodyLimit: credentials, Auth: signedIn, Action: "users.reset_access"},
		Route{Pattern: "POST /api/v1/users/{user_id}/unlock", BodyLimit: credentials, Auth: signedIn, Action: "users.unlock"},
		Route{Pattern: "POST /api/v1/users/{user_id}/2fa/reset", BodyLimit: credentials, Auth: signedIn, Action: "users.reset_two_factor"},
		Route{Pattern: "GET /api/v1/users/{user_id}/sso", Auth: signedIn, Action: "users.read"},
		Route{Pattern: "PUT /api/v1/users/{user_id}/sso", BodyLimit: ssoAdmin, Auth: signedIn, Action: "users.update"},
		Route{Pattern: "POST /api/v1/users/{user_id}/sso/identities", BodyLimit: ssoAdmin, Auth: signedIn, Action: "users.update"},
		Route{Pattern: "DELETE /api/v1/users/{user_id}/sso/identities/{identity_id}", Auth: signedIn, Action: "users.update"},

		// API v1: teams, their members, projects (the example of a team-owned resource) and
		// invitations. Where the role given or taken is owner or admin, the action is the
		// _privileged one of rbac; the route names the other.
		Route{Pattern: "POST /api/v1/teams", BodyLimit: teamDoc, Auth: signedIn, Action: "teams.create"},
		Route{Pattern: "GET /api/v1/teams", Auth: signedIn, Action: "teams.list"}, // teams.list_all for every team
		Route{Pattern: "GET /api/v1/teams/{id}", Auth: signedIn, Action: "teams.read"},
		Route{Pattern: "PATCH /api/v1/teams/{id}", BodyLimit: teamDoc, Auth: signedIn, Action: "teams.update"},
		Route{Pattern: "DELETE /api/v1/teams/{id}", Auth: signedIn, Action: "teams.delete"},
		Route{Pattern: "POST /api/v1/teams/{id}/leave", Auth: signedIn, Action: "teams.leave"},
		Route{Pattern: "GET /api/v1/teams/{id}/members", Auth: signedIn, Action: "members.list"},
		Route{Pattern: "GET /api/v1/teams/{id}/members/{user_id}", Auth: signedIn, Action: "members.read"},
		Route{Pattern: "PUT /api/v1/teams/{id}/members/{user_id}", BodyLimit: teamDoc, Auth: signedIn, Action: "members.set"},
		Route{Pattern: "DELETE /api/v1/teams/{id}/members/{user_id}", Auth: signedIn, Action: "members.remove"},
		Route{Pattern: "GET /api/v1/teams/{id}/projects", Auth: signedIn, Action: "projects.list"},
		Route{Pattern: "POST /api/v1/teams/{id}/projects", BodyLimit: teamDoc, Auth: signedIn, Action: "projects.create"},
		Route{Pattern: "GET /api/v1/teams/{id}/projects/{project_id}", Auth: signedIn, Action: "projects.read"},
		Route{Pattern: "PATCH /api/v1/teams/{id}/projects/{project_id}", BodyLimit: teamDoc, Auth: signedIn, Action: "projects.update"},
		Route{Pattern: "DELETE /api/v1/teams/{id}/projects/{project_id}", Auth: signedIn, Action: "projects.delete"},
		Route{Pattern: "GET /api/v1/teams/{id}/invitations", Auth: signedIn, Action: "invitations.list"},
		Route{Pattern: "POST /api/v1/teams/{id}/invitations", BodyLimit: credentials, Auth: signedIn, Action: "invitations.create"},
		Route{Pattern: "GET /api/v1/teams/{id}/invitations/{invitation_id}", Auth: signedIn, Action: "invitations.read"},
		Route{Pattern: "DELETE /api/v1/teams/{id}/invitations/{invitation_id}", Auth: signedIn, Action: "invitations.revoke"},
		Route{Pattern: "POST /api/v1/invitations/accept", BodyLimit: credentials, Auth: signedIn, Action: "invitations.accept"},

		// API v1: operations views for administrators, and the sign-in providers (public, as
		// the login page is: it names no user).
		Route{Pattern: "GET /api/v1/admin/outbox", Auth: signedIn, Action: "outbox.read"},
		Route{Pattern: "POST /api/v1/admin/outbox/{id}/retry", Auth: signedIn, Action: "outbox.retry"},
		Route{Pattern: "GET /api/v1/admin/audit", Auth: signedIn, Action: "audit.read"},
		Route{Pattern: "GET /api/v1/license", Auth: signedIn, Action: "license.read"},
		Route{Pattern: "GET /api/v1/sso/providers"},
	),

	// The pages' files: no session is loaded for them.
	chain(Asset,
		Route{Pattern: "GET /static/"},
		Route{Pattern: "GET /logo"},
		Route{Pattern: "GET /logo/mark"},
		// The API reference page's renderer (Swagger UI, vendored and embedded gzip-compressed).
		// Under /api/docs, which the pages serve although /api/ is the API's (see Dispatch).
		Route{Pattern: "GET /api/docs/swagger-ui-bundle.js"},
		Route{Pattern: "GET /api/docs/swagger-ui.css"},
	),

	// The pages. Their gates: mayChangePassword lets an account that must change its password
	// in, twoFactorSetup also one that must set up a second factor first, signedIn only an
	// account with neither restriction; the others are sent where they must go.
	chain(Page,
		Route{Pattern: "GET /{$}"}, // to the sign-in, the password change or the profile

		// The interactive API reference: the current version's OpenAPI document, rendered in
		// the browser. Public, as the document is.
		Route{Pattern: "GET /api/docs"},

		// Signing in and out.
		Route{Pattern: "GET /login"},
		Route{Pattern: "POST /login"},
		Route{Pattern: "POST /logout"},
		Route{Pattern: "GET /login/2fa"},
		Route{Pattern: "POST /login/2fa"},
		Route{Pattern: "POST /login/2fa/email-code"},
		Route{Pattern: "POST /login/2fa/webauthn/options"},
		Route{Pattern: "POST /login/passkey/options"},
		Route{Pattern: "POST /login/passkey"},
		// An authenticator-app code in the password's place (SECURITY_PASSWORDLESS_AUTHENTICATOR;
		// 404 while off).
		Route{Pattern: "GET /login/authenticator"},
		Route{Pattern: "POST /login/authenticator"},
		// Sign-in by emailed code or link (SECURITY_PASSWORDLESS_EMAIL; 404 while off). The
		// mailed link's GET only shows a button. A signed-in account may use them too, to prove
		// itself again without a password.
		Route{Pattern: "GET /login/email"},
		Route{Pattern: "POST /login/email"},
		Route{Pattern: "GET /login/email/code"},
		Route{Pattern: "POST /login/email/code"},
		Route{Pattern: "GET /login/email/link"},
		Route{Pattern: "POST /login/email/link"},

		// Recovery, confirmation and registration: one-time tokens are consumed by POST only,
		// so that a mail scanner following the mailed link uses up nothing.
		Route{Pattern: "GET /forgot-password"},
		Route{Pattern: "POST /forgot-password"},
		Route{Pattern: "GET /recover-username"}, // SECURITY_USERNAME_RECOVERY
		Route{Pattern: "POST /recover-username"},
		Route{Pattern: "GET /reset-password"},
		Route{Pattern: "POST /reset-password"},
		Route{Pattern: "GET /confirm"},
		Route{Pattern: "POST /confirm"},
		Route{Pattern: "POST /confirm/resend"},
		Route{Pattern: "GET /register"},
		Route{Pattern: "POST /register"},
		Route{Pattern: "GET /confirm-email"}, // auth.EmailChangePath: the mailed link of an address change
		Route{Pattern: "POST /confirm-email"},

		// The signed-in account.
		Route{Pattern: "GET /change-password", Auth: mayChangePassword},
		Route{Pattern: "POST /change-password", Auth: mayChangePassword},
		Route{Pattern: "GET /verify", Auth: twoFactorSetup},
		Route{Pattern: "POST /verify", Auth: twoFactorSetup},
		Route{Pattern: "GET /profile", Auth: twoFactorSetup},
		Route{Pattern: "POST /profile/password", Auth: twoFactorSetup},
		Route{Pattern: "POST /profile/email", Auth: signedIn},
		Route{Pattern: "POST /profile/username", Auth: signedIn},
		Route{Pattern: "POST /profile/sessions/{id}/revoke", Auth: signedIn},
		Route{Pattern: "POST /profile/sessions/revoke-all", Auth: twoFactorSetup},
		Route{Pattern: "POST /profile/api-keys", Auth: signedIn, Action: "api_keys.create"},
		Route{Pattern: "POST /profile/api-keys/{id}/revoke", Auth: signedIn, Action: "api_keys.revoke"},
		Route{Pattern: "GET /profile/2fa/totp", Auth: twoFactorSetup},
		Route{Pattern: "POST /profile/2fa/totp", Auth: twoFactorSetup},
		Route{Pattern: "POST /profile/2fa/totp/disable", Auth: twoFactorSetup},
		Route{Pattern: "POST /profile/2fa/recovery-codes", Auth: twoFactorSetup},
		Route{Pattern: "POST /profile/2fa/email/enable", Auth: twoFactorSetup},
		Route{Pattern: "POST /profile/2fa/email/disable", Auth: twoFactorSetup},
		Route{Pattern: "POST /profile/2fa/webauthn/options", Auth: twoFactorSetup},
		Route{Pattern: "POST /profile/2fa/webauthn", Auth: twoFactorSetup},
		Route{Pattern: "POST /profile/2fa/webauthn/{id}/remove", Auth: twoFactorSetup},
		Route{Pattern: "POST /profile/2fa/passkeys/options", Auth: twoFactorSetup},
		Route{Pattern: "POST /profile/2fa/passkeys", Auth: twoFactorSetup},

		// The administration console: global admins only, everyone else gets the 404. Each
		// action is decided again by the users service, as on the API.
		Route{Pattern: "GET /admin", Auth: signedIn, Action: "users.list"},
		Route{Pattern: "GET /admin/users", Auth: signedIn, Action: "users.list"},
		Route{Pattern: "GET /admin/users/new", Auth: signedIn, Action: "users.create"},
		Route{Pattern: "POST /admin/users/new", Auth: signedIn, Action: "users.create"},
		Route{Pattern: "GET /admin/users/{id}", Auth: signedIn, Action: "users.read"},
		Route{Pattern: "POST /admin/users/{id}/{action}", Auth: signedIn, Action: "users.update"},
		Route{Pattern: "POST /admin/users/{id}/sessions/{session}/end", Auth: signedIn, Action: "users.reset_access"},
		Route{Pattern: "POST /admin/users/{id}/api-keys/{key}/revoke", Auth: signedIn, Action: "users.reset_access"},
		Route{Pattern: "POST /admin/users/{id}/identities", Auth: signedIn, Action: "users.update"},
		Route{Pattern: "POST /admin/users/{id}/identities/{identity}/unlink", Auth: signedIn, Action: "users.update"},
		Route{Pattern: "GET /admin/teams", Auth: signedIn, Action: "teams.list_all"},
		Route{Pattern: "GET /admin/teams/{id}", Auth: signedIn, Action: "teams.read"},
		Route{Pattern: "POST /admin/teams/{id}/members", Auth: signedIn, Action: "members.set_privileged"},
		Route{Pattern: "POST /admin/teams/{id}/members/{user}/role", Auth: signedIn, Action: "members.set_privileged"},
		Route{Pattern: "POST /admin/teams/{id}/members/{user}/remove", Auth: signedIn, Action: "members.remove_privileged"},
		Route{Pattern: "POST /admin/teams/{id}/invitations/{invitation}/revoke", Auth: signedIn, Action: "invitations.revoke"},
		Route{Pattern: "POST /admin/teams/{id}/invitations/{invitation}/resend", Auth: signedIn, Action: "invitations.create_privileged"},
		Route{Pattern: "GET /admin/audit", Auth: signedIn, Action: "audit.read"},
		Route{Pattern: "GET /admin/audit/export", Auth: signedIn, Action: "audit.read"},
		Route{Pattern: "GET /admin/mail", Auth: signedIn, Action: "outbox.read"},
		Route{Pattern: "GET /admin/system", Auth: signedIn, Action: "license.read"},
		Route{Pattern: "POST /admin/system/keys/rotate", Auth: signedIn, Action: "users.list"},
		Route{Pattern: "POST /admin/mail/{id}/retry", Auth: signedIn, Action: "outbox.retry"},

		// Team invitations: the mailed link opens this page, whose button accepts.
		Route{Pattern: "GET /invitations/accept", Auth: signedIn},
		Route{Pattern: "POST /invitations/accept", Auth: signedIn, Action: "invitations.accept"},

		// Single sign-on in the browser (internal/sso), gated per request by the license. They
		// sign in through the pages' session.
		Route{Pattern: "GET /sso/oidc/{provider}/login"},
		Route{Pattern: "GET /sso/oidc/{provider}/callback"},
		Route{Pattern: "GET /sso/saml/metadata"},
		Route{Pattern: "GET /sso/saml/login"},
	),

	// The SAML assertion consumer receives the identity provider's cross-site form post; it
	// protects itself (signature, InResponseTo bound to the sign-in cookie, single use).
	chain(PageCrossSite,
		Route{Pattern: "POST /sso/saml/acs", BodyLimit: samlPost},
	),
)

// chain sets the chain of routes.
func chain(c Chain, routes ...Route) []Route {
	for i := range routes {
		routes[i].Chain = c
	}
	return routes
}
