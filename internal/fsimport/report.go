package fsimport

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gatehousehq/gatehouse/internal/store"
)

// Entry statuses: store.ImportCreated ("imported"), store.ImportExists ("exists"),
// store.ImportConflict ("conflict"), and StatusSkipped.
const StatusSkipped = "skipped"

// Entry is what happened to one source user.
type Entry struct {
	Email          string   `json:"email"`
	FSUniquifier   string   `json:"fs_uniquifier"`
	Status         string   `json:"status"`
	Reason         string   `json:"reason,omitempty"`
	UserID         int64    `json:"user_id,omitempty"`
	PasswordScheme string   `json:"password_scheme,omitempty"`
	Roles          []string `json:"roles,omitempty"`
	TwoFactor      string   `json:"two_factor,omitempty"`
	RecoveryCodes  int      `json:"recovery_codes,omitempty"`
	WebAuthn       int      `json:"webauthn_credentials,omitempty"`
	Notes          []string `json:"notes,omitempty"`
}

// Report is the outcome of an import.
type Report struct {
	DryRun bool   `json:"dry_run"`
	Source string `json:"source_engine"`
	// Counts by status.
	Imported  int `json:"imported"`
	Exists    int `json:"exists"`
	Conflicts int `json:"conflicts"`
	Skipped   int `json:"skipped"`
	// UnmappedRoles counts the users of each Flask-Security role that --role-map does not map.
	UnmappedRoles map[string]int `json:"unmapped_roles"`
	// Warnings concern the whole source (a missing table).
	Warnings []string `json:"warnings,omitempty"`
	Users    []*Entry `json:"users"`
}

func (r *Report) add(e *Entry) {
	switch e.Status {
	case store.ImportCreated:
		r.Imported++
	case store.ImportExists:
		r.Exists++
	case store.ImportConflict:
		r.Conflicts++
	default:
		r.Skipped++
	}
	r.Users = append(r.Users, e)
}

// Entry returns the entry of email, or nil.
func (r *Report) Entry(email string) *Entry {
	for _, e := range r.Users {
		if strings.EqualFold(e.Email, email) {
			return e
		}
	}
	return nil
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a person: the totals, then every user that was not simply
// imported (or was imported with notes).
func (r *Report) WriteText(w io.Writer) error {
	verb := "imported"
	if r.DryRun {
		verb = "would be imported (dry run: nothing written)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Flask-Security import from %s: %d %s, %d exist already (earlier run), %d conflict with existing Gatehouse accounts, %d skipped\n",
		r.Source, r.Imported, verb, r.Exists, r.Conflicts, r.Skipped)
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	if len(r.UnmappedRoles) > 0 {
		names := make([]string, 0, len(r.UnmappedRoles))
		for n := range r.UnmappedRoles {
			names = append(names, n)
		}
		sort.Strings(names)
		for i, n := range names {
			names[i] = fmt.Sprintf("%s (%d users)", n, r.UnmappedRoles[n])
		}
		fmt.Fprintf(&b, "roles not mapped by --role-map, not granted: %s\n", strings.Join(names, ", "))
	}
	for _, e := range r.Users {
		if e.Status == store.ImportCreated && len(e.Notes) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  %-9s %s", e.Status, e.Email)
		if e.Reason != "" {
			fmt.Fprintf(&b, ": %s", e.Reason)
		}
		b.WriteByte('\n')
		for _, n := range e.Notes {
			fmt.Fprintf(&b, "            - %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
