package rbac

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gatehousehq/gatehouse"
)

// A host program adds the rules of its own resources to the table (Register), so that its
// actions are decided, listed and rendered exactly like Gatehouse's: Decide, Actions, Rules,
// RuleFor, Matrix and MatrixMarkdown all read the current table, which is Gatehouse's rules
// followed by the registered ones in registration order.
//
// The table is replaced as a whole on every registration (copy on write), so Decide, which runs on
// every request, reads it with one atomic load and never waits for a lock.

// table is one immutable version of the authorization table.
type table struct {
	rules []Rule
	index map[Action]int
}

func newTable(rs []Rule) *table {
	t := &table{rules: rs, index: make(map[Action]int, len(rs))}
	for i, r := range rs {
		t.index[r.Action] = i
	}
	return t
}

var (
	// current is the table in force: Gatehouse's rules until a host registers its own.
	current atomic.Pointer[table]
	// registerMu serialises registrations (readers only load current).
	registerMu sync.Mutex
)

// active returns the table in force.
func active() *table {
	if t := current.Load(); t != nil {
		return t
	}
	// First use: Gatehouse's own rules. CompareAndSwap keeps a registration that raced ahead.
	current.CompareAndSwap(nil, newTable(slices.Clone(rules)))
	return current.Load()
}

// actionName is the shape of an action: dot-separated lower-case words, the resource first
// ("notes.create", "users.reset_two_factor").
var actionName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// Register adds rules to the authorization table, after Gatehouse's own and those registered
// before. Each rule is checked (see ValidateRule), and its action must be new: registering an
// action that exists with a different rule is an error, while registering the very same rule
// again does nothing (a test binary builds many servers with the same resources). Either every
// rule is added or none is.
func Register(rs ...Rule) error {
	var errs []error
	for _, r := range rs {
		if err := ValidateRule(r); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	registerMu.Lock()
	defer registerMu.Unlock()
	cur := active()
	next := slices.Clone(cur.rules)
	added := map[Action]int{}
	for _, r := range rs {
		r = r.clone()
		if i, ok := cur.index[r.Action]; ok {
			if _, builtin := ruleIndex[r.Action]; builtin {
				errs = append(errs, fmt.Errorf("rbac: action %q is one of Gatehouse's own; name yours after your resource", r.Action))
			} else if !sameRule(cur.rules[i], r) {
				errs = append(errs, fmt.Errorf("rbac: action %q is already registered with another rule", r.Action))
			}
			continue
		}
		if j, ok := added[r.Action]; ok {
			if !sameRule(next[j], r) {
				errs = append(errs, fmt.Errorf("rbac: action %q is given twice with different rules", r.Action))
			}
			continue
		}
		added[r.Action] = len(next)
		next = append(next, r)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if len(added) > 0 {
		current.Store(newTable(next))
	}
	return nil
}

// ValidateRule checks a rule before it joins the table: a well-formed action name, a group, an
// endpoint ("METHOD /path") and a summary for the document, one of the scopes, known global and
// team roles without repeats, team roles only on a team-scoped rule, and at least one grant (a
// rule that allows nobody is a mistake, not a policy).
func ValidateRule(r Rule) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("rbac: rule %q: %s", r.Action, fmt.Sprintf(format, args...))
	}
	switch {
	case !actionName.MatchString(string(r.Action)):
		return bad(`the action must be dot-separated lower-case words such as "notes.create"`)
	case strings.TrimSpace(string(r.Group)) == "":
		return bad("a group is required (it titles the action's section of the matrix)")
	case strings.TrimSpace(r.Summary) == "":
		return bad(`a summary is required (it completes "may …")`)
	case !slices.Contains(gatehouse.AllScopes, r.Scope):
		return bad("scope %q is not one of read, write, admin", r.Scope)
	case !r.AnyAccount && len(r.Global) == 0 && len(r.Team) == 0:
		return bad("it grants the action to nobody")
	case len(r.Team) > 0 && !r.TeamScoped:
		return bad("team roles grant only a team-scoped action (set TeamScoped)")
	}
	if method, path, ok := strings.Cut(r.Endpoint, " "); !ok || method == "" || method != strings.ToUpper(method) || !strings.HasPrefix(path, "/") {
		return bad(`endpoint %q must be "METHOD /path"`, r.Endpoint)
	}
	for i, g := range r.Global {
		if !g.Valid() {
			return bad("global role %q is not one of admin, maintainer, viewer", g)
		}
		if slices.Contains(r.Global[:i], g) {
			return bad("global role %q is listed twice", g)
		}
	}
	for i, t := range r.Team {
		if !t.Valid() {
			return bad("team role %q is not one of owner, admin, member, viewer", t)
		}
		if slices.Contains(r.Team[:i], t) {
			return bad("team role %q is listed twice", t)
		}
	}
	return nil
}

// sameRule reports whether two rules say the same thing.
func sameRule(a, b Rule) bool {
	return a.Action == b.Action && a.Group == b.Group && a.Endpoint == b.Endpoint && a.Summary == b.Summary &&
		a.Scope == b.Scope && a.AnyAccount == b.AnyAccount && a.TeamScoped == b.TeamScoped &&
		slices.Equal(a.Global, b.Global) && slices.Equal(a.Team, b.Team)
}
