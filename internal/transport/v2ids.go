package transport

import "strings"

// IDMember reports whether a JSON object member of this name holds an identifier: in API v2 its
// integer value is a decimal string ("id": "42", "team_id": "7"), since JavaScript clients
// cannot hold every 64-bit integer exactly.
func IDMember(name string) bool {
	return name == "id" || strings.HasSuffix(name, "_id")
}
