package httpapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/apidoc"
	"github.com/gatehousehq/gatehouse/internal/transport"
)

// Document builds the OpenAPI document of API version major for the routes served (the table's
// and a host's) and their operations: those of this package (Operations) and the Doc of each
// extra route. The CLI (gatehouse openapi) and the server use it.
func Document(major int, build string, routes []transport.Route, extra []Route) (*apidoc.T, error) {
	return apidoc.Document(major, apidoc.Info{Build: build}, routes, operationsOf(extra))
}

// Marshal encodes a document as JSON or YAML ("json", "yaml").
func Marshal(doc *apidoc.T, format string) ([]byte, error) {
	switch format {
	case "json":
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(b, '\n'), nil
	case "yaml":
		// Through JSON, so that the YAML says exactly what the JSON does.
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		return jsonToYAML(b)
	}
	return nil, fmt.Errorf("unknown format %q: json or yaml", format)
}

// openAPIDocs caches the encoded documents of a server, built on first request: the routes do
// not change once the server is assembled.
type openAPIDocs struct {
	mu    sync.Mutex
	built map[string][]byte // by "major format"
}

// handleOpenAPI answers the document of the request's API version in format. Unlike every other
// API answer it is the bare document, not the envelope: tools read it as it is.
func (s *server) handleOpenAPI(format, contentType string) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		major := s.versions.current().Major
		if st := stateOf(r); st != nil && st.MetaVersion > 0 {
			major = st.MetaVersion
		}
		body, err := s.openAPI(major, format)
		if err != nil {
			return gatehouse.Wrap(gatehouse.EInternal, err, "building the OpenAPI document")
		}
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		_, err = w.Write(body)
		return err
	}
}

// OpenAPI implements Server.
func (s *server) OpenAPI(major int, format string) ([]byte, error) {
	if v, ok := s.versions.lookup(major); !ok || v.Status == VersionRetired {
		return nil, fmt.Errorf("API version %d does not answer", major)
	}
	return s.openAPI(major, format)
}

func (s *server) openAPI(major int, format string) ([]byte, error) {
	s.docs.mu.Lock()
	defer s.docs.mu.Unlock()
	k := fmt.Sprint(major, " ", format)
	if b, ok := s.docs.built[k]; ok {
		return b, nil
	}
	fp := fingerprint(major, format, s.version, s.served, s.operations)
	b, ok := builtDocuments.Load(fp)
	if !ok {
		doc, err := apidoc.Document(major, apidoc.Info{Build: s.version}, s.served, s.operations)
		if err != nil {
			return nil, err
		}
		if b, err = Marshal(doc, format); err != nil {
			return nil, err
		}
		builtDocuments.Store(fp, b)
	}
	if s.docs.built == nil {
		s.docs.built = map[string][]byte{}
	}
	s.docs.built[k] = b
	return b, nil
}

// builtDocuments are the documents built in this process, by the fingerprint of what they were
// built from: the tests assemble hundreds of servers that serve one of a few documents, and
// building one takes tens of milliseconds.
var builtDocuments syncMap[string, []byte]

// fingerprint identifies what a document is built from: the version, the format, the build,
// the routes and their operations (whose values print with their types). The scopes come from
// the authorization table, which a process registers once.
func fingerprint(major int, format, build string, routes []transport.Route, ops map[string]Operation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s %s %v", major, format, build, routes)
	for _, k := range slices.Sorted(maps.Keys(ops)) {
		fmt.Fprintf(&b, "\n%s=%#v", k, ops[k])
	}
	return b.String()
}

// syncMap is a sync.Map of one key and value type.
type syncMap[K comparable, V any] struct{ m sync.Map }

func (m *syncMap[K, V]) Load(k K) (V, bool) {
	v, ok := m.m.Load(k)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

func (m *syncMap[K, V]) Store(k K, v V) { m.m.Store(k, v) }

// operationsOf is Operations with the Doc of each extra route.
func operationsOf(extra []Route) map[string]Operation {
	ops := Operations()
	for _, r := range extra {
		if r.Doc != nil {
			ops[r.Pattern] = *r.Doc
		}
	}
	return ops
}
