// Package app assembles Gatehouse from its configuration: the data layer, the account service
// with its keys and mailer, and the HTTP handler. It is the one place where the parts are wired
// together, so that the command, the tests and (one day) a host application build the same
// service.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/httpapi"
	"github.com/gatehousehq/gatehouse/internal/license"
	"github.com/gatehousehq/gatehouse/internal/mail"
	"github.com/gatehousehq/gatehouse/internal/sso"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/teams"
	"github.com/gatehousehq/gatehouse/internal/token"
	"github.com/gatehousehq/gatehouse/internal/tracing"
	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/internal/users"
	"github.com/gatehousehq/gatehouse/internal/web"
)

// App is an assembled Gatehouse.
type App struct {
	Config   *config.Config
	Store    *store.Store
	Auth     *auth.Service
	Teams    *teams.Service
	Users    *users.Service
	Tokens   *token.Manager
	License  *license.Client
	SSO      *sso.Service
	Registry *prometheus.Registry
	Tracing  *tracing.Provider // nil when tracing is off

	log        *slog.Logger
	now        func() time.Time
	dispatcher *mail.Dispatcher
	version    string

	webOnce sync.Once
	web     *web.Web
	webErr  error

	keyMu      sync.Mutex // serialises reloads on unknown kids
	lastReload time.Time  // wall clock of the last such reload

	hostRoutes []httpapi.Route // a host program's routes (AddRoutes)
	api        httpapi.Server  // the API Handler assembled last, for its OpenAPI document
	// apiVersions is Options.APIVersions.
	apiVersions httpapi.Versions
}

// Options adjust the assembly.
type Options struct {
	Logger  *slog.Logger
	Now     func() time.Time // time.Now when nil
	Version string
	// SkipPrepare opens the database without migrating or creating the default admin (the
	// migrate command).
	SkipPrepare bool
	// MigrationSets are a host program's schemas, migrated after Gatehouse's (app_resources.go).
	MigrationSets []store.MigrationSet
	// APIVersions replaces the API version lifecycle table (httpapi.DefaultVersions when nil):
	// tests move a version through its lifecycle with it.
	APIVersions httpapi.Versions
}

// New connects to the database (waiting for it), migrates it when DB_AUTO_MIGRATE is on,
// creates the default admin when no user holds the admin role, and assembles the services.
func New(ctx context.Context, cfg *config.Config, o Options) (*App, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	a := &App{Config: cfg, log: o.Logger, now: o.Now, version: o.Version, apiVersions: o.APIVersions}
	if err := a.startTracing(ctx); err != nil {
		return nil, err
	}
	if err := checkMigrationSets(o.MigrationSets); err != nil {
		a.stopTracing()
		return nil, err
	}
	o.Logger.Info("connecting to database", "type", cfg.DB.Type, "hosts", hostsForLog(cfg.DB), "pool_size", cfg.DB.PoolSize)
	st, err := store.Open(ctx, cfg.DB, store.WithLogger(o.Logger), store.WithClock(o.Now), store.WithTracerProvider(a.tp()),
		store.WithMigrationSets(o.MigrationSets...))
	if err != nil {
		a.stopTracing()
		return nil, err
	}
	a.Store = st
	if o.SkipPrepare {
		return a, nil
	}
	if err := a.prepare(ctx); err != nil {
		_ = a.Close()
		return nil, err
	}
	return a, nil
}

func hostsForLog(db config.DB) string {
	if db.Type == config.DBSQLite {
		return db.Path
	}
	return fmt.Sprint(db.Hosts)
}

func (a *App) prepare(ctx context.Context) error {
	cfg := a.Config
	if cfg.DB.AutoMigrate {
		if _, err := a.Store.Migrate(ctx); err != nil {
			return err
		}
	} else if err := a.Store.Ready(ctx); err != nil {
		return fmt.Errorf("DB_AUTO_MIGRATE=false and the schema is not current (run \"gatehouse migrate up\"): %w", err)
	}
	hasher, err := a.hasher(ctx)
	if err != nil {
		return err
	}
	if err := a.ensureDefaultAdmin(ctx, hasher); err != nil {
		return err
	}
	if a.Tokens, err = a.tokenManager(ctx); err != nil {
		return err
	}
	var mailer auth.Mailer
	if cfg.SMTP.Enabled() {
		sender, err := mail.NewSMTPSender(mail.SMTPOptions{
			Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, User: cfg.SMTP.User, Pass: cfg.SMTP.Pass,
			From: cfg.SMTP.From, TLS: cfg.SMTP.TLS,
		})
		if err != nil {
			return fmt.Errorf("SMTP: %w", err)
		}
		a.dispatcher, err = mail.NewDispatcher(mail.DispatcherOptions{
			Store: a.Store, Sender: sender, Brand: mail.Brand{Name: cfg.BrandName}, Logger: a.log, Now: a.now, TracerProvider: a.tp(),
		})
		if err != nil {
			return err
		}
		mailer = a.dispatcher
	}
	lc := cfg.License
	a.License, err = license.New(license.Options{
		Key: lc.Key, ServerURL: lc.ServerURL, Product: lc.Product, RefreshInterval: lc.RefreshInterval,
		GracePeriod: lc.GracePeriod, Logger: a.log.With("component", "license"), Now: a.now, Version: a.version, TracerProvider: a.tp(),
		ActiveUsers: func(ctx context.Context) (int, error) {
			n, err := a.Store.CountUsers(ctx)
			return int(n), err
		},
	})
	if err != nil {
		return err
	}
	policy := auth.PasswordPolicy{
		MinLength: cfg.Security.PasswordLengthMin, MaxLength: auth.DefaultPasswordLengthMax,
		CheckStrength: cfg.Security.PasswordComplexity == "zxcvbn", MinScore: cfg.Security.ZxcvbnMinimumScore,
		ContextWords: []string{cfg.BrandName},
	}
	if u := cfg.Security.BreachedPasswordURL; u != "" {
		policy.Breached = &auth.BreachedRange{URL: u, Timeout: cfg.Security.BreachedPasswordTimeout, Log: a.log.With("component", "password-policy")}
	}
	sec := cfg.Security
	totpKeys, err := a.totpKeys(ctx)
	if err != nil {
		return err
	}
	tokenKey, err := a.tokenHMACKey(ctx)
	if err != nil {
		return err
	}
	deviceKey, err := a.deviceKey(ctx)
	if err != nil {
		return err
	}
	a.Auth = auth.New(a.Store, hasher, a.Tokens, mailer, auth.Options{
		PublicURL: cfg.PublicURL, BrandName: cfg.BrandName, AccessTTL: cfg.JWT.AccessTTL,
		RefreshMaxAge: sec.RefreshMaxAge, RefreshMaxIdle: sec.RefreshMaxIdle, RefreshGrace: sec.RefreshReuseGrace,
		Registerable: sec.Registerable, Confirmable: cfg.ConfirmableOn(), LoginWithoutConfirmation: sec.LoginWithoutConfirmation,
		ConfirmWithin: sec.ConfirmEmailWithin, Changeable: sec.Changeable, Recoverable: sec.Recoverable,
		ResetWithin: sec.ResetPasswordWithin, SendResetEmail: sec.SendPasswordResetEmail,
		SendResetNotice: sec.SendResetNoticeEmail, SendChangeNotice: sec.SendPasswordChangeEmail,
		Trackable: sec.Trackable, BackoffAfter: sec.LoginBackoffAfter, LockoutAfter: sec.LockoutAfter,
		LockoutDuration: sec.LockoutDuration, Policy: policy,
		DeviceKey: deviceKey, DeviceMaxAge: sec.DeviceTokenMaxAge, DeviceFailures: sec.DeviceTokenFailures,
		Passwordless: auth.PasswordlessOptions{Email: sec.PasswordlessEmail, Within: sec.PasswordlessWithin},
		Usernames: auth.UsernameOptions{Enable: sec.Username.Enable, Required: sec.Username.Required,
			Recovery: sec.Username.Recovery, Policy: sec.Username.Policy()},
		TwoFactorRequired: sec.TwoFactorRequired, TwoFactorRememberFor: sec.TwoFactorRememberFor, TOTPKeys: totpKeys,
		WebAuthnRPID: sec.WebAuthnRPID, WebAuthnRPName: cfg.BrandName, WebAuthnOrigins: sec.WebAuthnOrigins,
		PasskeyFirstFactor: sec.WANAllowAsFirstFactor, AuthenticatorSignIn: sec.PasswordlessAuthenticator,
		SSO:       auth.SSOOptions{DefaultRole: cfg.SSO.DefaultRole, Rules: cfg.SSO.RoleMapping},
		Freshness: sec.Freshness, TokenKey: tokenKey,
		TracerProvider: a.tp(),
	}, a.log, a.now)
	teamOpts := teams.Options{PublicURL: cfg.PublicURL, BrandName: cfg.BrandName, Now: a.now}
	if a.dispatcher != nil { // a nil *mail.Dispatcher in the interface would not be a nil Mailer
		teamOpts.Mailer = a.dispatcher
	}
	a.Teams = teams.New(a.Store, a.Auth, teamOpts)
	a.Users = a.newUsers()
	// SSO reads its files and key pair now; identity providers are contacted only when used.
	if a.SSO, err = sso.New(ctx, sso.Options{
		Config: cfg.SSO, PublicURL: cfg.PublicURL, BrandName: cfg.BrandName, Accounts: a.Auth, Store: a.Store,
		License: a.License, TrustedProxies: cfg.TrustedProxies, Logger: a.log.With("component", "sso"), Now: a.now,
	}); err != nil {
		return err
	}
	// The pages are built now so that a bad BRAND_LOGO_PATH stops the start-up.
	if _, err := a.WebPages(); err != nil {
		return err
	}
	return nil
}

// hasher returns the password hasher with SECURITY_PASSWORD_SALT, or the salt generated at
// the first start and stored in the database (shared by every instance).
func (a *App) hasher(ctx context.Context) (auth.Hasher, error) {
	salt := a.Config.Security.PasswordSalt
	if salt != "" && len(salt) < 16 {
		// Accepted (an imported Flask-Security installation's salt must keep its hashes
		// verifying), but a short secret is easier to guess once the database has leaked.
		a.log.Warn("SECURITY_PASSWORD_SALT is shorter than 16 characters; keep it to verify the hashes made with it, but prefer a long random secret for a new installation", "length", len(salt))
	}
	if salt == "" {
		fresh, err := auth.NewSalt()
		if err != nil {
			return auth.Hasher{}, err
		}
		if salt, err = a.Store.EnsureSetting(ctx, "password_salt", fresh); err != nil {
			return auth.Hasher{}, err
		}
	}
	return auth.Hasher{Cost: a.Config.Security.BcryptCost, Salt: []byte(salt)}, nil
}

// ensureDefaultAdmin creates the documented default admin when no user holds the admin role.
// The account must change its password before it can do anything else.
func (a *App) ensureDefaultAdmin(ctx context.Context, h auth.Hasher) error {
	// The common case, an admin exists, costs one read and no bcrypt work (~250 ms at cost 12).
	if exists, err := a.Store.AdminExists(ctx); err != nil || exists {
		return err
	}
	hash, scheme, err := h.Hash(a.Config.AdminPassword)
	if err != nil {
		return fmt.Errorf("ADMIN_PASSWORD: %w", err)
	}
	now := a.now()
	u := &gatehouse.User{
		Email: a.Config.AdminEmail, PasswordHash: hash, PasswordScheme: scheme,
		Active: true, MustChangePassword: true, ConfirmedAt: &now,
	}
	created, err := a.Store.EnsureAdmin(ctx, u)
	if gatehouse.ErrorCode(err) == gatehouse.EConflict {
		a.log.Warn("no user holds the admin role, and the default admin's address is taken by another account: grant it the admin role or set ADMIN_EMAIL", "email", a.Config.AdminEmail)
		return nil
	}
	if err != nil {
		return err
	}
	if created {
		a.log.Warn("created the default admin account; it must change its password at first login", "email", a.Config.AdminEmail)
	}
	return nil
}

// Handler builds the HTTP handler. Its collectors, with the Go and process collectors,
// register on a new a.Registry, which /metrics serves.
func (a *App) Handler() http.Handler {
	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.registerCollectors()
	deps := httpapi.Deps{
		Logger:         a.log,
		Now:            a.now,
		Version:        a.version,
		Ready:          a.Store.Ready,
		DBStats:        a.Store.DB().Stats,
		Registry:       a.Registry,
		Auth:           a.Auth,
		Users:          a.Users,
		Teams:          a.Teams,
		License:        a.License,
		TrustedProxies: a.Config.TrustedProxies,
		TracerProvider: a.tp(),
	}
	var opts []httpapi.Option
	if a.SSO != nil {
		opts = append(opts, httpapi.WithRoutes(a.SSO.APIRoutes()...))
	}
	opts = append(opts, httpapi.WithRoutes(a.hostRoutes...))
	if a.apiVersions != nil {
		opts = append(opts, httpapi.WithVersions(a.apiVersions))
	}
	api := httpapi.NewServer(deps, opts...)
	a.api = api
	pages, err := a.WebPages()
	if err != nil { // New has built them already, so this cannot happen after a successful New
		a.log.Error("web pages unavailable", "error", err)
		return api
	}
	// Which paths go to the API and which to the pages is computed from the routes both serve
	// (the route table, and the host's routes given to the API).
	served := slices.Concat(api.Routes(), pages.Routes())
	if missing := transport.Missing(served); len(missing) > 0 {
		// A route of the table that nothing serves: a programming error, refused like a
		// conflicting route pattern.
		panic(fmt.Sprintf("app: routes of the route table that nothing serves: %v", missing))
	}
	h, err := transport.Dispatch(served, api,
		tracing.Handler(a.tp(), "github.com/gatehousehq/gatehouse/internal/web", pages.Route, pages))
	if err != nil {
		panic(fmt.Sprintf("app: the routes served do not match the route table: %v", err))
	}
	return h
}

// WebPages builds the server-rendered pages (internal/web) once; SSO and tests reach them here.
// A logo that cannot be read is reported by New, before anything is served.
func (a *App) WebPages() (*web.Web, error) {
	a.webOnce.Do(func() {
		cfg := a.Config
		opts := web.Options{
			Auth: a.Auth, Teams: a.Teams, Users: a.Users, System: systemInfo{a}, Sessions: a.Store.WebSessions(), Logger: a.log.With("component", "web"), Now: a.now,
			BrandName: cfg.BrandName, LogoPath: cfg.Web.LogoPath, CookieSecure: cfg.Web.CookieSecure,
			TrustedProxies: cfg.TrustedProxies, RememberDuration: cfg.Security.RememberDuration,
			Freshness: cfg.Security.Freshness, Mail: cfg.SMTP.Enabled(), APIDocument: apiDocument(),
		}
		if a.SSO != nil { // a nil *sso.Service in the interface would not be a nil SSOButtons
			opts.SSO = a.SSO
		}
		a.web, a.webErr = web.New(opts)
		if a.webErr == nil && a.SSO != nil {
			// The /sso/ browser endpoints run behind the pages' middleware and sign in through
			// their sessions.
			a.SSO.Mount(a.web, a.web)
		}
	})
	return a.web, a.webErr
}

// apiDocument is the path of the current API version's OpenAPI document, which the API
// reference page (/api/docs) renders.
func apiDocument() string { return fmt.Sprintf("/api/v%d/openapi.json", CurrentAPIVersion()) }

// Run runs the background work until ctx ends: mail delivery and signing-key reloads.
func (a *App) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if a.License != nil {
		// Validation runs in the background: start-up never waits for the license server, and
		// HasFeature answers from the cache meanwhile.
		wg.Go(func() { a.License.Run(ctx) })
	}
	if a.Store != nil && a.Auth != nil {
		wg.Go(func() { a.cleanUp(ctx) })
	}
	if a.dispatcher != nil {
		wg.Go(func() {
			if err := a.dispatcher.Run(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("mail dispatcher stopped", "error", err)
			}
		})
	}
	if a.Tokens != nil {
		wg.Go(func() { a.reloadKeysEvery(ctx, KeyReloadInterval) })
	}
	wg.Wait()
}

// cleanupEvery is how often dead rows are deleted: expired page sessions, and the security
// records PurgeExpired removes. Dead rows are never used; this only keeps the tables small, so
// every instance may do it (the deletes are idempotent and batched).
const cleanupEvery = 15 * time.Minute

// purgeAfter is how long dead security records (ended sessions, used or expired links and
// challenges, idle brute-force counters) are kept before they are deleted: long enough for an
// operator looking into an incident of the last days; the audit trail is kept regardless.
const purgeAfter = 7 * 24 * time.Hour

func (a *App) cleanUp(ctx context.Context) {
	t := time.NewTicker(cleanupEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.cleanOnce(ctx)
		}
	}
}

func (a *App) cleanOnce(ctx context.Context) {
	if n, err := a.Store.DeleteExpiredWebSessions(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("expired page sessions not deleted", "error", err)
	} else if n > 0 {
		a.log.Debug("deleted expired page sessions", "count", n)
	}
	if rep, err := a.Store.PurgeExpired(ctx, a.now().Add(-purgeAfter)); err != nil && ctx.Err() == nil {
		a.log.Warn("dead security records not deleted", "error", err)
	} else {
		for table, n := range rep {
			if n > 0 {
				a.log.Debug("deleted dead security records", "table", table, "count", n)
			}
		}
	}
}

// Close releases the database pool, then flushes and stops tracing.
func (a *App) Close() error { defer a.stopTracing(); return a.Store.Close() }
