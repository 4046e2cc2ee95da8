// Package rbac makes every authorization decision in Gatehouse. One table (rules) says, for each
// action of a closed set, the scope a token must carry, the global roles that grant the action on
// every resource and the team roles that grant it within their own team; Decide reads it, and so
// does MatrixMarkdown, which renders docs/authorization.md's matrix. A test fails when that
// document and the code disagree, and another checks Decide against an oracle written from the
// rules in prose.
//
// Decide knows nothing about HTTP or storage: a handler loads the resource, finds the caller's
// role in the team that owns it, and asks.
package rbac

// Regenerate the matrix in docs/authorization.md after changing the table.
//go:generate go test -run TestAuthorizationDocMatrix . -args -update
