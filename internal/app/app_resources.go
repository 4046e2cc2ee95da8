package app

import (
	"fmt"

	"github.com/gatehousehq/gatehouse/internal/httpapi"
	"github.com/gatehousehq/gatehouse/internal/store"
)

// A host program (the public server package) adds its resources to the assembly: their schemas
// through Options.MigrationSets, migrated with Gatehouse's, and their routes through AddRoutes,
// served by the same API handler as Gatehouse's own.

// checkMigrationSets refuses a set that could not be applied everywhere, and two sets that would
// share a version table.
func checkMigrationSets(sets []store.MigrationSet) error {
	seen := map[string]bool{}
	for _, set := range sets {
		if err := store.CheckMigrationSet(set); err != nil {
			return err
		}
		if seen[set.Name] {
			return fmt.Errorf("app: two migration sets are named %q", set.Name)
		}
		seen[set.Name] = true
	}
	return nil
}

// AddRoutes adds a host's routes to the API handler that Handler builds next: the same middleware
// chain, envelope, error writer, authentication modes and version table as Gatehouse's routes.
// Call it before Handler.
func (a *App) AddRoutes(routes ...httpapi.Route) {
	a.hostRoutes = append(a.hostRoutes, routes...)
}
