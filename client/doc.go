// Package client is a typed Go client of Gatehouse's JSON API: accounts (registration,
// confirmation, sign-in with its second step, refresh, sign-out, the caller's account, password
// change), teams with their members and invitations, and API keys.
//
// A [Client] holds the service's base URL, the *http.Client it sends requests with, the API
// major version it speaks ([Client.Version], 1 unless set) and a [TokenSource] that supplies the
// bearer credential: an access token from a sign-in, or an API key (both are sent as
// "Authorization: Bearer …"). [Client.WithToken] returns a copy that sends another one, so one
// program can act as several accounts.
//
// Every method returns the envelope's data decoded into a typed struct. A failure the service
// answers is a *[Error] carrying the HTTP status and the envelope's code, message and field
// errors; branch on [Error.Code] (or use [CodeOf]), never on the message. Transport failures are
// returned as they are.
//
// Identifiers are [ID]s, which decode from a JSON number (API v1) or a decimal string (v2, which
// sends ids as strings because JavaScript clients cannot hold 64-bit integers exactly), so the
// same types serve both versions.
//
// Single resources (a team, a member, an invitation) carry the ETag the service sent with them;
// pass it back with [IfMatch] to make a change conditional (a *Error with code
// "precondition_failed" when someone changed the resource meanwhile). Lists come a page at a
// time as a [Page], whose NextCursor is set while more exists; [All] walks every page.
//
// The wire contract itself is described in docs/api.md and in the OpenAPI document each live
// version serves at /api/v{n}/openapi.json; docs/client.md describes this package.
package client
