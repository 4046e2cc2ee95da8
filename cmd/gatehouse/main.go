// Command gatehouse runs the Gatehouse service and its maintenance commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	// The time zone database inside the binary (about 450 kB): the container image is FROM
	// scratch, and a copy of /usr/share/zoneinfo would weigh 2 MB there. Go still prefers the
	// system's database where there is one (systemd installs).
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
