package rest

import (
	json "encoding/json/v2"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Paginate shows at most limit items and offers a cursor only when the store returned more than
// that: an exactly full last page says it is the last.
func TestPaginate(t *testing.T) {
	key := func(v int) any { return v }
	for _, tc := range []struct {
		name      string
		items     []int
		limit     int
		wantItems int
		wantNext  string
	}{
		{"empty", nil, 3, 0, ""},
		{"short page", []int{1, 2}, 3, 2, ""},
		{"exactly full last page", []int{1, 2, 3}, 3, 3, ""},
		{"more follow", []int{1, 2, 3, 4}, 3, 3, EncodeCursor(3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, next := Paginate(tc.items, tc.limit, key)
			if len(got) != tc.wantItems || next != tc.wantNext {
				t.Fatalf("Paginate(%v, %d) = %v, %q; want %d items, %q", tc.items, tc.limit, got, next, tc.wantItems, tc.wantNext)
			}
		})
	}
}

// RespondCreated answers 201 with Location, ETag and the envelope.
func TestRespondCreated(t *testing.T) {
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/api/v1/things", nil)
	data := map[string]any{"id": 7}
	if err := RespondCreated(rec, r, "/api/v1/things/7", data); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusCreated || rec.Header().Get("Location") != "/api/v1/things/7" || rec.Header().Get("ETag") != ETag(data) {
		t.Fatalf("got %d, Location %q, ETag %q", rec.Code, rec.Header().Get("Location"), rec.Header().Get("ETag"))
	}
	var env struct {
		Status string         `json:"status"`
		Data   map[string]any `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Status != StatusSuccess || env.Data["id"] != float64(7) {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
}

// PathID answers not_found for anything but a positive integer.
func TestPathID(t *testing.T) {
	for value, ok := range map[string]bool{"1": true, "42": true, "0": false, "-1": false, "x": false, "": false, "99999999999999999999": false} {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		r.SetPathValue("id", value)
		_, err := PathID(r, "id", "thing")
		if (err == nil) != ok {
			t.Errorf("PathID(%q) error = %v, want ok=%v", value, err, ok)
		}
	}
}
