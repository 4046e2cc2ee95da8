// Command notes is a host program built on Gatehouse: Gatehouse's accounts, sign-in, tokens,
// teams and API, plus a resource of its own, a team's notes (notes.go).
//
//	cd examples/notes && go run .
//
// serves it on :8080 with a SQLite database in ./data; every setting of the gatehouse command
// applies (docs/configuration.md), read from the environment.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/gatehousehq/gatehouse/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "notes:", err)
		os.Exit(1)
	}
}

// run starts Gatehouse with the notes resource and serves until ctx ends.
func run(ctx context.Context, getenv func(string) string) error {
	srv, err := server.New(ctx, server.Options{Getenv: getenv, Resources: []server.Resource{Notes()}})
	if err != nil {
		return err
	}
	defer func() { _ = srv.Close() }()
	return srv.ListenAndServe(ctx)
}
