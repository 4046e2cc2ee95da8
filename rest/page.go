package rest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json/jsontext"
	json "encoding/json/v2"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehousehq/gatehouse"
)

// Pagination defaults of every collection endpoint.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 100
)

// Page is the pagination of a list request: how many items, and after which position. The
// cursor is opaque to clients: base64url of JSON the endpoint chose (typically the sort key of
// the last item returned).
type Page struct {
	Limit  int
	Cursor jsontext.Value // nil on the first page
}

// ParsePage reads limit and cursor from the query, and refuses any query parameter not in
// allowed (besides limit and cursor): an unknown filter is a 400, not silently ignored.
func ParsePage(r *http.Request, allowed ...string) (Page, error) {
	q := r.URL.Query()
	for k, vs := range q {
		if k == "limit" || k == "cursor" {
			// Which of two limits or cursors the client meant is unclear; the first one could
			// page through a different list than the client thinks.
			if len(vs) > 1 {
				return Page{}, gatehouse.FieldError(k, "must be given at most once")
			}
			continue
		}
		known := false
		for _, a := range allowed {
			if k == a {
				known = true
				break
			}
		}
		if !known {
			msg := "unknown query parameter"
			if len(allowed) > 0 {
				msg += " (allowed: limit, cursor, " + strings.Join(allowed, ", ") + ")"
			}
			return Page{}, gatehouse.FieldError(k, msg)
		}
	}
	p := Page{Limit: DefaultPageLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageLimit {
			return Page{}, gatehouse.FieldError("limit", "must be a whole number from 1 to "+strconv.Itoa(MaxPageLimit))
		}
		p.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || !jsontext.Value(b).IsValid() {
			return Page{}, gatehouse.FieldError("cursor", "is not a cursor this API returned")
		}
		p.Cursor = b
	}
	return p, nil
}

// DecodeCursor unmarshals the page's cursor into v; a cursor of the wrong shape is a 400.
func (p Page) DecodeCursor(v any) error {
	if p.Cursor == nil {
		return nil
	}
	if err := json.Unmarshal(p.Cursor, v); err != nil {
		return gatehouse.FieldError("cursor", "is not a cursor this API returned")
	}
	return nil
}

// EncodeCursor makes the opaque cursor for the item after which the next page starts.
func EncodeCursor(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// RespondPage writes a list: data is the array of items, next the cursor of the next page
// ("" on the last one).
func RespondPage(w http.ResponseWriter, r *http.Request, data any, limit int, next string) error {
	env := Envelope{Status: StatusSuccess, Data: data, Meta: metaFor(r)}
	env.Meta.Limit, env.Meta.NextCursor = limit, next
	if err := sendEnvelope(w, http.StatusOK, env); err != nil {
		return gatehouse.Wrap(gatehouse.EInternal, err, "encoding the response")
	}
	return nil
}

// ETag returns a strong entity tag for a resource representation, from its wire form.
func ETag(v any) string {
	b, _ := json.Marshal(v, json.Deterministic(true))
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// CheckIfMatch enforces If-Match on a change: when the header is sent and does not match the
// resource's current ETag, the change is refused with 412 so that two admins editing at once
// do not overwrite each other. Without the header the change proceeds.
func CheckIfMatch(r *http.Request, current string) error {
	h := r.Header.Get("If-Match")
	if h == "" || h == "*" {
		return nil
	}
	for _, tag := range strings.Split(h, ",") {
		if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(tag), "W/")) == current {
			return nil
		}
	}
	return &gatehouse.Error{Code: gatehouse.EPrecondition, Message: "the resource changed since you read it (If-Match does not match its ETag); read it again"}
}

// RespondResource writes a single resource with its ETag.
func RespondResource(w http.ResponseWriter, r *http.Request, status int, data any) error {
	w.Header().Set("ETag", ETag(data))
	return Respond(w, r, status, data)
}

// IDPage reads the page of a list ordered by a numeric id: the limit, and the id after which
// the page starts (0 on the first page).
func IDPage(r *http.Request, allowed ...string) (Page, int64, error) {
	page, err := ParsePage(r, allowed...)
	if err != nil {
		return Page{}, 0, err
	}
	var after int64
	if err := page.DecodeCursor(&after); err != nil {
		return Page{}, 0, err
	}
	return page, after, nil
}

// NextIDCursor is the cursor after a page of n items ending at lastID: empty when the page was
// not full.
//
// Deprecated: a full last page still gets a cursor, and the client then fetches an empty page.
// Fetch limit+1 rows and use Paginate.
func NextIDCursor(n, limit int, lastID int64) string {
	if n < limit {
		return ""
	}
	return EncodeCursor(lastID)
}

// Paginate cuts a list fetched with limit+1 rows down to the page: at most limit items, and the
// cursor of the next page made from key(last item shown), or "" when nothing more follows. Asking
// the store for one row more than the page is what lets the last page, even an exactly full one,
// say that it is the last: a client never has to fetch an empty page to find out.
func Paginate[T any](items []T, limit int, key func(T) any) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, EncodeCursor(key(items[limit-1]))
}
