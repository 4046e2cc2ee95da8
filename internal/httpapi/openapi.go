package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v4"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/apidoc"
	"github.com/gatehousehq/gatehouse/internal/transport"
)

// Document builds the OpenAPI document of API version major for the routes served (the table's
// and a host's) and their operations: those of this package (Operations) and the Doc of each
// extra route. The CLI (gatehouse openapi) and the server use it.
func Document(major int, build string, routes []transport.Route, extra []Route) (*openapi3.T, error) {
	return apidoc.Document(major, apidoc.Info{Build: build}, routes, operationsOf(extra))
}

// Marshal encodes a document as JSON or YAML ("json", "yaml").
func Marshal(doc *openapi3.T, format string) ([]byte, error) {
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
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		return yaml.Marshal(v)
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

func (s *server) openAPI(major int, format string) ([]byte, error) {
	s.docs.mu.Lock()
	defer s.docs.mu.Unlock()
	k := fmt.Sprint(major, " ", format)
	if b, ok := s.docs.built[k]; ok {
		return b, nil
	}
	doc, err := apidoc.Document(major, apidoc.Info{Build: s.version}, s.served, s.operations)
	if err != nil {
		return nil, err
	}
	b, err := Marshal(doc, format)
	if err != nil {
		return nil, err
	}
	if s.docs.built == nil {
		s.docs.built = map[string][]byte{}
	}
	s.docs.built[k] = b
	return b, nil
}

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
