package apidoc

import (
	"encoding/json"
	"net/http"
)

// The OpenAPI 3.1 objects the documents use, and only their members the builder writes: small
// types of our own, encoded with encoding/json, so that the server does not link a whole
// OpenAPI library to write one document. The tests read the encoded document back with
// kin-openapi and validate it (TestDocumentValidates, internal/apidoc/apidoctest).

// T is an OpenAPI document.
type T struct {
	OpenAPI    string               `json:"openapi"`
	Info       *DocInfo             `json:"info"`
	Servers    []Server             `json:"servers,omitempty"`
	Paths      map[string]*PathItem `json:"paths"`
	Components *Components          `json:"components,omitempty"`
}

// DocInfo is the document's Info Object.
type DocInfo struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Version     string `json:"version"`
}

// Server is a Server Object.
type Server struct {
	URL string `json:"url"`
}

// Components holds the schemas, responses and security schemes operations refer to.
type Components struct {
	Schemas         map[string]*Schema         `json:"schemas,omitempty"`
	Responses       map[string]*Response       `json:"responses,omitempty"`
	SecuritySchemes map[string]*SecurityScheme `json:"securitySchemes,omitempty"`
}

// PathItem holds the operations of one path.
type PathItem struct {
	Get    *Operation `json:"get,omitempty"`
	Put    *Operation `json:"put,omitempty"`
	Post   *Operation `json:"post,omitempty"`
	Delete *Operation `json:"delete,omitempty"`
	Patch  *Operation `json:"patch,omitempty"`
}

// AddOperation sets the operation of method at path.
func (doc *T) AddOperation(path, method string, op *Operation) {
	item := doc.Paths[path]
	if item == nil {
		item = &PathItem{}
		doc.Paths[path] = item
	}
	switch method {
	case http.MethodGet:
		item.Get = op
	case http.MethodPut:
		item.Put = op
	case http.MethodPost:
		item.Post = op
	case http.MethodDelete:
		item.Delete = op
	case http.MethodPatch:
		item.Patch = op
	default:
		panic("apidoc: no OpenAPI operation for method " + method)
	}
}

// Operation is an Operation Object, with Gatehouse's two extensions.
type Operation struct {
	OperationID string                `json:"operationId,omitempty"`
	Summary     string                `json:"summary,omitempty"`
	Description string                `json:"description,omitempty"`
	Tags        []string              `json:"tags,omitempty"`
	Parameters  []*Parameter          `json:"parameters,omitempty"`
	RequestBody *RequestBody          `json:"requestBody,omitempty"`
	Responses   map[string]*Response  `json:"responses"`
	Security    []SecurityRequirement `json:"security,omitempty"`
	// Action is the authorization table's action of the route (x-gatehouse-action).
	Action string `json:"x-gatehouse-action,omitempty"`
	// Auth says who may call it (x-gatehouse-auth).
	Auth string `json:"x-gatehouse-auth,omitempty"`
}

// Parameter is a Parameter Object (in: path or query).
type Parameter struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Schema      *Schema `json:"schema,omitempty"`
}

// RequestBody is a Request Body Object.
type RequestBody struct {
	Required bool                  `json:"required,omitempty"`
	Content  map[string]*MediaType `json:"content"`
}

// Response is a Response Object, or a reference to one (Ref).
type Response struct {
	Ref         string                `json:"$ref,omitempty"`
	Description string                `json:"description,omitempty"`
	Headers     map[string]*Header    `json:"headers,omitempty"`
	Content     map[string]*MediaType `json:"content,omitempty"`
}

// Header is a Header Object.
type Header struct {
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Schema      *Schema `json:"schema,omitempty"`
}

// MediaType is a Media Type Object.
type MediaType struct {
	Schema *Schema `json:"schema,omitempty"`
}

// SecurityScheme is a Security Scheme Object (type http).
type SecurityScheme struct {
	Type         string `json:"type"`
	Scheme       string `json:"scheme,omitempty"`
	BearerFormat string `json:"bearerFormat,omitempty"`
	Description  string `json:"description,omitempty"`
}

// SecurityRequirement names the schemes (and their scopes) that together satisfy it; the empty
// requirement makes authentication optional.
type SecurityRequirement map[string][]string

// Schema is a JSON Schema (2020-12, as OpenAPI 3.1 has it) with the keywords the builder uses.
// A Schema with Ref set is a reference and carries nothing else.
type Schema struct {
	Ref                  string               `json:"$ref,omitempty"`
	Type                 Types                `json:"type,omitempty"`
	Format               string               `json:"format,omitempty"`
	Pattern              string               `json:"pattern,omitempty"`
	ContentEncoding      string               `json:"contentEncoding,omitempty"`
	Const                any                  `json:"const,omitempty"`
	Default              any                  `json:"default,omitempty"`
	Minimum              *float64             `json:"minimum,omitempty"`
	Maximum              *float64             `json:"maximum,omitempty"`
	Description          string               `json:"description,omitempty"`
	Items                *Schema              `json:"items,omitempty"`
	Properties           map[string]*Schema   `json:"properties,omitempty"`
	Required             []string             `json:"required,omitempty"`
	AdditionalProperties AdditionalProperties `json:"additionalProperties,omitzero"`
	OneOf                []*Schema            `json:"oneOf,omitempty"`
	AnyOf                []*Schema            `json:"anyOf,omitempty"`
}

// ref is a reference to the component schema name.
func ref(name string) *Schema { return &Schema{Ref: "#/components/schemas/" + name} }

// Types is a schema's type: one name, written as a string, or several, written as an array.
type Types []string

// MarshalJSON implements json.Marshaler.
func (t Types) MarshalJSON() ([]byte, error) {
	if len(t) == 1 {
		return json.Marshal(t[0])
	}
	return json.Marshal([]string(t))
}

// Includes says whether name is one of t.
func (t Types) Includes(name string) bool {
	for _, n := range t {
		if n == name {
			return true
		}
	}
	return false
}

// AdditionalProperties is the additionalProperties keyword: false (Has), or the schema of every
// other member. Its zero value omits the keyword (any member allowed).
type AdditionalProperties struct {
	Has    *bool
	Schema *Schema
}

// MarshalJSON implements json.Marshaler.
func (a AdditionalProperties) MarshalJSON() ([]byte, error) {
	if a.Schema != nil {
		return json.Marshal(a.Schema)
	}
	if a.Has != nil {
		return json.Marshal(*a.Has)
	}
	return []byte("true"), nil
}
