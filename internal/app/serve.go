package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime/debug"

	"github.com/gatehousehq/gatehouse/internal/config"
	"github.com/gatehousehq/gatehouse/internal/httpapi"
)

// Serving is shared by the gatehouse command and a host program (the public server package), so
// that both get the same HTTP server settings, TLS and graceful shutdown.

// ApplyMemoryLimit applies MEMORY_LIMIT, unless GOMEMLIMIT is set: the runtime has then applied
// that already, and an operator who used Go's own variable means it.
func ApplyMemoryLimit(cfg *config.Config, getenv func(string) string) {
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := cfg.MemoryLimit
	if limit == 0 {
		limit = math.MaxInt64 // the runtime's "no limit"
	}
	debug.SetMemoryLimit(limit)
}

// ServeHTTP serves h on ln until ctx ends, then shuts down gracefully within SHUTDOWN_TIMEOUT.
// It serves HTTPS when TLS_CERT_FILE is set.
func ServeHTTP(ctx context.Context, cfg *config.Config, ln net.Listener, h http.Handler, log *slog.Logger) error {
	useTLS := cfg.TLSCertFile != ""
	srv := httpapi.NewHTTPServer(cfg.HTTPAddr, h, useTLS)
	srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	proto := "http (HTTP/1.1, h2c)"
	if useTLS {
		proto = "https (HTTP/1.1, HTTP/2)"
	}
	log.Info("listening", "addr", ln.Addr().String(), "protocol", proto)

	errc := make(chan error, 1)
	go func() {
		if useTLS {
			errc <- srv.ServeTLS(ln, cfg.TLSCertFile, cfg.TLSKeyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
