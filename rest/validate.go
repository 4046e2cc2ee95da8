package rest

import (
	"maps"
	"slices"
	"strings"

	"github.com/gatehousehq/gatehouse"
)

// Problems collects field errors while a request is validated, so that a client learns about every
// bad field in one response rather than one per attempt. The zero value is ready to use:
//
//	func (req createTeamRequest) Validate() error {
//		var p rest.Problems
//		p.Check(req.Name != "", "name", "is required")
//		p.Check(utf8.RuneCountInString(req.Name) <= 100, "name", "must be at most 100 characters")
//		p.Check(req.Slug == "" || slugRE.MatchString(req.Slug), "slug", "must be lowercase letters, digits and dashes")
//		return p.Err()
//	}
//
// Field names are JSON paths in the request ("owner.email", "members.2.role"), as in Decode's
// errors.
type Problems struct {
	fields map[string]string
}

// Add records a problem with a field. The first problem recorded for a field wins, so checks can
// be written from the most basic ("is required") to the most specific.
func (p *Problems) Add(field, problem string) {
	if p.fields == nil {
		p.fields = map[string]string{}
	}
	if _, seen := p.fields[field]; !seen {
		p.fields[field] = problem
	}
}

// Check records problem for field unless ok holds.
func (p *Problems) Check(ok bool, field, problem string) {
	if !ok {
		p.Add(field, problem)
	}
}

// Empty reports whether no problem has been recorded.
func (p *Problems) Empty() bool { return len(p.fields) == 0 }

// Err returns nil when nothing was recorded, and otherwise an EInvalid *gatehouse.Error whose
// Fields hold every problem and whose message lists them, in field order.
func (p *Problems) Err() error {
	if p.Empty() {
		return nil
	}
	var msgs []string
	for _, field := range slices.Sorted(maps.Keys(p.fields)) {
		msgs = append(msgs, field+": "+p.fields[field])
	}
	return &gatehouse.Error{
		Code:    gatehouse.EInvalid,
		Message: "invalid request: " + strings.Join(msgs, "; "),
		Fields:  maps.Clone(p.fields),
	}
}
