package transport

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehousehq/gatehouse/rest"
)

// Regenerate the route list of docs/api.md after changing the table.
//go:generate go test -run TestAPIDocRoutes . -args -update

// Markdown renders the route table for docs/api.md: every route with the side that serves it,
// who may use it, its body limit and the authorization action that guards it, in the table's
// order. TestAPIDocRoutes keeps the document equal to it.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| Route | Served by | Who may use it | Body limit | Action |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, r := range table {
		action := ""
		if r.Action != "" {
			action = "`" + r.Action + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", r.Pattern, servedBy(r.Chain), who(r), limit(r), action)
	}
	return b.String()
}

func servedBy(c Chain) string {
	switch c {
	case API:
		return "API"
	case Page:
		return "pages"
	case PageCrossSite:
		return "pages, cross-site posts accepted"
	case Asset:
		return "pages, without session"
	}
	return c.String()
}

// who describes r.Auth: a bearer token on the API, the page session on the pages.
func who(r Route) string {
	if r.Auth == rest.Public {
		return "anyone"
	}
	if r.Auth == rest.OptionalAuthMayChangePassword {
		return "anyone; a token is read when sent"
	}
	s := "signed in"
	switch r.Auth {
	case rest.AuthenticatedMayChangePassword:
		s += ", also before a required password change"
	case rest.AuthenticatedTwoFactorSetup:
		s += ", also before a required second factor is set up"
	}
	return s
}

// limit is r's body limit as the chain applies it: the default when the route sets none, none for
// a page that reads no body.
func limit(r Route) string {
	n := r.BodyLimit
	switch {
	case n > 0:
	case r.Chain == API:
		return size(rest.DefaultBodyLimit) + " (default)"
	case r.Method() == http.MethodPost:
		n = 64 << 10 // web's maxFormBytes
	default:
		return "—"
	}
	return size(n)
}

func size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
