// Package rest is the toolkit of Gatehouse's JSON API, for Gatehouse's own endpoints and for the
// resources a host program adds: the response envelope ({"status","data","meta"}), the one error
// writer with its code-to-status table, strict request decoding with field errors, cursor
// pagination, ETags and If-Match, and the route type with its authentication modes.
//
// A handler decodes, calls one service method, and answers; it returns every failure as an error
// (a *gatehouse.Error with a code), which WriteError turns into the envelope:
//
//	func createNote(w http.ResponseWriter, r *http.Request) error {
//		var in noteInput
//		if err := rest.Decode(r, &in); err != nil {
//			return err // 400 naming the field, 413, 415
//		}
//		n, err := notes.Create(r.Context(), gatehouse.PrincipalFrom(r.Context()), in)
//		if err != nil {
//			return err
//		}
//		return rest.RespondCreated(w, r, fmt.Sprintf("/api/v1/notes/%d", n.ID), n)
//	}
//
// The package has no state of its own: what it needs of the request being served (request id,
// API version, body limit, logger) is the State the server put in the request's context.
package rest
