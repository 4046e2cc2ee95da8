package rest

import (
	"testing"

	"github.com/gatehousehq/gatehouse"
)

func TestStatusTableCoversEveryCode(t *testing.T) {
	want := map[gatehouse.Code]int{
		gatehouse.EInvalid: 400, gatehouse.EUnauthenticated: 401, gatehouse.EForbidden: 403,
		gatehouse.ENotFound: 404, gatehouse.EMethod: 405, gatehouse.EConflict: 409, gatehouse.EGone: 410,
		gatehouse.EPrecondition: 412,
		gatehouse.ETooLarge:     413, gatehouse.EUnsupported: 415, gatehouse.ERateLimited: 429,
		gatehouse.EUnavailable: 503, gatehouse.EInternal: 500,
	}
	for code, status := range want {
		if got := StatusFor(code); got != status {
			t.Errorf("StatusFor(%q) = %d, want %d", code, got, status)
		}
	}
	if len(statusByCode) != len(want) {
		t.Errorf("status table has %d codes, test knows %d: update both", len(statusByCode), len(want))
	}
	if got := StatusFor("bogus"); got != 500 {
		t.Errorf("unknown code status = %d", got)
	}
}
