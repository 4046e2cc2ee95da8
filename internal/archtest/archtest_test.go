// Package archtest holds the checks that keep the code's shape what docs/architecture.md says:
// which package may import which, and how long a file may grow. They read the source, so they
// fail in the test command (go test ./...) the moment a change breaks a rule, not in review.
package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/gatehousehq/gatehouse"

// root is the repository root, two levels above this package.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("repository root not found at %s: %v", dir, err)
	}
	return dir
}

// imports returns the import paths of the non-test Go files of the package in dir (relative to
// the root), keyed by file.
func imports(t *testing.T, dir string) map[string][]string {
	t.Helper()
	abs := filepath.Join(root(t), dir)
	entries, err := os.ReadDir(abs)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	out := map[string][]string{}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(abs, name), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("parsing %s/%s: %v", dir, name, err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[filepath.Join(dir, name)] = append(out[filepath.Join(dir, name)], p)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no Go files in %s: the rule names a package that moved", dir)
	}
	return out
}

// The import rules of docs/architecture.md ("Who may import whom"). Each rule lists the packages
// it binds and the imports they may not have.
var rules = []struct {
	why       string
	packages  []string
	forbidden []string
}{
	{
		why: "transports decode, call one service method and render: the rules (authorization) " +
			"and the data (store) are the services' business",
		packages:  []string{"internal/httpapi", "internal/web", "internal/sso", "cmd/gatehouse"},
		forbidden: []string{module + "/internal/store", module + "/internal/rbac"},
	},
	{
		why:       "SSO is a transport of its own: it shares the toolkit (rest), not the API server or the pages",
		packages:  []string{"internal/sso"},
		forbidden: []string{module + "/internal/web", module + "/internal/httpapi"},
	},
	{
		why:       "the pages share the toolkit (rest), not the API server",
		packages:  []string{"internal/web"},
		forbidden: []string{module + "/internal/httpapi"},
	},
	{
		why:       "configuration is read before anything is built; it depends on nothing it configures",
		packages:  []string{"internal/config"},
		forbidden: []string{module + "/internal/license"},
	},
	{
		why:       "services own the rules and never see HTTP",
		packages:  []string{"internal/teams", "internal/users"},
		forbidden: []string{"net/http", module + "/internal/httpapi", module + "/internal/web", module + "/rest"},
	},
	{
		why:       "the data layer knows no transport and no service",
		packages:  []string{"internal/store"},
		forbidden: []string{"net/http", module + "/internal/httpapi", module + "/internal/web", module + "/internal/auth", module + "/internal/teams", module + "/internal/users", module + "/rest"},
	},
}

func TestImportRules(t *testing.T) {
	for _, r := range rules {
		for _, pkg := range r.packages {
			for file, imps := range imports(t, pkg) {
				for _, imp := range imps {
					if slices.Contains(r.forbidden, imp) {
						t.Errorf("%s imports %s: %s", file, imp, r.why)
					}
				}
			}
		}
	}
}

// The domain (the module root), the public toolkit and the Go client build on the standard
// library alone, so that a host program importing them pulls in nothing else, and they can never
// reach into internal/. (The client speaks only the wire contract: it imports not even the
// domain.)
func TestStandardLibraryOnly(t *testing.T) {
	for _, pkg := range []string{".", "rest", "client"} {
		for file, imps := range imports(t, pkg) {
			for _, imp := range imps {
				std := !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")
				if !std && imp != module {
					t.Errorf("%s imports %s: only the standard library and the domain package are allowed here", file, imp)
				}
			}
		}
	}
}

// maxLines is the most lines a Go file may have. Long files hide more than one concern; split by
// entity or endpoint instead (tests included).
const maxLines = 500

func TestFileLength(t *testing.T) {
	base := root(t)
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == ".git" || name == "node_modules" || name == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if n := strings.Count(string(b), "\n"); n > maxLines {
			rel, _ := filepath.Rel(base, path)
			t.Errorf("%s has %d lines (at most %d): split it by entity or endpoint", rel, n, maxLines)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
