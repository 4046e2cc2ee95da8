package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/json/jsontext"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/transport"
)

// updateGolden rewrites the golden files instead of comparing with them:
//
//	go test -run 'TestGolden' ./internal/app -args -update
var updateGolden = flag.Bool("update", false, "rewrite the golden response files under testdata/golden")

// golden records a sequence of exchanges with the API, each normalised (see normaliseBody and
// normaliseHeaders) so that nothing volatile remains, and compares each with its file under
// testdata/golden/<dir>/. The files freeze shapes, status codes and headers: a change to any of
// them fails the test until the file is rewritten with -update, which makes it a reviewed change.
type golden struct {
	e   *env
	dir string
	// seen lists the names recorded, so that a stale file (a case that was removed) is noticed.
	seen []string
}

// exchange is one request of a golden sequence.
type exchange struct {
	method, path, bearer string
	// body is JSON-encoded unless it is a string (sent as is, which is how malformed bodies are
	// sent). contentType overrides application/json.
	body        any
	contentType string
	header      http.Header
}

// record sends the exchange, compares (or writes) its golden file, and returns the response with
// its data decoded as a generic value, for the next steps of the sequence.
func (g *golden) record(name string, x exchange) (*response, map[string]any) {
	t := g.e.t
	t.Helper()
	var rd io.Reader
	ct := x.contentType
	switch b := x.body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	if rd != nil && ct == "" {
		ct = "application/json"
	}
	req, err := http.NewRequestWithContext(context.Background(), x.method, g.e.srv.URL+x.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if x.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+x.bearer)
	}
	for k, vs := range x.header {
		req.Header[k] = vs
	}
	resp, err := g.e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out := &response{Status: resp.StatusCode, Header: resp.Header}
	out.Raw, _ = io.ReadAll(resp.Body)
	if err := json.Unmarshal(out.Raw, &out.Body); err != nil {
		t.Fatalf("%s %s: not an envelope: %v\n%s", x.method, x.path, err, out.Raw)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n%d\n", x.method, normalisePath(x.path), resp.StatusCode)
	b.WriteString(normaliseHeaders(resp.Header))
	b.WriteString("\n")
	b.WriteString(normaliseBody(t, out.Raw))
	b.WriteString("\n")
	g.compare(name, b.String())

	var data map[string]any
	if len(out.Body.Data) > 0 && out.Body.Data[0] == '{' {
		_ = json.Unmarshal(out.Body.Data, &data)
	}
	return out, data
}

func (g *golden) compare(name, got string) {
	t := g.e.t
	t.Helper()
	if slices.Contains(g.seen, name) {
		t.Fatalf("golden case %q recorded twice", name)
	}
	g.seen = append(g.seen, name)
	file := filepath.Join("testdata", "golden", g.dir, name+".txt")
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -args -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s: the response differs from the golden file (a change of the frozen contract; if it is meant, rewrite with -args -update and say why in the commit)\n--- want\n%s\n--- got\n%s", file, want, got)
	}
}

// finish fails when a golden file of the directory belongs to no recorded case.
func (g *golden) finish() {
	t := g.e.t
	t.Helper()
	if *updateGolden || t.Failed() {
		return
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", g.dir, "*.txt"))
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".txt"); !slices.Contains(g.seen, name) {
			t.Errorf("%s belongs to no case of the test; remove it", f)
		}
	}
}

// The headers the golden files leave out: Date changes every second, and the length follows
// the normalised values of the body.
var volatileHeaders = []string{"Date", "Content-Length"}

var (
	digitsSegment = regexp.MustCompile(`/[0-9]+(/|$)`)
	quotedETag    = regexp.MustCompile(`^(W/)?"[^"]*"$`)
)

// normaliseHeaders lists the response headers, sorted, with the request id, entity tags and
// the identifiers in Location replaced.
func normaliseHeaders(h http.Header) string {
	var lines []string
	for k, vs := range h {
		if slices.Contains(volatileHeaders, k) {
			continue
		}
		for _, v := range vs {
			switch k {
			case "X-Request-Id":
				v = "<request-id>"
			case "Etag":
				if quotedETag.MatchString(v) {
					v = `"<etag>"`
				}
			case "Location":
				v = normalisePath(v)
			}
			lines = append(lines, k+": "+v)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// normalisePath replaces numeric path segments (identifiers) with {n}.
func normalisePath(p string) string {
	for {
		q := digitsSegment.ReplaceAllString(p, "/{n}$1")
		if q == p {
			return p
		}
		p = q
	}
}

// Members whose values are secrets or otherwise differ from run to run, whatever their type.
var volatileMembers = map[string]string{
	"request_id": "<request-id>", "access_token": "<token>", "refresh_token": "<token>",
	"secret": "<secret>", "next_cursor": "<cursor>", "key": "<secret>", "prefix": "<prefix>",
	"device_token": "<token>",
	"version":      "", // the build version, in GET /version (meta.version is a number and kept)
}

// userReferences are members that hold a user's id without being identifier members by name
// (transport.IDMember): their numbers differ between engines as identifiers do.
var userReferences = map[string]bool{"invited_by": true, "created_by": true}

var timestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$`)

// normaliseBody pretty-prints a JSON body in its own member order, replacing timestamps, secrets
// and tokens with placeholders, and identifiers (transport.IDMember) with their kind: <int> for
// a number, <int-string> for a decimal string, so that the files hold on every database engine
// (whose identifiers differ) and still show the type an identifier has on the wire.
func normaliseBody(t *testing.T, raw []byte) string {
	t.Helper()
	dec := jsontext.NewDecoder(bytes.NewReader(raw))
	var out bytes.Buffer
	enc := jsontext.NewEncoder(&out, jsontext.Multiline(true), jsontext.WithIndent("  "))
	if err := normaliseValue(dec, enc, ""); err != nil {
		t.Fatalf("normalising %s: %v", raw, err)
	}
	return strings.TrimRight(out.String(), "\n")
}

func normaliseValue(dec *jsontext.Decoder, enc *jsontext.Encoder, name string) error {
	switch dec.PeekKind() {
	case '{':
		if err := copyToken(dec, enc); err != nil {
			return err
		}
		for dec.PeekKind() != '}' {
			tok, err := dec.ReadToken()
			if err != nil {
				return err
			}
			member := tok.String()
			if err := enc.WriteToken(tok); err != nil {
				return err
			}
			if err := normaliseValue(dec, enc, member); err != nil {
				return err
			}
		}
		return copyToken(dec, enc)
	case '[':
		if err := copyToken(dec, enc); err != nil {
			return err
		}
		for dec.PeekKind() != ']' {
			if err := normaliseValue(dec, enc, ""); err != nil {
				return err
			}
		}
		return copyToken(dec, enc)
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	if ph, ok := volatileMembers[name]; ok && tok.Kind() == '"' {
		if ph == "" {
			ph = "<" + name + ">"
		}
		return enc.WriteToken(jsontext.String(ph))
	}
	switch tok.Kind() {
	case '"':
		s := tok.String()
		switch {
		case timestamp.MatchString(s):
			return enc.WriteToken(jsontext.String("<time>"))
		case transport.IDMember(name) && isDecimal(s):
			return enc.WriteToken(jsontext.String("<int-string>"))
		case transport.IDMember(name):
			// An opaque identifier (a session's, a security key's): random.
			return enc.WriteToken(jsontext.String("<opaque-id>"))
		}
	case '0':
		if transport.IDMember(name) || userReferences[name] {
			return enc.WriteToken(jsontext.String("<int>"))
		}
	}
	return enc.WriteToken(tok)
}

func copyToken(dec *jsontext.Decoder, enc *jsontext.Encoder) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	return enc.WriteToken(tok)
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
