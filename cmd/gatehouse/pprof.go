package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof serves Go's profiler (net/http/pprof) on DEBUG_PPROF_ADDR, on a listener of its
// own so that it is never reachable through HTTP_ADDR, until ctx ends. The configuration only
// accepts a loopback IP; the bound address is checked again here, so nothing but loopback is
// ever served whatever the address resolved to. It returns once the listener is open (or failed
// to open); the returned wait function blocks until the server has stopped.
func servePprof(ctx context.Context, addr string, log *slog.Logger) (wait func(), err error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on DEBUG_PPROF_ADDR=%s: %w", addr, err)
	}
	if ta, ok := ln.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		_ = ln.Close()
		return nil, fmt.Errorf("DEBUG_PPROF_ADDR=%s: bound to %s, which is not a loopback address", addr, ln.Addr())
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index) // also the named profiles: heap, goroutine, mutex, …
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	// No write timeout: a CPU profile or trace answers after the ?seconds= it was asked for.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Warn("profiler listening (DEBUG_PPROF_ADDR): turn it off when done", "addr", ln.Addr().String())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("profiler server failed", "error", err)
		}
	}()
	go func() {
		<-ctx.Done()
		// Profiles in progress are cut short: they are diagnostics, not requests to finish.
		_ = srv.Close()
	}()
	return func() { <-done }, nil
}
