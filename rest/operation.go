package rest

// Operation describes a route for the API's OpenAPI document (GET /api/v{n}/openapi.json):
// what it does, what it reads and what it answers. Gatehouse describes its own routes with it,
// and a host program sets Route.Doc so that its resources appear in the same document, with the
// envelope, the error responses, the path parameters and the security requirement (from Auth
// and the scope of Action) derived as for Gatehouse's own.
//
// The schemas are read from Go values by reflection over their JSON names, as the encoder sees
// them: pass a value (its zero value is enough) of the type the handler decodes or answers.
//
//	Doc: &rest.Operation{Summary: "Create a note", Request: noteInput{}, Response: note{}, Status: http.StatusCreated}
type Operation struct {
	// Summary is a short title ("List the teams you belong to").
	Summary string
	// Description is optional longer text (Markdown).
	Description string
	// Request is a value of the type the handler decodes the JSON body into (with Decode); nil
	// when the route reads no body.
	Request any
	// RequestOptional says the body may be left out (DecodeOptional).
	RequestOptional bool
	// Response is a value of the type of the envelope's data on success (for a list, of one
	// item: see List). OneOf lists alternatives. Nil means data is null.
	Response any
	// Status is the success status; 0 means 200.
	Status int
	// Created says the route also answers 201 Created, with Location, when the request made
	// the resource (a PUT that adds or replaces).
	Created bool
	// List marks a paginated list (RespondPage): data is an array of Response, the query takes
	// limit and cursor, meta carries limit and next_cursor.
	List bool
	// Query names the query parameters the route reads besides limit and cursor (the filters
	// of a list), each a string.
	Query []string
	// Errors lists further error statuses the route answers besides those derived from the
	// route (400 for a body or query, 401 and 403 behind authentication, 404 with path
	// parameters, 413 and 415 with a body, 429, 500, 503): 409, 412 where If-Match is read, …
	Errors []int
	// ContentType, when set, says the success response is not the envelope but a document of
	// this media type (the JSON Web Key Set, the metrics); Response then describes its JSON, or
	// is nil for a text format.
	ContentType string
}

// OneOf is an Operation.Response that is one of several types (a sign-in answers the tokens,
// or the challenge of a second step).
type OneOf []any
