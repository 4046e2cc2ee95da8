package transport

import (
	"net/url"
	"testing"
)

func TestRedactedURI(t *testing.T) {
	tests := map[string]string{
		"/a":                               "/a",
		"/a?x=1":                           "/a?x=1",
		"/a?token=abc":                     "/a?token=REDACTED",
		"/a?token":                         "/a?token",
		"/a?token=":                        "/a?token=REDACTED",
		"/a?to%6Ben=abc":                   "/a?to%6Ben=REDACTED",
		"/a?x=1&access_token=a&id_token=b": "/a?x=1&access_token=REDACTED&id_token=REDACTED",
		"/a?code=c&state=s":                "/a?code=REDACTED&state=s",
		"/a?password=p&mytoken=m":          "/a?password=REDACTED&mytoken=REDACTED",
		"/a%20b?token=a=b":                 "/a%20b?token=REDACTED",
	}
	for in, want := range tests {
		u, err := url.ParseRequestURI(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := RedactedURI(u); got != want {
			t.Errorf("RedactedURI(%q) = %q, want %q", in, got, want)
		}
	}
}
