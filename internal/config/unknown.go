package config

import (
	"slices"
	"strings"
)

// notFamilies are first words of variables in the table that are not Gatehouse's own
// namespace, so that other names beginning with them are not Gatehouse's typos:
//   - OTEL: the OpenTelemetry specification's variables, read by other components of the same
//     deployment (OTEL_RESOURCE_ATTRIBUTES, OTEL_LOGS_EXPORTER, …); Gatehouse reads six of them.
//   - HTTP: HTTP_PROXY and friends belong to Go's net/http and to every other HTTP client.
var notFamilies = []string{"OTEL", "HTTP"}

// Prefixes returns the name prefixes ("DB_", "SECURITY_", …) that belong to Gatehouse: the first
// word of every family of variables in the table (two or more variables share it), except the
// standard namespaces in notFamilies. A lone variable's first word (ADMIN_, DEBUG_, MEMORY_) is
// no family: other software has variables beginning with it.
func Prefixes() []string {
	count := map[string]int{}
	for _, v := range vars {
		first, _, _ := strings.Cut(v.Name, "_")
		count[first]++
	}
	var out []string
	for first, n := range count {
		if n >= 2 && !slices.Contains(notFamilies, first) {
			out = append(out, first+"_")
		}
	}
	slices.Sort(out)
	return out
}

// KnownName reports whether name is a variable Gatehouse reads: one in the table, or the
// NAME_FILE form of one that may come from a file.
func KnownName(name string) bool {
	for _, v := range vars {
		if name == v.Name || (v.File && name == v.Name+"_FILE") {
			return true
		}
	}
	return false
}

// UnknownVar is an environment variable named like Gatehouse's (one of Prefixes) that
// Gatehouse does not read, with the known variable whose name is closest: most likely a typo or
// a name from another product (Flask-Security's PASSWORD_COMPLEXITY for
// SECURITY_PASSWORD_COMPLEXITY_CHECKER), which would otherwise be ignored silently.
type UnknownVar struct {
	Name    string
	Closest string
}

// Unknown returns the names among names (those of the environment) that begin with one of
// Prefixes but are not variables Gatehouse reads, each with the closest known name.
func Unknown(names []string) []UnknownVar {
	prefixes := Prefixes()
	var out []UnknownVar
	for _, name := range names {
		if KnownName(name) || !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		out = append(out, UnknownVar{Name: name, Closest: closestName(name)})
	}
	return out
}

// closestName is the known variable (or NAME_FILE form) nearest to name: one whose name holds
// name or is held by it (a shortened or extended name: PASSWORD_COMPLEXITY, DB_PASSWORD) before
// any other, then the smallest edit distance.
func closestName(name string) string {
	best, bestD := "", -1
	consider := func(known string) {
		d := editDistance(name, known)
		if !strings.Contains(known, name) && !strings.Contains(name, known) {
			d += 1000
		}
		if bestD < 0 || d < bestD {
			best, bestD = known, d
		}
	}
	for _, v := range vars {
		consider(v.Name)
		if v.File {
			consider(v.Name + "_FILE")
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes: variable names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
