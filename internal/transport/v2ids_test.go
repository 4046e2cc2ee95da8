package transport

import "testing"

func TestIDMember(t *testing.T) {
	for name, want := range map[string]bool{
		"id": true, "team_id": true, "user_id": true, "request_id": true, "_id": true,
		"ID": false, "ids": false, "identity": false, "idle": false, "team_ids": false, "kid": false, "": false,
	} {
		if got := IDMember(name); got != want {
			t.Errorf("IDMember(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestV2Route(t *testing.T) {
	r, ok := V2Route(Route{Pattern: "GET /api/v1/teams/{id}", Chain: API, Auth: signedIn, Action: "teams.read"})
	if !ok || r != (Route{Pattern: "GET /api/v2/teams/{id}", Chain: API, Auth: signedIn, Action: "teams.read"}) {
		t.Errorf("V2Route = %+v, %v", r, ok)
	}
	for _, p := range []Route{{Pattern: "GET /healthz", Chain: API}, {Pattern: "GET /api/v2/x", Chain: API}, {Pattern: "GET /api/v1/x", Chain: Page}} {
		if _, ok := V2Route(p); ok {
			t.Errorf("V2Route(%+v) derived a route", p)
		}
	}
	all := V2Routes(Routes())
	if len(all) == 0 || len(all) != len(V2Routes(all))+len(all) {
		t.Errorf("V2Routes derived %d routes", len(all))
	}
}
