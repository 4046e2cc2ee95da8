package httpapi

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehousehq/gatehouse"
)

// VersionStatus is where a major API version is in its lifecycle. The stages follow the project
// standard: the current version gets new work, N-1 bug and security fixes, N-2 critical security
// fixes only, older versions are deprecated with warning headers, and finally retired.
type VersionStatus string

// The lifecycle stages, in order.
const (
	VersionCurrent      VersionStatus = "current"
	VersionSupported    VersionStatus = "supported"
	VersionSecurityOnly VersionStatus = "security-only"
	VersionDeprecated   VersionStatus = "deprecated"
	VersionRetired      VersionStatus = "retired"
)

// MinDeprecationMonths is the shortest time, in months, allowed between a version's deprecation
// and its sunset: the standard's minimum deprecation timeline.
const MinDeprecationMonths = 12

// Version is one row of the lifecycle table. Dates are days in UTC.
type Version struct {
	Major    int
	Status   VersionStatus
	Released time.Time
	// Deprecated is when the version was (or will be) deprecated. Once set, responses of the
	// version carry Deprecation, Sunset and a successor Link, announcing a future date ahead of
	// time as RFC 9745 allows.
	Deprecated time.Time
	// Sunset is when the version stops answering; at least MinDeprecationMonths after Deprecated.
	Sunset time.Time
}

// Versions is the API version lifecycle table.
type Versions []Version

// DefaultVersions is Gatehouse's table. Moving a version along its lifecycle is a change to this
// function, reviewed like any other contract change; TestDefaultVersions holds it to the rules.
func DefaultVersions() Versions {
	return Versions{
		// v1's contract was fixed on this date; adjust it to the first public release if that differs.
		// It is the previous version (N-1) since v2's release: bug fixes and security patches.
		{Major: 1, Status: VersionSupported, Released: day(2026, time.November, 27)},
		// v2: v1 with the changes of docs/api.md "What changed in v2", served by the same
		// handlers through the adapter of v2.go.
		{Major: 2, Status: VersionCurrent, Released: day(2026, time.December, 8)},
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Validate reports every inconsistency in the table at once.
func (vs Versions) Validate() error {
	var errs []error
	if len(vs) == 0 {
		return errors.New("the table is empty")
	}
	seen := map[int]bool{}
	current := 0
	for _, v := range vs {
		name := "v" + strconv.Itoa(v.Major)
		if v.Major < 1 {
			errs = append(errs, fmt.Errorf("%s: major version must be at least 1", name))
		}
		if seen[v.Major] {
			errs = append(errs, fmt.Errorf("%s: listed twice", name))
		}
		seen[v.Major] = true
		if v.Released.IsZero() {
			errs = append(errs, fmt.Errorf("%s: release date missing", name))
		}
		switch v.Status {
		case VersionCurrent:
			current++
			if !v.Deprecated.IsZero() || !v.Sunset.IsZero() {
				errs = append(errs, fmt.Errorf("%s: the current version cannot be deprecated", name))
			}
		case VersionSupported, VersionSecurityOnly:
		case VersionDeprecated, VersionRetired:
			if v.Deprecated.IsZero() || v.Sunset.IsZero() {
				errs = append(errs, fmt.Errorf("%s: a %s version needs deprecation and sunset dates", name, v.Status))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: unknown status %q", name, v.Status))
		}
		if v.Deprecated.IsZero() != v.Sunset.IsZero() {
			errs = append(errs, fmt.Errorf("%s: deprecation and sunset dates go together", name))
		}
		if !v.Deprecated.IsZero() && !v.Sunset.IsZero() {
			if v.Sunset.Before(v.Deprecated.AddDate(0, MinDeprecationMonths, 0)) {
				errs = append(errs, fmt.Errorf("%s: sunset %s is less than %d months after deprecation %s",
					name, v.Sunset.Format(time.DateOnly), MinDeprecationMonths, v.Deprecated.Format(time.DateOnly)))
			}
			if v.Deprecated.Before(v.Released) {
				errs = append(errs, fmt.Errorf("%s: deprecated before it was released", name))
			}
		}
	}
	if current != 1 {
		errs = append(errs, fmt.Errorf("exactly one version must be current, found %d", current))
	} else if cur := vs.current(); slices.ContainsFunc(vs, func(v Version) bool { return v.Major > cur.Major }) {
		errs = append(errs, fmt.Errorf("v%d is current but a newer major version is listed", cur.Major))
	}
	return errors.Join(errs...)
}

// lookup returns the row for a major version.
func (vs Versions) lookup(major int) (Version, bool) {
	i := slices.IndexFunc(vs, func(v Version) bool { return v.Major == major })
	if i < 0 {
		return Version{}, false
	}
	return vs[i], true
}

// current returns the current version; Validate guarantees there is exactly one.
func (vs Versions) current() Version {
	i := slices.IndexFunc(vs, func(v Version) bool { return v.Status == VersionCurrent })
	if i < 0 {
		return Version{}
	}
	return vs[i]
}

// available lists the versions that still answer, oldest first, as "v1, v2".
func (vs Versions) available() string {
	var names []string
	for _, v := range slices.SortedFunc(slices.Values(vs), func(a, b Version) int { return cmp.Compare(a.Major, b.Major) }) {
		if v.Status != VersionRetired {
			names = append(names, "v"+strconv.Itoa(v.Major))
		}
	}
	return strings.Join(names, ", ")
}

// apiVersion enforces the lifecycle for /api/ paths: unknown versions are not found, retired ones
// are gone, and deprecated ones answer normally with headers that tell clients when to move and
// where to.
func (s *server) apiVersion(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		if !st.api {
			next.ServeHTTP(w, r)
			return
		}
		v, ok := s.versions.lookup(st.major)
		if !ok {
			s.writeError(w, r, gatehouse.Errorf(gatehouse.ENotFound,
				"unknown API version: paths start with /api/v{major}/; available versions: %s", s.versions.available()))
			return
		}
		if v.Status == VersionRetired {
			s.writeError(w, r, gatehouse.Errorf(gatehouse.EGone,
				"API version v%d was retired on %s; available versions: %s",
				v.Major, v.Sunset.Format(time.DateOnly), s.versions.available()))
			return
		}
		if !v.Deprecated.IsZero() {
			h := w.Header()
			h.Set("Deprecation", "@"+strconv.FormatInt(v.Deprecated.Unix(), 10)) // RFC 9745
			h.Set("Sunset", v.Sunset.UTC().Format(http.TimeFormat))              // RFC 8594
			h.Add("Link", fmt.Sprintf(`</api/v%d/>; rel="successor-version"`, s.versions.current().Major))
		}
		next.ServeHTTP(w, r)
	})
}

// isAPIPath reports whether a path belongs to the versioned API.
func isAPIPath(p string) bool { return p == "/api" || strings.HasPrefix(p, "/api/") }

// parseAPIVersion returns N for a path starting /api/vN/ (or equal to /api/vN). Only the canonical
// spelling counts: v01 or v+1 name no version.
func parseAPIVersion(p string) (int, bool) {
	rest, ok := strings.CutPrefix(p, "/api/v")
	if !ok {
		return 0, false
	}
	seg, _, _ := strings.Cut(rest, "/")
	n, err := strconv.Atoi(seg)
	if err != nil || n < 1 || strconv.Itoa(n) != seg {
		return 0, false
	}
	return n, true
}
