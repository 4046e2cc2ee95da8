package httpapi

import (
	"bytes"
	"encoding/json/jsontext"
	json "encoding/json/v2"
	"errors"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/transport"
	"github.com/gatehousehq/gatehouse/rest"
)

// API v2 is v1 with the changes listed in docs/api.md "What changed in v2", applied here, at the
// edge, rather than in handlers: every /api/v1/ route also answers at /api/v2/ (transport.V2Route)
// through the same handler, wrapped by v2. The adapter
//
//   - reads identifiers given as strings (rest.State.DecodeOptions, so every handler that uses
//     rest.Decode gets it), and PATCH bodies sent as application/merge-patch+json (RFC 7396:
//     a null removes);
//   - writes identifier members (transport.IDMember) holding integers as decimal strings;
//   - pages the lists that v1 returns whole (limit and cursor, as every other list);
//   - answers every 201 with a Location, under /api/v2/.
//
// Error codes, statuses and every other member are v1's. The cost is one pass over the encoded
// response (BenchmarkV2Overhead).

// mediaMergePatch is RFC 7396's media type, which PATCH accepts in v2 beside application/json.
const mediaMergePatch = "application/merge-patch+json"

// registerV2 adds the /api/v2/ twin of an /api/v1/ route, when the version table has v2 and
// the twin is not registered already (a route a host registered under /api/v2/ itself wins).
func (s *server) registerV2(v1 transport.Route, h http.Handler) {
	r, ok := transport.V2Route(v1)
	if !ok {
		return
	}
	if _, known := s.versions.lookup(2); !known {
		return
	}
	if _, dup := s.bound[r.Pattern]; dup {
		return
	}
	s.bound[r.Pattern] = s.v2(h)
	s.mux.Handle(r.Pattern, s.bound[r.Pattern])
	if r.BodyLimit > 0 {
		s.limits[r.Pattern] = r.BodyLimit
	}
	s.served = append(s.served, r)
}

// v2 wraps the handler of a v1 route for its /api/v2/ twin.
func (s *server) v2(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateOf(r)
		st.DecodeOptions = v2Decode
		if r.Method == http.MethodPatch {
			if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == mediaMergePatch {
				// Decode takes application/json only; a merge patch is JSON with one more rule
				// (null removes), which the decode options bring.
				ct := "application/json"
				if cs, ok := params["charset"]; ok {
					ct += "; charset=" + cs
				}
				r.Header.Set("Content-Type", ct)
				st.DecodeOptions = v2MergePatch
			}
		}
		vw := v2WriterPool.Get().(*v2Writer)
		vw.reset(w)
		// The error writer must see the adapter's state: nothing has gone out until finish. A
		// panic leaves through the deferred reset, so the recovery outside still answers 500
		// (what the handler wrote is dropped with the writer, which is not pooled again).
		st.HeaderSent = &vw.wroteHeader
		defer func() { st.HeaderSent = &st.rw.wroteHeader }()
		next.ServeHTTP(vw, r)
		st.HeaderSent = &st.rw.wroteHeader
		s.finishV2(vw, r)
		vw.release()
	})
}

// v2Writer holds a v1 response until the handler is done, so that finishV2 can rewrite it.
type v2Writer struct {
	w           http.ResponseWriter
	status      int
	wroteHeader bool
	buf         bytes.Buffer
	out         []byte
}

var v2WriterPool = sync.Pool{New: func() any { return new(v2Writer) }}

func (vw *v2Writer) reset(w http.ResponseWriter) {
	vw.w, vw.status, vw.wroteHeader = w, 0, false
	vw.buf.Reset()
}

func (vw *v2Writer) release() {
	vw.w = nil
	if vw.buf.Cap() <= maxPooledV2Buffer && cap(vw.out) <= maxPooledV2Buffer {
		v2WriterPool.Put(vw)
	}
}

const maxPooledV2Buffer = 64 << 10

func (vw *v2Writer) Header() http.Header { return vw.w.Header() }

func (vw *v2Writer) WriteHeader(status int) {
	if vw.wroteHeader {
		return
	}
	if status < 200 && status != http.StatusSwitchingProtocols {
		vw.w.WriteHeader(status) // informational: passed on at once, as the recorder does
		return
	}
	vw.status, vw.wroteHeader = status, true
}

func (vw *v2Writer) Write(b []byte) (int, error) {
	if !vw.wroteHeader {
		vw.WriteHeader(http.StatusOK)
	}
	return vw.buf.Write(b)
}

// finishV2 rewrites the held v1 response into v2 and sends it.
func (s *server) finishV2(vw *v2Writer, r *http.Request) {
	if !vw.wroteHeader {
		return // the handler wrote nothing; net/http sends its empty 200 as for v1
	}
	h := vw.w.Header()
	body := vw.buf.Bytes()
	status := vw.status
	if status >= 200 && status < 300 && isJSONBody(h) && len(body) > 0 {
		if status == http.StatusOK && (r.Method == http.MethodGet || r.Method == http.MethodHead) && wholeList(body) {
			paged, err := pageWholeList(r, body)
			if err != nil {
				// A bad limit or cursor: the client's mistake, answered as any list answers it.
				s.writeError(vw.w, r, err)
				return
			}
			body = paged
		}
		if status == http.StatusCreated && h.Get("Location") == "" {
			h.Set("Location", createdLocation(r, body))
		}
	}
	if status >= 400 && bytes.Contains(body, v1PathText) {
		// Messages that name an endpoint ("is changed with POST /api/v1/me/email") name the
		// one of the version the client uses. Messages are for people; codes do not change.
		body = bytes.ReplaceAll(body, v1PathText, v2PathText)
	}
	if loc := h.Get("Location"); strings.HasPrefix(loc, transport.V1Prefix) {
		h.Set("Location", transport.V2Prefix+loc[len(transport.V1Prefix):])
	}
	if isJSONBody(h) {
		// vw.out keeps only a buffer of its own: when nothing changes, the result is body,
		// which is vw.buf's, and keeping that would alias the next request's buffers.
		if out := stringifyIDs(vw.out[:0], body); len(body) > 0 && len(out) > 0 && &out[0] != &body[0] {
			vw.out, body = out, out
		}
	}
	if h.Get("Content-Length") != "" {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	vw.w.WriteHeader(status)
	_, _ = vw.w.Write(body)
}

var v1PathText, v2PathText = []byte(" " + transport.V1Prefix), []byte(" " + transport.V2Prefix)

// isJSONBody reports whether the response is JSON (the envelope, whatever its charset).
func isJSONBody(h http.Header) bool {
	ct := h.Get("Content-Type")
	return ct == rest.ContentTypeJSON || strings.HasPrefix(ct, "application/json")
}

// createdLocation is the Location of a 201 whose handler gave none: the created resource's URL
// under the collection posted to (request path + "/" + data.id), or the request path when the
// resource has no id member.
func createdLocation(r *http.Request, body []byte) string {
	var env struct {
		Data struct {
			ID jsontext.Value `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &env) == nil {
		id := string(env.Data.ID)
		if s, err := strconv.Unquote(id); err == nil {
			id = s
		}
		if id != "" && id != "null" && !strings.ContainsAny(id, "/?#") {
			return strings.TrimSuffix(r.URL.Path, "/") + "/" + id
		}
	}
	return r.URL.Path
}

// The decode options of v2 requests: identifiers as strings; for a merge patch also null as a
// removal.
var (
	v2Decode     = json.WithUnmarshalers(idUnmarshalers())
	v2MergePatch = json.WithUnmarshalers(json.JoinUnmarshalers(idUnmarshalers(), json.UnmarshalFromFunc(mergePatchNull)))
)

// errNotMine makes the json package use its default for a value an unmarshaler leaves alone.
var errNotMine = errors.ErrUnsupported

// idUnmarshalers read a decimal string into the integer field of an identifier member, so that
// a client can send back the identifiers v2 gave it as they came. Numbers keep working.
func idUnmarshalers() *json.Unmarshalers {
	return json.JoinUnmarshalers(
		idFromString(func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }),
		idFromString(func(s string) (int, error) { n, err := strconv.ParseInt(s, 10, strconv.IntSize); return int(n), err }),
		idFromString(func(s string) (int32, error) { n, err := strconv.ParseInt(s, 10, 32); return int32(n), err }),
		idFromString(func(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) }),
		idFromString(func(s string) (uint, error) { n, err := strconv.ParseUint(s, 10, strconv.IntSize); return uint(n), err }),
		idFromString(func(s string) (uint32, error) { n, err := strconv.ParseUint(s, 10, 32); return uint32(n), err }),
	)
}

func idFromString[T int64 | int | int32 | uint64 | uint | uint32](parse func(string) (T, error)) *json.Unmarshalers {
	return json.UnmarshalFromFunc(func(dec *jsontext.Decoder, v *T) error {
		if dec.PeekKind() != '"' || !transport.IDMember(dec.StackPointer().LastToken()) {
			return errNotMine
		}
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		s := tok.String()
		n, err := parse(s)
		if err != nil || !canonicalInteger(s) {
			return gatehouse.Errorf(gatehouse.EInvalid, "must be an integer, or a string holding one in decimal")
		}
		*v = n
		return nil
	})
}

// canonicalInteger reports whether s is an integer as v2 writes one: optional minus, no
// leading zero, no plus, no space.
func canonicalInteger(s string) bool {
	d := strings.TrimPrefix(s, "-")
	if d == "" || (d[0] == '0' && len(d) > 1) || (d == "0" && len(s) > 1) {
		return false
	}
	for i := range len(d) {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// mergePatchNull gives a merge patch's null its RFC 7396 meaning in the optional (pointer) fields
// of a PATCH request, where v1 reads null as "leave it as it is": the member is removed, which
// for text is the empty string and for a list or a map the empty one (the handler's validation
// then decides, as for "": a team's name is required, a description may be empty). A member
// that cannot be absent (a flag, a number, a date, an object) is refused, because removing it
// has no meaning; leaving it unchanged would silently ignore what the client asked.
func mergePatchNull(dec *jsontext.Decoder, v any) error {
	if dec.PeekKind() != 'n' {
		return errNotMine
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Pointer {
		return errNotMine
	}
	field := rv.Elem()
	t := field.Type().Elem()
	if t == rawJSONType {
		return errNotMine // the handler reads the raw value, null included
	}
	nv := reflect.New(t)
	switch t.Kind() {
	case reflect.String:
	case reflect.Slice:
		nv.Elem().Set(reflect.MakeSlice(t, 0, 0))
	case reflect.Map:
		nv.Elem().Set(reflect.MakeMap(t))
	default:
		return gatehouse.Errorf(gatehouse.EInvalid, "cannot be removed (null); send a value")
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	field.Set(nv)
	return nil
}

var rawJSONType = reflect.TypeFor[jsontext.Value]()
