package transport

import "strings"

// IDMember reports whether a JSON object member of this name holds an identifier. API v2 writes
// such members as decimal strings when their value is an integer (JavaScript clients cannot hold
// 64-bit integers exactly) and accepts them as strings or numbers in request bodies; v1 keeps the
// numbers. The rule is one function so that the v2 adapter (internal/httpapi) and the v2 OpenAPI
// document cannot disagree on which members it covers.
func IDMember(name string) bool {
	return name == "id" || strings.HasSuffix(name, "_id")
}
