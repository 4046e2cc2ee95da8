// Package apidoc builds the OpenAPI 3.1 document of each live API version from the route table
// (internal/transport), the description of each route's operation (rest.Operation: Gatehouse's
// own in internal/httpapi/operations.go, a host's on its rest.Route) and the authorization table
// (internal/rbac), so that what the document says about paths, authentication and scopes cannot
// drift from what the server does. The envelope, the error responses and the path parameters are
// derived from the route; the request and response schemas from the Go types the handlers
// decode and encode. Package apidoctest checks every response of the API tests against it.
package apidoc

import (
	"cmp"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gatehousehq/gatehouse/internal/rbac"
	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/rest"
)

// Version is the OpenAPI version of the documents.
const Version = "3.1.0"

// The security schemes. Both are sent as "Authorization: Bearer …": an access token (a JWT) or
// an API key (a secret starting ghk_).
const (
	SchemeBearer = "bearerAuth"
	SchemeAPIKey = "apiKey"
)

// Info is what the document says about the API as a whole.
type Info struct {
	// Title defaults to "Gatehouse API".
	Title string
	// Build is the server's build version, shown in the description.
	Build string
}

// Document builds the OpenAPI document of API version major from the API routes served (the
// route table's, and those a host added) and the description of their operations, keyed by
// pattern (a route's own Doc, when it has one, is passed in ops too).
//
// The routes of the table are written for /api/v1; every later version answers the same routes
// under its own prefix (the v2 surface is derived from them), so the document of major N lists
// each /api/v1/... route as /api/vN/... unless a route of that version itself is given. Routes
// outside /api/ (health, metrics, the key set) appear in every version's document.
func Document(major int, info Info, routes []transport.Route, ops map[string]rest.Operation) (*T, error) {
	if major < 1 {
		return nil, fmt.Errorf("apidoc: no API version %d", major)
	}
	b := &builder{major: major, s: newSchemas(major), ops: ops}
	doc := &T{
		OpenAPI: Version,
		Info: &DocInfo{
			Title:   cmp.Or(info.Title, "Gatehouse API"),
			Version: strconv.Itoa(major),
			Description: fmt.Sprintf("Version %d of the JSON API (server build %s). Every response but the few marked "+
				"otherwise is the envelope {status, data, meta} (error: {status, data: null, error, meta}); "+
				"see docs/api.md.", major, cmp.Or(info.Build, "dev")),
		},
		Servers: []Server{{URL: "/"}},
		Paths:   map[string]*PathItem{},
		Components: &Components{
			Schemas:         b.s.components,
			Responses:       map[string]*Response{},
			SecuritySchemes: securitySchemes(),
		},
	}
	b.doc = doc
	b.commonComponents()

	prefix := "/api/v" + strconv.Itoa(major) + "/"
	own := map[string]bool{}
	for _, r := range routes {
		if r.Chain == transport.API && strings.HasPrefix(r.Path(), prefix) {
			own[r.Method()+" "+r.Path()] = true
		}
	}
	for _, r := range routes {
		if r.Chain != transport.API {
			continue
		}
		path := r.Path()
		switch {
		case strings.HasPrefix(path, prefix):
		case strings.HasPrefix(path, "/api/v1/") && major > 1:
			path = prefix + strings.TrimPrefix(path, "/api/v1/")
			if own[r.Method()+" "+path] {
				continue // the version's own route replaces the derived one
			}
		case strings.HasPrefix(path, "/api/"):
			continue // another version's
		}
		if err := b.add(r, path); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

type builder struct {
	major int
	s     *schemas
	ops   map[string]rest.Operation
	doc   *T
}

// add writes the operation of route r at path (r's path, or its derived version).
func (b *builder) add(r transport.Route, path string) error {
	op, described := b.ops[r.Pattern]
	if tail, ok := strings.CutPrefix(path, "/api/v"+strconv.Itoa(b.major)+"/"); !described && ok && b.major > 1 {
		// A version's own route without a description of its own is described as in v1.
		op, described = b.ops[r.Method()+" /api/v1/"+tail]
	}
	if b.major >= 2 && r.Method() == http.MethodGet {
		op = v2Operation(op)
	}
	if !described {
		// A route without a description: its data may be anything.
		op.Response = &Schema{}
	}
	method := r.Method()
	oaPath := openAPIPath(path)
	o := &Operation{
		OperationID: operationID(method, path),
		Summary:     op.Summary,
		Description: op.Description,
		Tags:        []string{tag(path)},
		Responses:   map[string]*Response{},
		Action:      r.Action,
	}
	if o.Summary == "" {
		o.Summary = r.Pattern
	}
	if r.Auth != rest.Public {
		o.Auth = authName(r.Auth)
	}
	for _, name := range pathParams(path) {
		o.Parameters = append(o.Parameters, &Parameter{Name: name, In: "path", Required: true, Schema: typed("string")})
	}
	if op.List {
		limit := typed("integer")
		limit.Minimum, limit.Maximum = new(float64(1)), new(float64(rest.MaxPageLimit))
		limit.Default = rest.DefaultPageLimit
		o.Parameters = append(o.Parameters,
			&Parameter{Name: "limit", In: "query", Schema: limit, Description: "how many items a page holds at most"},
			&Parameter{Name: "cursor", In: "query", Schema: typed("string"),
				Description: "meta.next_cursor of the previous page; absent for the first"})
	}
	for _, q := range op.Query {
		o.Parameters = append(o.Parameters, &Parameter{Name: q, In: "query", Schema: typed("string")})
	}
	if op.Request != nil {
		schema := b.s.of(op.Request, request)
		content := map[string]*MediaType{"application/json": {Schema: schema}}
		if method == http.MethodPatch && b.major >= 2 {
			content["application/merge-patch+json"] = &MediaType{Schema: schema}
		}
		o.RequestBody = &RequestBody{Required: !op.RequestOptional, Content: content}
	}
	success := strconv.Itoa(cmp.Or(op.Status, http.StatusOK))
	if !described {
		success = "2XX" // whichever success it answers
	}
	o.Responses[success] = b.success(op)
	if op.Created {
		created := op
		created.Status = http.StatusCreated
		o.Responses[strconv.Itoa(http.StatusCreated)] = b.success(created)
	}
	for _, status := range errorStatuses(r, path, op) {
		o.Responses[strconv.Itoa(status)] = &Response{Ref: "#/components/responses/" + errorResponseName(status)}
		b.errorResponse(status)
	}
	if !described {
		// Nothing is known of its errors but their envelope.
		b.errorResponse(0)
		o.Responses["default"] = &Response{Ref: "#/components/responses/" + errorResponseName(0)}
	}
	o.Security = b.security(r)
	// GET patterns also answer HEAD, without a body; like most API descriptions, the document
	// lists only the GET.
	b.doc.AddOperation(oaPath, method, o)
	return nil
}

// v2Operation applies v2's pagination rule to an operation described for v1: a list that v1
// answers whole (data is an array, no limit or cursor) pages in v2 like every other list.
func v2Operation(op rest.Operation) rest.Operation {
	if op.List || op.Response == nil || op.ContentType != "" {
		return op
	}
	if t := reflect.TypeOf(op.Response); t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 {
		op.Response = reflect.Zero(t.Elem()).Interface()
		op.List = true
	}
	return op
}

// success is the success response of op: the envelope around its data, or the document it
// answers instead.
func (b *builder) success(op rest.Operation) *Response {
	status := cmp.Or(op.Status, http.StatusOK)
	resp := &Response{Description: cmp.Or(http.StatusText(status), "success")}
	if op.ContentType != "" {
		ct := &MediaType{}
		if op.Response != nil {
			ct.Schema = b.s.of(op.Response, response)
		}
		resp.Content = map[string]*MediaType{op.ContentType: ct}
		return resp
	}
	data := b.data(op.Response)
	if op.List {
		data = typed("array")
		data.Items = b.data(op.Response)
	}
	env := &Schema{
		Type:     Types{"object"},
		Required: []string{"status", "data", "meta"},
		Properties: map[string]*Schema{
			"status": {Type: Types{"string"}, Const: rest.StatusSuccess},
			"data":   data,
			"meta":   ref("Meta"),
		},
		AdditionalProperties: AdditionalProperties{Has: new(false)},
	}
	resp.Content = map[string]*MediaType{"application/json": {Schema: env}}
	if status == http.StatusCreated {
		// v2 sends Location on every 201; v1 on most.
		resp.Headers = map[string]*Header{"Location": {
			Description: "the new resource's URL", Required: b.major >= 2, Schema: typed("string")}}
	}
	return resp
}

// data describes an operation's Response: one type or one of several.
func (b *builder) data(v any) *Schema {
	if alts, ok := v.(rest.OneOf); ok {
		s := &Schema{}
		for _, a := range alts {
			s.OneOf = append(s.OneOf, b.s.of(a, response))
		}
		return s
	}
	return b.s.of(v, response)
}

// security is the requirement of r: none for a public route; for the others a bearer access
// token or an API key carrying the scope r's action needs (the authorization table's).
func (b *builder) security(r transport.Route) []SecurityRequirement {
	if r.Auth == rest.Public {
		return nil
	}
	var scopes []string
	if r.Action != "" {
		if rule, ok := rbac.RuleFor(rbac.Action(r.Action)); ok && rule.Scope != "" {
			scopes = []string{string(rule.Scope)}
		}
	}
	if scopes == nil {
		scopes = []string{}
	}
	var sec []SecurityRequirement
	if r.Auth == rest.OptionalAuthMayChangePassword {
		sec = append(sec, SecurityRequirement{})
	}
	return append(sec, SecurityRequirement{SchemeBearer: scopes}, SecurityRequirement{SchemeAPIKey: scopes})
}

func securitySchemes() map[string]*SecurityScheme {
	return map[string]*SecurityScheme{
		SchemeBearer: {
			Type: "http", Scheme: "bearer", BearerFormat: "JWT",
			Description: "An access token from POST /api/v{n}/auth/login (or refresh), sent as Authorization: Bearer <token>. " +
				"Its scopes (read, write, admin) are listed per operation; they are the authorization table's (docs/authorization.md).",
		},
		SchemeAPIKey: {
			Type: "http", Scheme: "bearer", BearerFormat: "API key",
			Description: "An API key (a secret starting ghk_, from POST /api/v{n}/api-keys), sent like an access token: " +
				"Authorization: Bearer ghk_…. It carries the scopes it was made with, cut down to its owner's.",
		},
	}
}

func authName(m rest.AuthMode) string {
	switch m {
	case rest.Authenticated:
		return "signed-in"
	case rest.AuthenticatedMayChangePassword:
		return "signed-in, also before a required password change"
	case rest.OptionalAuthMayChangePassword:
		return "optional"
	case rest.AuthenticatedTwoFactorSetup:
		return "signed-in, also before a required second factor is set up"
	}
	return "public"
}

// openAPIPath turns a ServeMux path into an OpenAPI path template: "{name...}" is "{name}".
func openAPIPath(p string) string { return strings.ReplaceAll(p, "...}", "}") }

// pathParams lists the wildcards of a ServeMux path.
func pathParams(p string) []string {
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") && seg != "{$}" {
			out = append(out, strings.TrimSuffix(strings.Trim(seg, "{}"), "..."))
		}
	}
	return out
}

// operationID names an operation after its method and path: GET /api/v1/teams/{id}/members is
// getTeamsByIdMembers. Unique because method and path are.
func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for i, seg := range strings.Split(strings.Trim(path, "/"), "/") {
		if (i == 0 && seg == "api") || (i == 1 && strings.HasPrefix(seg, "v")) || seg == "" {
			continue
		}
		if strings.HasPrefix(seg, "{") {
			b.WriteString("By")
			seg = strings.Trim(seg, "{}.")
		}
		for w := range strings.FieldsFuncSeq(seg, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			b.WriteString(exported(w))
		}
	}
	return b.String()
}

// tag groups operations by the first segment after the version ("teams", "auth"); the routes
// outside /api/ are "operations".
func tag(path string) string {
	rest, ok := strings.CutPrefix(path, "/api/")
	if !ok {
		return "operations"
	}
	segs := strings.Split(rest, "/")
	if len(segs) < 2 {
		return "service"
	}
	switch segs[1] {
	case "health", "ready", "version", "openapi.json", "openapi.yaml":
		return "service"
	}
	return segs[1]
}
