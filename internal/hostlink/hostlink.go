// Package hostlink lets Gatehouse's public test helpers (server/servertest) reach the assembled
// app behind a *server.Server (to create accounts and teams directly, and to sign tokens with
// scopes no login grants) without widening the public API: a host program cannot import it.
package hostlink

import (
	"sync"

	"github.com/gatehousehq/gatehouse/internal/app"
)

var apps sync.Map // key (a *server.Server) → *app.App

// Link records the app behind key, until Unlink.
func Link(key any, a *app.App) { apps.Store(key, a) }

// Unlink forgets key.
func Unlink(key any) { apps.Delete(key) }

// App returns the app behind key.
func App(key any) (*app.App, bool) {
	a, ok := apps.Load(key)
	if !ok {
		return nil, false
	}
	return a.(*app.App), true
}
