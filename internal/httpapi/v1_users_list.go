package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/users"
	"github.com/gatehousehq/gatehouse/rest"
)

// GET /api/v1/users: filters, sorts and keyset pages.

// userCursor is the position after the last user of a page: the sort it was made for, the sort
// key of that user and its id (the tie-breaker).
type userCursor struct {
	Sort      string    `json:"s"`
	ID        int64     `json:"id"`
	Email     string    `json:"e,omitzero"`
	CreatedAt time.Time `json:"t,omitzero"`
}

// userListQuery reads the filters, sort and page of GET /api/v1/users.
func userListQuery(r *http.Request) (gatehouse.UserQuery, Page, error) {
	page, err := ParsePage(r, "email", "username", "role", "active", "confirmed", "locked", "two_factor", "sso_only", "sort")
	if err != nil {
		return gatehouse.UserQuery{}, page, err
	}
	q := gatehouse.UserQuery{Limit: page.Limit, Sort: gatehouse.DefaultUserSort}
	var p Problems
	v, err := singleParams(r, "email", "username", "role", "active", "confirmed", "locked", "two_factor", "sso_only", "sort")
	if err != nil {
		return q, page, err
	}
	q.EmailContains = v["email"]
	p.Check(utf8.RuneCountInString(q.EmailContains) <= 320, "email", "must be at most 320 characters")
	q.UsernameContains = v["username"]
	p.Check(utf8.RuneCountInString(q.UsernameContains) <= 320, "username", "must be at most 320 characters")
	if name := v["role"]; name != "" {
		role, problem := parseGlobalRole(name)
		p.Check(problem == "", "role", problem)
		q.Role = role
	}
	for name, dst := range map[string]**bool{"active": &q.Active, "confirmed": &q.Confirmed, "locked": &q.Locked, "two_factor": &q.TwoFactor, "sso_only": &q.SSOOnly} {
		switch v[name] {
		case "":
		case "true", "false":
			b := v[name] == "true"
			*dst = &b
		default:
			p.Add(name, "must be true or false")
		}
	}
	if sort := v["sort"]; sort != "" {
		q.Sort = gatehouse.UserSort(sort)
		if !q.Sort.Valid() {
			names := make([]string, len(gatehouse.UserSorts))
			for i, x := range gatehouse.UserSorts {
				names[i] = string(x)
			}
			p.Add("sort", "must be one of "+strings.Join(names, ", "))
		}
	}
	if err := p.Err(); err != nil {
		return q, page, err
	}
	if page.Cursor != nil {
		var c userCursor
		if err := page.DecodeCursor(&c); err != nil {
			return q, page, err
		}
		if c.ID < 1 {
			return q, page, gatehouse.FieldError("cursor", "is not a cursor this API returned")
		}
		if c.Sort != string(q.Sort) {
			return q, page, gatehouse.FieldError("cursor", fmt.Sprintf("was made for sort=%s; keep the sort while paging, or start again without a cursor", c.Sort))
		}
		q.After = &gatehouse.UserPosition{ID: c.ID, Email: c.Email, CreatedAt: c.CreatedAt}
	}
	return q, page, nil
}

// singleParams returns the values of the named query parameters, refusing any given twice: it
// is unclear which one the client meant.
func singleParams(r *http.Request, names ...string) (map[string]string, error) {
	q := r.URL.Query()
	out := make(map[string]string, len(names))
	for _, n := range names {
		vs := q[n]
		if len(vs) > 1 {
			return nil, gatehouse.FieldError(n, "must be given at most once")
		}
		if len(vs) == 1 {
			out[n] = strings.TrimSpace(vs[0])
		}
	}
	return out, nil
}

func (s *server) handleListUsers(w http.ResponseWriter, r *http.Request) error {
	q, page, err := userListQuery(r)
	list, err := s.users.List(r.Context(), gatehouse.PrincipalFrom(r.Context()), users.Query{UserQuery: q, Invalid: err})
	if err != nil {
		return err
	}
	list, next := rest.Paginate(list, page.Limit, func(u *gatehouse.User) any {
		at := q.Sort.PositionOf(u)
		return userCursor{Sort: string(q.Sort), ID: at.ID, Email: at.Email, CreatedAt: at.CreatedAt}
	})
	out := make([]userResource, len(list))
	for i, u := range list {
		out[i] = s.userResourceOf(u)
	}
	return RespondPage(w, r, out, page.Limit, next)
}
