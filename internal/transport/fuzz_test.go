package transport

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzRedactedURI: no value of a secret-named parameter survives in the access log.
func FuzzRedactedURI(f *testing.F) {
	for _, s := range []string{"token=SECRETVALUE", "a=1&API_KEY=SECRETVALUE", "to%6Ben=SECRETVALUE", "code=SECRETVALUE&state=x",
		"Signature=SECRETVALUE", "%zz=SECRETVALUE", "token=a=SECRETVALUE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		r.URL.RawQuery = rawQuery
		out := RedactedURI(r.URL)
		if rawQuery == "" {
			return
		}
		in, got := strings.Split(rawQuery, "&"), strings.Split(strings.TrimPrefix(out, "/x?"), "&")
		if len(in) != len(got) {
			t.Fatalf("RedactedURI(%q) = %q: parameters added or lost", rawQuery, out)
		}
		for i, part := range in {
			key, _, ok := strings.Cut(part, "=")
			if name, err := url.QueryUnescape(key); err == nil {
				key = name
			}
			if ok && isSecretParam(key) && !strings.HasSuffix(got[i], "=REDACTED") {
				t.Fatalf("RedactedURI(%q) = %q keeps the value of %q", rawQuery, out, key)
			}
		}
	})
}
