package httpapi

import (
	"net/http"

	"github.com/gatehousehq/gatehouse/internal/apidoc"
	"github.com/gatehousehq/gatehouse/rest"
)

// Operations describes each API route this package serves for the OpenAPI document
// (internal/apidoc): what it does, the type its handler decodes, the type of the data it answers
// and its success status. It sits beside the handlers so that a change to one is seen next to
// the other; TestOperationsCoverRoutes fails when a route of the table has no operation here (or
// on its rest.Route, for the routes of single sign-on) or an operation names no route, and every
// API test checks the answers it gets against the document (internal/apidoc/apidoctest).
func Operations() map[string]Operation {
	return map[string]Operation{
		// Operations and the service.
		"GET /healthz":               {Summary: "Liveness probe", Response: healthResponse{}},
		"GET /readyz":                {Summary: "Readiness probe (the database is reachable and migrated)", Response: healthResponse{}},
		"GET /metrics":               {Summary: "Prometheus metrics", ContentType: "text/plain"},
		"GET /.well-known/jwks.json": {Summary: "The public keys that verify access tokens (RFC 7517)", ContentType: "application/jwk-set+json", Response: jwkSet},
		"GET /api/v1/health":         {Summary: "Liveness", Response: healthResponse{}},
		"GET /api/v1/ready":          {Summary: "Readiness", Response: healthResponse{}},
		"GET /api/v1/version":        {Summary: "The service version and the lifecycle of each API version (an admin's token adds the build)", Response: versionResponse{}},
		"GET /api/v1/openapi.json":   {Summary: "This document (OpenAPI 3.1, JSON)", ContentType: ContentTypeOpenAPIJSON, Response: anyObject},
		"GET /api/v1/openapi.yaml":   {Summary: "This document (OpenAPI 3.1, YAML)", ContentType: ContentTypeOpenAPIYAML},

		// Signing in and out, registration, confirmation, recovery.
		"POST /api/v1/auth/register":                   {Summary: "Register an account (the same answer whether or not the address is taken)", Request: registerRequest{}, Response: messageResponse{}, Status: http.StatusAccepted, Errors: []int{http.StatusForbidden, http.StatusConflict}},
		"POST /api/v1/auth/confirm":                    {Summary: "Confirm an email address with the mailed token", Request: tokenRequest{}, Response: messageResponse{}, Errors: []int{http.StatusNotFound, http.StatusForbidden}},
		"POST /api/v1/auth/confirm/resend":             {Summary: "Send the confirmation mail again", Request: emailRequest{}, Response: messageResponse{}, Status: http.StatusAccepted, Errors: []int{http.StatusNotFound, http.StatusForbidden}},
		"POST /api/v1/auth/login":                      {Summary: "Sign in with a password", Request: loginRequest{}, Response: loginAnswers, Errors: []int{http.StatusUnauthorized, http.StatusForbidden}},
		"POST /api/v1/auth/login/2fa":                  {Summary: "Complete a sign-in with a second factor", Request: twoFactorLoginRequest{}, Response: loginAnswers, Errors: []int{http.StatusUnauthorized, http.StatusForbidden}},
		"POST /api/v1/auth/login/2fa/email-code":       {Summary: "Mail the code of the email second factor", Request: challengeRequest{}, Response: messageResponse{}, Status: http.StatusAccepted, Errors: []int{http.StatusUnauthorized, http.StatusForbidden}},
		"POST /api/v1/auth/login/2fa/webauthn/options": {Summary: "The WebAuthn assertion options of a second step", Request: challengeRequest{}, Response: anyObject, Errors: []int{http.StatusNotFound, http.StatusUnauthorized}},
		"POST /api/v1/auth/login/passkey/options":      {Summary: "Start a passkey sign-in", Request: struct{}{}, RequestOptional: true, Response: passkeyOptionsResponse{}, Errors: []int{http.StatusForbidden, http.StatusNotFound}},
		"POST /api/v1/auth/login/passkey":              {Summary: "Sign in with a passkey", Request: passkeyLoginRequest{}, Response: loginAnswers, Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}},
		"POST /api/v1/auth/login/authenticator":        {Summary: "Sign in with an authenticator-app code instead of the password", Request: authenticatorLoginRequest{}, Response: loginAnswers, Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}},
		"POST /api/v1/auth/login/email-code":           {Summary: "Mail a sign-in code or link", Request: emailRequest{}, Response: emailCodeResponse{}, Status: http.StatusAccepted, Errors: []int{http.StatusForbidden, http.StatusNotFound}},
		"POST /api/v1/auth/login/email-code/verify":    {Summary: "Sign in with the mailed code", Request: emailCodeVerifyRequest{}, Response: loginAnswers, Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}},
		"POST /api/v1/auth/refresh":                    {Summary: "Exchange a refresh token for new tokens", Request: refreshRequest{}, Response: tokenResponse{}, Errors: []int{http.StatusUnauthorized, http.StatusForbidden}},
		"POST /api/v1/auth/logout":                     {Summary: "Sign out (end the session of the refresh token or of the access token)", Request: refreshRequest{}, RequestOptional: true, Response: messageResponse{}, Errors: []int{http.StatusNotFound}},
		"POST /api/v1/auth/logout-all":                 {Summary: "Sign out of every session", Response: messageResponse{}},
		"POST /api/v1/auth/reauth":                     {Summary: "Prove the password again, for credential changes", Request: passwordRequest{}, Response: reauthResponse{}},
		"POST /api/v1/auth/password/change":            {Summary: "Change (or set a first) password", Request: changePasswordRequest{}, Response: tokenResponse{}},
		"POST /api/v1/auth/password/forgot":            {Summary: "Mail a password reset link", Request: emailRequest{}, Response: messageResponse{}, Status: http.StatusAccepted, Errors: []int{http.StatusForbidden}},
		"POST /api/v1/auth/password/reset":             {Summary: "Reset the password with the mailed token", Request: resetPasswordRequest{}, Response: messageResponse{}, Errors: []int{http.StatusNotFound, http.StatusForbidden}},
		"POST /api/v1/auth/username/recover":           {Summary: "Mail the username of an address", Request: emailRequest{}, Response: messageResponse{}, Status: http.StatusAccepted, Errors: []int{http.StatusForbidden, http.StatusNotFound}},
		"POST /api/v1/auth/email/confirm":              {Summary: "Confirm an address change with the mailed token", Request: emailChangeConfirmRequest{}, Response: emailChangeResponse{}, Errors: []int{http.StatusNotFound, http.StatusForbidden, http.StatusConflict}},
		"GET /api/v1/auth/sessions":                    {Summary: "List your sessions", Response: []sessionResponse{}},
		"DELETE /api/v1/auth/sessions/{id}":            {Summary: "End one of your sessions", Response: messageResponse{}},

		// Your own account.
		"GET /api/v1/me":                                         {Summary: "Your account", Response: meResponse{}},
		"PATCH /api/v1/me":                                       {Summary: "Change your account", Request: updateMeRequest{}, Response: meResponse{}},
		"POST /api/v1/me/email":                                  {Summary: "Change your email address (mails a confirmation to the new one)", Request: emailChangeRequest{}, Response: emailChangeResponse{}, Status: http.StatusAccepted, Errors: []int{http.StatusConflict}},
		"POST /api/v1/me/username":                               {Summary: "Change your username", Request: changeUsernameRequest{}, Response: meResponse{}, Errors: []int{http.StatusConflict, http.StatusNotFound}},
		"GET /api/v1/me/2fa":                                     {Summary: "Your second factors", Response: twoFactorStateResponse{}},
		"POST /api/v1/me/2fa/totp":                               {Summary: "Start setting up an authenticator app", Request: reauthRequest{}, RequestOptional: true, Response: totpEnrolmentResponse{}, Errors: []int{http.StatusConflict}},
		"POST /api/v1/me/2fa/totp/confirm":                       {Summary: "Confirm the authenticator app with a code", Request: codeRequest{}, Response: recoveryCodesResponse{}, Errors: []int{http.StatusConflict}},
		"DELETE /api/v1/me/2fa/totp":                             {Summary: "Remove the authenticator app", Request: passwordRequest{}, Response: messageResponse{}, Errors: []int{http.StatusNotFound, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusConflict}},
		"POST /api/v1/me/2fa/recovery-codes":                     {Summary: "Make new recovery codes", Request: reauthRequest{}, RequestOptional: true, Response: recoveryCodesResponse{}, Errors: []int{http.StatusConflict}},
		"POST /api/v1/me/2fa/email":                              {Summary: "Enable sign-in codes by email", Request: reauthRequest{}, RequestOptional: true, Response: recoveryCodesResponse{}, Errors: []int{http.StatusConflict}},
		"DELETE /api/v1/me/2fa/email":                            {Summary: "Disable sign-in codes by email", Request: passwordRequest{}, Response: messageResponse{}, Errors: []int{http.StatusNotFound, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusConflict}},
		"POST /api/v1/me/2fa/webauthn/register/options":          {Summary: "Start registering a security key", Request: reauthRequest{}, RequestOptional: true, Response: anyObject},
		"POST /api/v1/me/2fa/webauthn/passkeys/register/options": {Summary: "Start registering a passkey", Request: reauthRequest{}, RequestOptional: true, Response: anyObject},
		"POST /api/v1/me/2fa/webauthn/register":                  {Summary: "Finish registering a security key or passkey", Request: webAuthnRegisterRequest{}, Response: webAuthnRegisteredResponse{}, Status: http.StatusCreated, Errors: []int{http.StatusNotFound}},
		"GET /api/v1/me/2fa/webauthn":                            {Summary: "Your security keys and passkeys", Response: []webAuthnCredentialResponse{}},
		"PATCH /api/v1/me/2fa/webauthn/{id}":                     {Summary: "Rename a security key", Request: webAuthnRenameRequest{}, Response: webAuthnCredentialResponse{}},
		"DELETE /api/v1/me/2fa/webauthn/{id}":                    {Summary: "Remove a security key", Request: webAuthnRemoveRequest{}, Response: messageResponse{}, Errors: []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType}},
		"POST /api/v1/api-keys":                                  {Summary: "Create an API key (its secret is shown once)", Request: apiKeyCreateRequest{}, Response: apiKeyCreatedResponse{}, Status: http.StatusCreated},
		"GET /api/v1/api-keys":                                   {Summary: "List your API keys", Response: apiKeyResponse{}, List: true},
		"DELETE /api/v1/api-keys/{id}":                           {Summary: "Revoke one of your API keys", Response: messageResponse{}},

		// User administration.
		"GET /api/v1/users":                         {Summary: "List users", Response: userResource{}, List: true, Query: []string{"email", "username", "role", "active", "confirmed", "locked", "two_factor", "sso_only", "sort"}},
		"POST /api/v1/users":                        {Summary: "Create a user", Request: createUserRequest{}, Response: userResource{}, Status: http.StatusCreated, Errors: []int{http.StatusConflict}},
		"GET /api/v1/users/{user_id}":               {Summary: "Read a user", Response: userResource{}},
		"PATCH /api/v1/users/{user_id}":             {Summary: "Change a user", Request: updateUserRequest{}, Response: userResource{}, Errors: []int{http.StatusConflict, http.StatusPreconditionFailed}},
		"DELETE /api/v1/users/{user_id}":            {Summary: "Delete a user", Response: messageResponse{}, Errors: []int{http.StatusConflict, http.StatusPreconditionFailed}},
		"POST /api/v1/users/{user_id}/reset-access": {Summary: "End every session and token of a user", Response: messageResponse{}},
		"POST /api/v1/users/{user_id}/unlock":       {Summary: "Unlock a user locked out by failed sign-ins", Response: messageResponse{}},
		"POST /api/v1/users/{user_id}/2fa/reset":    {Summary: "Remove every second factor of a user", Response: messageResponse{}},

		// Teams, members, projects, invitations.
		"POST /api/v1/teams":                                    {Summary: "Create a team", Request: teamRequest{}, Response: teamResponse{}, Status: http.StatusCreated, Errors: []int{http.StatusConflict}},
		"GET /api/v1/teams":                                     {Summary: "List your teams (an admin: every team)", Response: teamResponse{}, List: true},
		"GET /api/v1/teams/{id}":                                {Summary: "Read a team", Response: teamResponse{}},
		"PATCH /api/v1/teams/{id}":                              {Summary: "Change a team", Request: teamRequest{}, Response: teamResponse{}, Errors: []int{http.StatusConflict, http.StatusPreconditionFailed}},
		"DELETE /api/v1/teams/{id}":                             {Summary: "Delete a team", Response: messageResponse{}, Errors: []int{http.StatusPreconditionFailed}},
		"POST /api/v1/teams/{id}/leave":                         {Summary: "Leave a team", Response: messageResponse{}, Errors: []int{http.StatusConflict}},
		"GET /api/v1/teams/{id}/members":                        {Summary: "List a team's members", Response: memberResponse{}, List: true},
		"GET /api/v1/teams/{id}/members/{user_id}":              {Summary: "Read a member", Response: memberResponse{}},
		"PUT /api/v1/teams/{id}/members/{user_id}":              {Summary: "Add a member or change a member's role", Request: memberRequest{}, Response: memberResponse{}, Created: true, Errors: []int{http.StatusConflict, http.StatusPreconditionFailed}},
		"DELETE /api/v1/teams/{id}/members/{user_id}":           {Summary: "Remove a member", Response: messageResponse{}, Errors: []int{http.StatusConflict, http.StatusPreconditionFailed}},
		"GET /api/v1/teams/{id}/projects":                       {Summary: "List a team's projects", Response: projectResponse{}, List: true},
		"POST /api/v1/teams/{id}/projects":                      {Summary: "Create a project", Request: projectRequest{}, Response: projectResponse{}, Status: http.StatusCreated, Errors: []int{http.StatusConflict}},
		"GET /api/v1/teams/{id}/projects/{project_id}":          {Summary: "Read a project", Response: projectResponse{}},
		"PATCH /api/v1/teams/{id}/projects/{project_id}":        {Summary: "Change a project", Request: projectRequest{}, Response: projectResponse{}, Errors: []int{http.StatusConflict, http.StatusPreconditionFailed}},
		"DELETE /api/v1/teams/{id}/projects/{project_id}":       {Summary: "Delete a project", Response: messageResponse{}, Errors: []int{http.StatusPreconditionFailed}},
		"GET /api/v1/teams/{id}/invitations":                    {Summary: "List a team's invitations", Response: invitationResponse{}, List: true},
		"POST /api/v1/teams/{id}/invitations":                   {Summary: "Invite someone to a team", Request: invitationRequest{}, Response: invitationResponse{}, Status: http.StatusCreated, Errors: []int{http.StatusConflict}},
		"GET /api/v1/teams/{id}/invitations/{invitation_id}":    {Summary: "Read an invitation", Response: invitationResponse{}},
		"DELETE /api/v1/teams/{id}/invitations/{invitation_id}": {Summary: "Revoke an invitation", Response: invitationResponse{}, Errors: []int{http.StatusConflict, http.StatusPreconditionFailed}},
		"POST /api/v1/invitations/accept":                       {Summary: "Accept an invitation sent to you", Request: acceptInvitationRequest{}, Response: teamResponse{}, Errors: []int{http.StatusNotFound, http.StatusConflict}},

		// Operations views.
		"GET /api/v1/admin/outbox":             {Summary: "The mail outbox", Response: outboxItem{}, List: true, Query: []string{"status"}},
		"POST /api/v1/admin/outbox/{id}/retry": {Summary: "Send a failed mail again", Response: outboxItem{}, Errors: []int{http.StatusConflict}},
		"GET /api/v1/admin/audit":              {Summary: "The audit trail", Response: auditItem{}, List: true, Query: []string{"subject_id", "actor_id", "event", "since", "until"}},
		"GET /api/v1/license":                  {Summary: "The license status", Response: licenseResponse{}},
	}
}

// Media types of the OpenAPI document (GET /api/v{n}/openapi.json and .yaml).
const (
	ContentTypeOpenAPIJSON = "application/openapi+json"
	ContentTypeOpenAPIYAML = "application/openapi+yaml"
)

// Hand-written schemas, for answers that are not one of this package's types.
var (
	// anyObject is a JSON object whose members a standard defines: the WebAuthn options
	// (navigator.credentials.create and get), the OpenAPI document.
	anyObject = &apidoc.Schema{Type: apidoc.Types{"object"}}
	// jwkSet is a JSON Web Key Set (RFC 7517 §5).
	jwkSet = &apidoc.Schema{
		Type:     apidoc.Types{"object"},
		Required: []string{"keys"},
		Properties: map[string]*apidoc.Schema{"keys": {Type: apidoc.Types{"array"},
			Items: &apidoc.Schema{Type: apidoc.Types{"object"}, Required: []string{"kty"}}}},
	}
	// loginAnswers: a sign-in step answers the tokens, or the challenge of a second step.
	loginAnswers = rest.OneOf{tokenResponse{}, twoFactorChallengeResponse{}}
)
