package config

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestPrefixesFromTheTable(t *testing.T) {
	got := Prefixes()
	for _, want := range []string{"DB_", "SECURITY_", "SMTP_", "SSO_", "LICENSE_", "SAML_", "JWT_", "WEBAUTHN_"} {
		if !slices.Contains(got, want) {
			t.Errorf("Prefixes() = %v, lacks %s", got, want)
		}
	}
	for _, not := range []string{"OTEL_", "HTTP_", "DEBUG_", "MEMORY_"} {
		if slices.Contains(got, not) {
			t.Errorf("Prefixes() = %v, should not hold %s", got, not)
		}
	}
}

// docs/configuration.md lists the prefixes the start-up warning watches.
func TestPrefixesDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, 0, len(Prefixes()))
	for _, p := range Prefixes() {
		want = append(want, "`"+p+"`")
	}
	list := strings.Join(want, ", ")
	if !strings.Contains(strings.Join(strings.Fields(string(b)), " "), list) {
		t.Errorf("docs/configuration.md should list the prefixes of the unknown-variable warning as %s", list)
	}
}

func TestUnknownNamesTheClosest(t *testing.T) {
	got := Unknown([]string{
		"SECURITY_PASSWORD_COMPLEXITY", // Flask-Security's name without _CHECKER
		"DB_PASSWORD",
		"SMTP_HOSTNAME",
		"SMTP_HSOT",
		"DB_PASS_FILE",                                           // known: DB_PASS may come from a file
		"SECURITY_PASSWORD_SALT",                                 // known
		"HTTP_PROXY", "OTEL_RESOURCE_ATTRIBUTES", "HOME", "PATH", // not Gatehouse's
	})
	want := []UnknownVar{
		{"SECURITY_PASSWORD_COMPLEXITY", "SECURITY_PASSWORD_COMPLEXITY_CHECKER"},
		{"DB_PASSWORD", "DB_PASS"},
		{"SMTP_HOSTNAME", "SMTP_HOST"},
		{"SMTP_HSOT", "SMTP_HOST"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Unknown = %v\nwant %v", got, want)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"DB_PASS", "DB_PASSWORD", 4}, {"SMTP_HSOT", "SMTP_HOST", 2}} {
		if got := editDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}

// docVarExceptions are names in the docs that look like Gatehouse's variables but are not read
// by Gatehouse, each for a reason the docs give.
var docVarExceptions = map[string]string{
	"SECURITY_PASSWORD_HASH":                    "Flask-Security-Too's setting, in the migration guide and the import's report",
	"SECURITY_PASSWORD_SINGLE_HASH":             "Flask-Security-Too's setting; the import takes --single-hash",
	"SECURITY_TOTP_SECRETS":                     "Flask-Security-Too's setting; the import takes --totp-secrets",
	"SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS": "Flask-Security-Too's setting; the import takes --recovery-codes-keys",
	"SECURITY_CHANGE_EMAIL":                     "Flask-Security-Too's feature the email change is modelled on",
	"SMTP_HSOT":                                 "configuration.md's example of a typo the start-up warning reports",
	"SECURITY_PASSWORD_NORMALIZE_FORM":          "Flask-Security-Too's setting whose default (NFKD) Gatehouse keeps fixed",
}

// Every name in docs/*.md, the README and the Go sources' messages that looks like one of
// Gatehouse's variables (one of Prefixes, in capitals) is a variable of the table: a name that
// is not would be ignored silently by the service, as docs/users.md's PASSWORD_COMPLEXITY=zxcvbn
// and the benchmark's SECURITY_PASSWORD_COMPLEXITY were, or send the operator looking for a
// variable that does not exist, as the start-up error's DB_PASSWORD did.
func TestNamedVariablesExist(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs found: %v", err)
	}
	files = append(files, "../../README.md")
	err = filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != "../.." {
			return filepath.SkipDir
		}
		// unknown.go names wrong variables on purpose, as examples of what it catches.
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") && !strings.HasSuffix(path, "config/unknown.go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A name is a run of capitals, digits and underscores not inside a longer word; a name in a
	// longer dotted or slashed identifier (a URL, a Go identifier) is not a variable.
	name := regexp.MustCompile(`(^|[^A-Za-z0-9_./-])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b`)
	// PASSWORD_ too: prose tends to drop Flask-Security's SECURITY_ (users.md had
	// PASSWORD_COMPLEXITY=zxcvbn). OTEL_ is not scanned: the docs name standard OpenTelemetry
	// variables to say which ones the exporter library reads or ignores.
	prefixes := append(Prefixes(), "PASSWORD_")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range name.FindAllStringSubmatch(line, -1) {
				n := m[2]
				if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(n, p) }) {
					continue
				}
				if KnownName(n) || strings.HasSuffix(n, "_") {
					continue
				}
				if _, ok := docVarExceptions[n]; ok {
					continue
				}
				t.Errorf("%s:%d names %s, which is not in the configuration table (internal/config); closest: %s", strings.TrimPrefix(f, "../../"), i+1, n, closestName(n))
			}
		}
	}
}
