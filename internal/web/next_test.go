package web

import "testing"

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/profile":                      "/profile",
		"/profile?tab=keys#x":           "/profile?tab=keys#x",
		"/invitations/accept?token=ABC": "/invitations/accept?token=ABC",
		"":                              "",
		"profile":                       "",
		"//evil.example":                "",
		"///evil.example":               "",
		"/\\evil.example":               "",
		"/a\\b":                         "",
		"\\\\evil.example":              "",
		"https://evil.example":          "",
		"javascript:alert(1)":           "",
		"/%2F%2Fevil.example":           "",
		"/%2f/evil.example":             "",
		"/\x00x":                        "",
		"/\tx":                          "",
		"/x\ny":                         "",
		"/login":                        "",
		"/login?next=/profile":          "",
		"/verify":                       "",
		"/%zz":                          "",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
