// Package httpapi is Gatehouse's HTTP edge: the one constructor that wires routes and middleware
// ([NewServer]), the response envelope, the single table that turns domain error codes into HTTP
// statuses, the JSON request rules ([Decode]), and the API version lifecycle ([Versions]).
//
// Every endpoint follows the same conventions, so that clients learn them once:
//
//   - Handlers are [HandlerFunc]s: they return an error instead of writing one. A single adapter
//     turns every error into the envelope with the status from the code table; causes are logged,
//     never sent.
//   - Every response (success, error, 404, 405, 413, 415, 500) carries the envelope
//     {"status","data","error","meta"}, with meta.version, meta.timestamp and meta.request_id.
//   - Request bodies are JSON only, size-limited, and strict: unknown fields, duplicate keys, NUL
//     bytes and invalid UTF-8 are rejected with the offending field named.
//   - The URL surface is the route table of internal/transport (routes.go binds this package's
//     handlers to it); a host application adds its own routes with [WithRoutes] and gets the
//     same treatment.
//
// JSON is handled with encoding/json/v2 (enabled by default since Go 1.27): it matches member names
// case-sensitively, rejects duplicate names and invalid UTF-8, and reports errors as JSON Pointers,
// which are exactly the guarantees the API promises.
package httpapi
