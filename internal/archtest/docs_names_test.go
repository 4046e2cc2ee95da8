package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// publicPackages are the packages docs/extending.md teaches, by the name the docs use.
var publicPackages = map[string]string{
	"gatehouse":  ".",
	"rest":       "rest",
	"authz":      "authz",
	"server":     "server",
	"servertest": "server/servertest",
}

// exportedNames returns the exported top-level names of the package in dir, and its methods as
// "Type.Method" (and the bare method names, which the docs' package table lists).
func exportedNames(t *testing.T, dir string) map[string]bool {
	t.Helper()
	// The package's files, without tests (go/parser.ParseDir is deprecated; build tags do not
	// matter here: the public packages have none).
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	names := map[string]bool{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv == nil {
					names[d.Name.Name] = true
					continue
				}
				typ := d.Recv.List[0].Type
				for {
					switch x := typ.(type) {
					case *ast.StarExpr:
						typ = x.X
						continue
					case *ast.IndexExpr:
						typ = x.X
						continue
					case *ast.IndexListExpr:
						typ = x.X
						continue
					}
					break
				}
				if id, ok := typ.(*ast.Ident); ok {
					names[id.Name+"."+d.Name.Name] = true
					names[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						names[s.Name.Name] = true
						if it, ok := s.Type.(*ast.InterfaceType); ok {
							for _, m := range it.Methods.List {
								for _, n := range m.Names {
									names[s.Name.Name+"."+n.Name] = true
									names[n.Name] = true
								}
							}
						}
						if st, ok := s.Type.(*ast.StructType); ok {
							for _, fl := range st.Fields.List {
								for _, n := range fl.Names {
									names[s.Name.Name+"."+n.Name] = true
								}
							}
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							names[n.Name] = true
						}
					}
				}
			}
		}
	}
	return names
}

// Every `pkg.Name` (and `pkg.Type.Method`) docs/extending.md names exists in the public
// package it names, and so does every name its package table lists: the guide named helpers
// that had been renamed or removed.
func TestExtendingNamesExist(t *testing.T) {
	dir := root(t)
	b, err := os.ReadFile(filepath.Join(dir, "docs", "extending.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	exported := map[string]map[string]bool{}
	for name, rel := range publicPackages {
		exported[name] = exportedNames(t, filepath.Join(dir, rel))
	}
	ref := regexp.MustCompile(`\b(gatehouse|rest|authz|server|servertest)\.([A-Z][A-Za-z0-9_]*(?:\.[A-Z][A-Za-z0-9_]*)?)`)
	for i, line := range strings.Split(doc, "\n") {
		for _, m := range ref.FindAllStringSubmatchIndex(line, -1) {
			if m[0] > 0 && strings.ContainsRune("/.", rune(line[m[0]-1])) {
				continue // part of an import path or a longer selector (github.com/…/server.X)
			}
			pkg, name := line[m[2]:m[3]], line[m[4]:m[5]]
			if !exported[pkg][name] {
				t.Errorf("docs/extending.md:%d names %s.%s, which package %s does not export", i+1, pkg, name, publicPackages[pkg])
			}
		}
	}
	// The package table: | `.../rest` | `Route`, `AuthMode`, … |
	row := regexp.MustCompile("(?m)^\\| `(?:github\\.com/gatehousehq/gatehouse|\\.\\.\\./([a-z/]+))` \\| (.*) \\|$")
	ident := regexp.MustCompile("`([A-Z][A-Za-z0-9_]*)(?:\\([^`]*\\))?`")
	rows := 0
	for _, m := range row.FindAllStringSubmatch(doc, -1) {
		pkg := "gatehouse"
		if m[1] != "" {
			pkg = m[1][strings.LastIndexByte(m[1], '/')+1:]
		}
		names, ok := exported[pkg]
		if !ok {
			t.Errorf("docs/extending.md's package table has a row for %q, which is not a public package", m[1])
			continue
		}
		rows++
		for _, id := range ident.FindAllStringSubmatch(m[2], -1) {
			if !names[id[1]] {
				t.Errorf("docs/extending.md's row for %s lists %s, which it does not export", pkg, id[1])
			}
		}
		// InTx/ReadTx style pairs inside one code span.
		for _, pair := range regexp.MustCompile("`([A-Z][A-Za-z0-9_]*)/([A-Z][A-Za-z0-9_]*)`").FindAllStringSubmatch(m[2], -1) {
			for _, n := range pair[1:] {
				if !names[n] {
					t.Errorf("docs/extending.md's row for %s lists %s, which it does not export", pkg, n)
				}
			}
		}
	}
	// The tests the guide tells contributors about exist.
	tests := map[string]bool{}
	testFunc := regexp.MustCompile(`(?m)^func (Test[A-Za-z0-9_]+)\(`)
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, "_test.go") {
			if src, err := os.ReadFile(path); err == nil {
				for _, m := range testFunc.FindAllStringSubmatch(string(src), -1) {
					tests[m[1]] = true
				}
			}
		}
		return nil
	})
	for _, m := range regexp.MustCompile("`(Test[A-Z][A-Za-z0-9_]*)`").FindAllStringSubmatch(doc, -1) {
		if !tests[m[1]] {
			t.Errorf("docs/extending.md names the test %s, which does not exist", m[1])
		}
	}
	if rows < 4 {
		t.Errorf("found %d rows of the package table in docs/extending.md, want 5", rows)
	}
}
