package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json/jsontext"
	json "encoding/json/v2"
	"net/http"
	"strconv"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/rest"
)

// Lists in v2 have one shape: data is the array, meta.limit the page size, meta.next_cursor the
// cursor of the next page, present only when more follows. Most v1 lists already page (their
// handlers read limit and cursor). A few return everything they have (your sessions, your
// security keys, the sign-in providers): short lists, bounded by what one account can have.
// v2 pages those here, on the encoded answer, so that a client needs one list reader.

// listPrefix starts an encoded success envelope whose data is an array.
var listPrefix = []byte(`{"status":"success","data":[`)

// wholeList reports whether body is a list the handler returned whole: a success envelope with
// an array and no meta.limit. meta is the envelope's last member and holds no string that could
// contain `"limit":` (the request id's alphabet has no quote).
func wholeList(body []byte) bool {
	if !bytes.HasPrefix(body, listPrefix) {
		return false
	}
	i := bytes.LastIndex(body, []byte(`"meta":{`))
	return i >= 0 && !bytes.Contains(body[i:], []byte(`"limit":`))
}

// wholeListCursor is the position after the last item of a page: its index, and its id (when
// items have one), so that the next page starts after the same item even when an earlier one
// was removed in between.
type wholeListCursor struct {
	Next int            `json:"n"`
	ID   jsontext.Value `json:"id,omitzero"`
}

// pageWholeList cuts a whole list down to the page the request asks for (limit, cursor: the
// rules of every list) and re-encodes the envelope with meta.limit and meta.next_cursor.
func pageWholeList(r *http.Request, body []byte) ([]byte, error) {
	q := r.URL.Query()
	limit := rest.DefaultPageLimit
	for _, k := range []string{"limit", "cursor"} {
		if len(q[k]) > 1 {
			return nil, gatehouse.FieldError(k, "must be given at most once")
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > rest.MaxPageLimit {
			return nil, gatehouse.FieldError("limit", "must be a whole number from 1 to "+strconv.Itoa(rest.MaxPageLimit))
		}
		limit = n
	}
	var env struct {
		Status string           `json:"status"`
		Data   []jsontext.Value `json:"data"`
		Meta   rest.Meta        `json:"meta"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, gatehouse.Wrap(gatehouse.EInternal, err, "reading a list for v2")
	}
	start := 0
	if v := q.Get("cursor"); v != "" {
		var c wholeListCursor
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || json.Unmarshal(b, &c) != nil || c.Next < 1 { // a cursor follows a page of at least one item
			return nil, gatehouse.FieldError("cursor", "is not a cursor this API returned")
		}
		start = min(c.Next, len(env.Data))
		if c.ID != nil && (start == 0 || !bytes.Equal(itemID(env.Data[start-1]), c.ID)) {
			// The list changed: continue after the item the cursor names, where it is now.
			for i, item := range env.Data {
				if bytes.Equal(itemID(item), c.ID) {
					start = i + 1
					break
				}
			}
		}
	}
	items := env.Data[start:]
	env.Meta.Limit = limit
	if len(items) > limit {
		items = items[:limit]
		b, _ := json.Marshal(wholeListCursor{Next: start + limit, ID: itemID(items[limit-1])})
		env.Meta.NextCursor = base64.RawURLEncoding.EncodeToString(b)
	}
	env.Data = items
	out, err := json.Marshal(&env, json.Deterministic(true))
	if err != nil {
		return nil, gatehouse.Wrap(gatehouse.EInternal, err, "encoding a list for v2")
	}
	return append(out, '\n'), nil
}

// itemID returns the raw id member of a list item, nil when it has none.
func itemID(item jsontext.Value) jsontext.Value {
	var v struct {
		ID jsontext.Value `json:"id"`
	}
	if json.Unmarshal(item, &v) != nil {
		return nil
	}
	return v.ID
}
