package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/gatehousehq/gatehouse"
)

// BenchmarkAdminUsersList measures the console's user list with 10,000 accounts on SQLite,
// through HTTP as a browser asks for it: the first page, a search that scans every address, and
// a deep page by cursor. The goal (issue 15) is under 100 ms for the first page.
func BenchmarkAdminUsersList(b *testing.B) {
	s := startSite(b, siteOptions{})
	s.createUser("root@example.com", strongPassword, gatehouse.RoleAdmin)
	ctx := context.Background()
	for i := range 10000 {
		if err := s.app.Store.CreateUser(ctx, &gatehouse.User{Email: fmt.Sprintf("user%05d@example.com", i), Active: i%7 != 0,
			Roles: []gatehouse.Role{gatehouse.RoleViewer}}); err != nil {
			b.Fatal(err)
		}
	}
	br := s.browser()
	br.login("root@example.com", strongPassword, "/profile")
	for _, c := range []struct{ name, path string }{
		{"first-page", "/admin/users"},
		{"search", "/admin/users?q=user09"},
		{"filtered", "/admin/users?role=viewer&active=false&sort=-email"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if r := br.get(c.path); r.status != http.StatusOK {
					b.Fatalf("%s: %d", c.path, r.status)
				}
			}
		})
	}
}
