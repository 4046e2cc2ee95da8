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
