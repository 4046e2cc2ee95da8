package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/config"
)

const serveHelp = `Usage: gatehouse [serve]

Runs the service: binds HTTP_ADDR (a busy port stops it at once), waits for the database
(DB_CONNECT_TIMEOUT; refused credentials or an unknown database stop it at once), applies pending migrations
(DB_AUTO_MIGRATE), creates the default admin when no user holds the admin role, and serves
HTTP on HTTP_ADDR until SIGINT or SIGTERM, then finishes in-flight requests
(SHUTDOWN_TIMEOUT). Configuration comes from the environment: see docs/configuration.md.
`

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if fs, code, done := parseFlags("serve", serveHelp, args, stdout, stderr); done || fs.NArg() > 0 {
		if !done {
			_, _ = fmt.Fprintf(stderr, "gatehouse serve: unexpected arguments %q\n%s", fs.Args(), serveHelp)
			code = exitConfig
		}
		return code
	}
	cfg, log, ok := loadConfig(getenv, stdout, stderr)
	if !ok {
		return exitConfig
	}
	log.Info("starting gatehouse", "version", buildVersion(), "db_type", cfg.DB.Type, "http_addr", cfg.HTTPAddr)
	setMemoryLimit(cfg, getenv)

	// The address is bound before the database work, so a port already in use is reported at
	// once, not after migrations and key generation. Connections that arrive meanwhile wait in
	// the listen backlog until the handler is ready.
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.HTTPAddr)
	if err != nil {
		log.Error("start-up failed", "error", fmt.Errorf("listen on HTTP_ADDR=%s: %w", cfg.HTTPAddr, err))
		return exitFail
	}
	defer func() { _ = ln.Close() }()

	a, err := app.New(ctx, cfg, app.Options{Logger: log, Version: buildVersion()})
	if err != nil {
		log.Error("start-up failed", "error", err)
		return exitFail
	}
	defer func() { _ = a.Close() }()

	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if cfg.DebugPprofAddr != "" {
		waitPprof, err := servePprof(bg, cfg.DebugPprofAddr, log)
		if err != nil {
			stopBG()
			log.Error("start-up failed", "error", err)
			return exitFail
		}
		wg.Go(waitPprof)
	}
	wg.Go(func() { a.Run(bg) })
	err = serveHTTP(ctx, cfg, ln, a.Handler(), log)
	stopBG()
	wg.Wait()
	if err != nil {
		log.Error("http server failed", "error", err)
		return exitFail
	}
	return exitOK
}

// setMemoryLimit applies MEMORY_LIMIT as a host program built on Gatehouse does (app.ApplyMemoryLimit).
func setMemoryLimit(cfg *config.Config, getenv func(string) string) {
	app.ApplyMemoryLimit(cfg, getenv)
}

// serveHTTP serves on ln until ctx ends, then shuts down gracefully (app.ServeHTTP, shared with
// host programs).
func serveHTTP(ctx context.Context, cfg *config.Config, ln net.Listener, h http.Handler, log *slog.Logger) error {
	return app.ServeHTTP(ctx, cfg, ln, h, log)
}
