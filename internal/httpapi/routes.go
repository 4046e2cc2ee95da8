package httpapi

import (
	"maps"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// handlers binds the API routes of the route table (internal/transport/table.go, where each
// route's authentication, body limit and authorization action are written) to the handlers of
// this package. Single sign-on's API routes come from internal/sso, through WithRoutes.
func (s *server) handlers() map[string]HandlerFunc {
	h := map[string]HandlerFunc{
		"GET /healthz":             s.handleHealth,
		"GET /readyz":              s.handleReady,
		"GET /metrics":             fromHTTPHandler(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry})),
		"GET /api/v1/health":       s.handleHealth,
		"GET /api/v1/ready":        s.handleReady,
		"GET /api/v1/version":      s.handleVersion,
		"GET /api/v1/openapi.json": s.handleOpenAPI("json", ContentTypeOpenAPIJSON),
		"GET /api/v1/openapi.yaml": s.handleOpenAPI("yaml", ContentTypeOpenAPIYAML),
	}
	if s.auth == nil {
		// Tests of the conventions alone: the account and resource routes are left out.
		return h
	}
	maps.Copy(h, map[string]HandlerFunc{
		"GET /.well-known/jwks.json": s.handleJWKS,

		"POST /api/v1/auth/register":                    s.handleRegister,
		"POST /api/v1/auth/confirm":                     s.handleConfirm,
		"POST /api/v1/auth/confirm/resend":              s.handleResendConfirmation,
		"POST /api/v1/auth/login":                       s.handleLogin,
		"POST /api/v1/auth/login/2fa":                   s.handleLoginTwoFactor,
		"POST /api/v1/auth/login/2fa/email-code":        s.handleTwoFactorEmailCode,
		"POST /api/v1/auth/login/2fa/webauthn/options":  s.handleTwoFactorWebAuthnOptions,
		"POST /api/v1/auth/refresh":                     s.handleRefresh,
		"POST /api/v1/auth/logout":                      s.handleLogout,
		"POST /api/v1/auth/logout-all":                  s.handleLogoutAll,
		"POST /api/v1/auth/reauth":                      s.handleReauth,
		"POST /api/v1/auth/password/change":             s.handleChangePassword,
		"POST /api/v1/auth/password/forgot":             s.handleForgotPassword,
		"POST /api/v1/auth/password/reset":              s.handleResetPassword,
		"POST /api/v1/auth/email/confirm":               s.handleConfirmEmailChange,
		"GET /api/v1/auth/sessions":                     s.handleSessions,
		"DELETE /api/v1/auth/sessions/{id}":             s.handleRevokeSession,
		"GET /api/v1/me":                                s.handleGetMe,
		"PATCH /api/v1/me":                              s.handleUpdateMe,
		"POST /api/v1/me/email":                         s.handleRequestEmailChange,
		"POST /api/v1/me/username":                      s.handleChangeUsername,
		"POST /api/v1/auth/username/recover":            s.handleRecoverUsername,
		"GET /api/v1/me/2fa":                            s.handleTwoFactorState,
		"POST /api/v1/me/2fa/totp":                      s.handleBeginTOTP,
		"POST /api/v1/me/2fa/totp/confirm":              s.handleConfirmTOTP,
		"DELETE /api/v1/me/2fa/totp":                    s.handleDisableTOTP,
		"POST /api/v1/me/2fa/recovery-codes":            s.handleRegenerateRecoveryCodes,
		"POST /api/v1/me/2fa/email":                     s.handleEnableEmailTwoFactor,
		"DELETE /api/v1/me/2fa/email":                   s.handleDisableEmailTwoFactor,
		"POST /api/v1/me/2fa/webauthn/register/options": s.handleWebAuthnRegisterOptions,
		"POST /api/v1/me/2fa/webauthn/register":         s.handleWebAuthnRegister,
		"GET /api/v1/me/2fa/webauthn":                   s.handleWebAuthnCredentials,
		"PATCH /api/v1/me/2fa/webauthn/{id}":            s.handleWebAuthnRename,
		"DELETE /api/v1/me/2fa/webauthn/{id}":           s.handleWebAuthnRemove,
		"POST /api/v1/api-keys":                         s.handleCreateAPIKey,
		"GET /api/v1/api-keys":                          s.handleAPIKeys,
		"DELETE /api/v1/api-keys/{id}":                  s.handleRevokeAPIKey,

		"POST /api/v1/auth/login/passkey/options":                s.handlePasskeyLoginOptions,
		"POST /api/v1/auth/login/passkey":                        s.handlePasskeyLogin,
		"POST /api/v1/auth/login/authenticator":                  s.handleAuthenticatorLogin,
		"POST /api/v1/me/2fa/webauthn/passkeys/register/options": s.handlePasskeyRegisterOptions,
		// Sign-in by emailed code or link (v1_emailsignin.go).
		"POST /api/v1/auth/login/email-code":        s.handleEmailCode,
		"POST /api/v1/auth/login/email-code/verify": s.handleEmailCodeVerify,

		"GET /api/v1/users":                         s.handleListUsers,
		"POST /api/v1/users":                        s.handleCreateUser,
		"GET /api/v1/users/{user_id}":               s.handleGetUser,
		"PATCH /api/v1/users/{user_id}":             s.handleUpdateUser,
		"DELETE /api/v1/users/{user_id}":            s.handleDeleteUser,
		"POST /api/v1/users/{user_id}/reset-access": s.handleResetUserAccess,
		"POST /api/v1/users/{user_id}/unlock":       s.handleUnlockUser,
		"POST /api/v1/users/{user_id}/2fa/reset":    s.handleResetUserTwoFactor,
		"GET /api/v1/admin/outbox":                  s.handleAdminOutbox,
		"POST /api/v1/admin/outbox/{id}/retry":      s.handleAdminOutboxRetry,
		"GET /api/v1/admin/audit":                   s.handleAdminAudit,

		"POST /api/v1/teams":                                    s.handleTeamCreate,
		"GET /api/v1/teams":                                     s.handleTeamList,
		"GET /api/v1/teams/{id}":                                s.handleTeamGet,
		"PATCH /api/v1/teams/{id}":                              s.handleTeamPatch,
		"DELETE /api/v1/teams/{id}":                             s.handleTeamDelete,
		"POST /api/v1/teams/{id}/leave":                         s.handleTeamLeave,
		"GET /api/v1/teams/{id}/members":                        s.handleMembers,
		"GET /api/v1/teams/{id}/members/{user_id}":              s.handleMemberGet,
		"PUT /api/v1/teams/{id}/members/{user_id}":              s.handleMemberPut,
		"DELETE /api/v1/teams/{id}/members/{user_id}":           s.handleMemberDelete,
		"GET /api/v1/teams/{id}/projects":                       s.handleProjects,
		"POST /api/v1/teams/{id}/projects":                      s.handleProjectCreate,
		"GET /api/v1/teams/{id}/projects/{project_id}":          s.handleProjectGet,
		"PATCH /api/v1/teams/{id}/projects/{project_id}":        s.handleProjectPatch,
		"DELETE /api/v1/teams/{id}/projects/{project_id}":       s.handleProjectDelete,
		"GET /api/v1/teams/{id}/invitations":                    s.handleInvitations,
		"POST /api/v1/teams/{id}/invitations":                   s.handleInvitationCreate,
		"GET /api/v1/teams/{id}/invitations/{invitation_id}":    s.handleInvitationGet,
		"DELETE /api/v1/teams/{id}/invitations/{invitation_id}": s.handleInvitationRevoke,
		"POST /api/v1/invitations/accept":                       s.handleInvitationAccept,
	})
	if s.license != nil {
		h["GET /api/v1/license"] = s.handleLicense
	}
	return h
}
