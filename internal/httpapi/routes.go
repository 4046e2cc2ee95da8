package httpapi

import (
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is Gatehouse's whole URL surface. Each route says its body limit beside it when it needs
// one other than the default; everything passes the same middleware chain (see NewServer).
func (s *server) routes() []Route {
	metrics := promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry})

	routes := []Route{
		// Operations: unversioned, so load balancer and orchestrator probes never change.
		// /metrics exposes no account data but does reveal traffic shape; keep it off the public
		// listener or behind the proxy's access rules.
		{Pattern: "GET /healthz", Handler: s.handleHealth},
		{Pattern: "GET /readyz", Handler: s.handleReady},
		{Pattern: "GET /metrics", Handler: fromHTTPHandler(metrics)},

		// API v1.
		{Pattern: "GET /api/v1/health", Handler: s.handleHealth},
		{Pattern: "GET /api/v1/ready", Handler: s.handleReady},
	}
	if s.auth != nil {
		// Anyone may ask; an admin's token adds the Go version and build details.
		routes = append(routes, Route{Pattern: "GET /api/v1/version", Handler: s.handleVersion, Auth: OptionalAuthMayChangePassword})
	} else {
		routes = append(routes, Route{Pattern: "GET /api/v1/version", Handler: s.handleVersion})
	}
	if s.auth != nil {
		routes = append(routes, s.authRoutes()...)
		routes = append(routes, s.userRoutes()...)
		routes = append(routes, s.apiKeyRoutes()...)
		routes = append(routes, s.teamRoutes()...)
		routes = append(routes, s.invitationRoutes()...)
		routes = append(routes, s.twoFactorRoutes()...)
		routes = append(routes, s.webAuthnRoutes()...)
		routes = append(routes, s.emailChangeRoutes()...)
		routes = append(routes, s.emailSignInRoutes()...)
		if s.license != nil {
			routes = append(routes, Route{Pattern: "GET /api/v1/license", Handler: s.handleLicense, Auth: Authenticated})
		}
	}
	return routes
}

// authRoutes are the account endpoints (Flask-Security-Too's flows as a JSON API).
func (s *server) authRoutes() []Route {
	const small = 16 << 10 // credentials and tokens: nothing legitimate is bigger
	return []Route{
		{Pattern: "GET /.well-known/jwks.json", Handler: s.handleJWKS},
		{Pattern: "POST /api/v1/auth/register", Handler: s.handleRegister, BodyLimit: small},
		{Pattern: "POST /api/v1/auth/confirm", Handler: s.handleConfirm, BodyLimit: small},
		{Pattern: "POST /api/v1/auth/confirm/resend", Handler: s.handleResendConfirmation, BodyLimit: small},
		{Pattern: "POST /api/v1/auth/login", Handler: s.handleLogin, BodyLimit: small},
		{Pattern: "POST /api/v1/auth/refresh", Handler: s.handleRefresh, BodyLimit: small},
		{Pattern: "POST /api/v1/auth/logout", Handler: s.handleLogout, BodyLimit: small, Auth: OptionalAuthMayChangePassword},
		{Pattern: "POST /api/v1/auth/logout-all", Handler: s.handleLogoutAll, BodyLimit: small, Auth: AuthenticatedMayChangePassword},
		{Pattern: "POST /api/v1/auth/reauth", Handler: s.handleReauth, BodyLimit: small, Auth: AuthenticatedTwoFactorSetup},
		{Pattern: "POST /api/v1/auth/password/change", Handler: s.handleChangePassword, BodyLimit: small, Auth: AuthenticatedMayChangePassword},
		{Pattern: "POST /api/v1/auth/password/forgot", Handler: s.handleForgotPassword, BodyLimit: small},
		{Pattern: "POST /api/v1/auth/password/reset", Handler: s.handleResetPassword, BodyLimit: small},
		{Pattern: "GET /api/v1/me", Handler: s.handleGetMe, Auth: AuthenticatedMayChangePassword},
		{Pattern: "GET /api/v1/auth/sessions", Handler: s.handleSessions, Auth: Authenticated},
		{Pattern: "DELETE /api/v1/auth/sessions/{id}", Handler: s.handleRevokeSession, Auth: Authenticated},
	}
}
