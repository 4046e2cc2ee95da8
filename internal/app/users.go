package app

import (
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/store"
	"github.com/gatehousehq/gatehouse/internal/users"
)

// Compile-time checks that the store and the account service are what the user
// administration consumes.
var (
	_ users.Store    = (*store.Store)(nil)
	_ users.Accounts = (*auth.Service)(nil)
)

// newUsers wires the user administration over the store and the account rules.
func (a *App) newUsers() *users.Service {
	o := users.Options{Store: a.Store, Accounts: a.Auth, NewStamp: store.NewSecurityStamp,
		Logger: a.log.With("component", "users"), Now: a.now}
	if a.License != nil { // a nil *license.Client in the interface would not be a nil License
		o.License = a.License
	}
	return users.New(o)
}
