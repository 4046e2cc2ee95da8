package apidoc_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/httpapi"
	"github.com/gatehousehq/gatehouse/internal/sso"
	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/rest"
)

// gatehouseOperations are the descriptions of Gatehouse's own API routes: internal/httpapi's
// and single sign-on's.
func gatehouseOperations(t *testing.T) map[string]rest.Operation {
	ops := httpapi.Operations()
	for p, op := range sso.Operations() {
		if _, dup := ops[p]; dup {
			t.Errorf("%s is described twice, by internal/httpapi and internal/sso", p)
		}
		ops[p] = op
	}
	return ops
}

// TestOperationsCoverRoutes: every API route of the route table has its operation, and every
// operation describes a route of the table.
func TestOperationsCoverRoutes(t *testing.T) {
	ops := gatehouseOperations(t)
	for _, r := range transport.Routes() {
		if r.Chain != transport.API {
			continue
		}
		op, ok := ops[r.Pattern]
		if !ok {
			t.Errorf("route %s has no operation: describe it in internal/httpapi/operations.go", r.Pattern)
			continue
		}
		if op.Summary == "" {
			t.Errorf("the operation of %s has no summary", r.Pattern)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(ops)) {
		if r, ok := transport.Lookup(p); !ok || r.Chain != transport.API {
			t.Errorf("operation %s names no API route of the route table", p)
		}
	}
}
