package rest

import (
	"bytes"
	"encoding"
	"encoding/json/jsontext"
	json "encoding/json/v2"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehousehq/gatehouse"
)

// Validatable is implemented by request types that check their own values. Decode calls Validate
// after a successful decode, so a handler only ever sees well-formed, valid input.
type Validatable interface {
	Validate() error
}

// Decode reads the request's JSON body into dst, a non-nil pointer, enforcing the API's body rules.
// Every rejection is a *gatehouse.Error that names what is wrong and, when it can, the field:
//
//   - Content-Type other than application/json (optionally with charset=utf-8): 415. This also
//     keeps cross-site HTML form posts out, since a form cannot send that type without CORS.
//   - body over the route's size limit: 413.
//   - empty body, malformed JSON (with line, column and byte offset), data after the value,
//     duplicate keys at any depth, strings with NUL characters or invalid UTF-8, unknown fields,
//     values of the wrong type: 400. Field names are JSON paths such as "members.2.email".
//
// Matching of member names is case-sensitive: "Email" is an unknown field, not "email".
// If dst implements Validatable, its Validate error is returned as is.
func Decode(r *http.Request, dst any) error {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	if err := checkDst(dst); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeBody(body, dst, decodeOptions(r))
}

// DecodeOptional is Decode for routes whose body is optional (logout): an absent or empty body
// (whitespace only), whatever its Content-Type, leaves dst untouched and reports false. Any other
// body follows Decode's rules.
func DecodeOptional(r *http.Request, dst any) (bool, error) {
	if err := checkDst(dst); err != nil {
		return false, err
	}
	if r.Body == nil || r.Body == http.NoBody {
		return false, nil
	}
	body, err := readBody(r)
	if err != nil {
		return false, err
	}
	if len(bytes.TrimLeft(body, " \t\r\n")) == 0 {
		return false, nil
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return false, err
	}
	return true, decodeBody(body, dst, decodeOptions(r))
}

func checkDst(dst any) error {
	if rv := reflect.ValueOf(dst); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return gatehouse.Errorf(gatehouse.EInternal, "rest.Decode needs a non-nil pointer, got %T", dst)
	}
	return nil
}

// decodeOptions are the serving layer's additions for the request (State.DecodeOptions).
func decodeOptions(r *http.Request) json.Options {
	if st := StateOf(r); st != nil {
		return st.DecodeOptions
	}
	return nil
}

// decodeBody applies the body rules to a body already read.
func decodeBody(body []byte, dst any, extra json.Options) error {
	// The scan checks what unmarshaling cannot (NUL characters) and reports syntax problems
	// before any semantic one, so a typo is not misreported as an unknown field.
	if err := scanJSON(body); err != nil {
		return err
	}
	// A top-level null would leave dst untouched and pass as an empty request; it is refused
	// like any other value of the wrong type ([] or 42 where an object is expected).
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == 'n' {
		return gatehouse.Errorf(gatehouse.EInvalid, "request body %s", nullProblem(reflect.TypeOf(dst).Elem()))
	}
	opts := json.RejectUnknownMembers(true)
	if extra != nil {
		opts = json.JoinOptions(opts, extra)
	}
	if err := json.Unmarshal(body, dst, opts); err != nil {
		return unmarshalProblem(err)
	}
	if v, ok := dst.(Validatable); ok {
		return v.Validate()
	}
	return nil
}

// nullProblem says what a top-level value of type t should have been instead of null.
func nullProblem(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "must be an object, not null"
	case reflect.Slice, reflect.Array:
		return "must be an array, not null"
	}
	return "must not be null"
}

// checkContentType accepts application/json with no parameter other than charset=utf-8.
func checkContentType(header string) error {
	unsupported := gatehouse.Errorf(gatehouse.EUnsupported, "request body must be JSON: send Content-Type: application/json")
	mediaType, params, err := mime.ParseMediaType(header)
	if err != nil || mediaType != "application/json" {
		return unsupported
	}
	for name, value := range params {
		if name != "charset" || !strings.EqualFold(value, "utf-8") {
			return unsupported
		}
	}
	return nil
}

// readBody reads the whole body within the limit in force for the request. The middleware has
// usually capped the body already; capping again keeps Decode safe on any request.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, gatehouse.Errorf(gatehouse.EInvalid, "request body is empty")
	}
	limit := DefaultBodyLimit
	if st := StateOf(r); st != nil && st.BodyLimit > 0 {
		limit = st.BodyLimit
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, TooLarge(limit)
		}
		return nil, gatehouse.Wrap(gatehouse.EInvalid, err, "could not read the request body")
	}
	return body, nil
}

// scanJSON walks the tokens of body once: it finds syntax errors, duplicate keys and invalid UTF-8
// (jsontext rejects both by default), NUL characters, an empty body and trailing data.
func scanJSON(body []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.ReadToken()
		if errors.Is(err, io.EOF) {
			return gatehouse.Errorf(gatehouse.EInvalid, "request body is empty")
		}
		if err != nil {
			return syntaxProblem(body, err)
		}
		// PostgreSQL text cannot hold NUL, and a NUL can truncate a string in C-based tools
		// downstream; refusing it here keeps it out of every store.
		if tok.Kind() == '"' && strings.IndexByte(tok.String(), 0) >= 0 {
			if kind, n := dec.StackIndex(dec.StackDepth()); kind == '{' && n%2 == 1 {
				// An object member name was just read: the pointer ends with the bad name itself.
				return fieldProblem(dec.StackPointer().Parent(), "member names must not contain NUL characters")
			}
			return fieldProblem(dec.StackPointer(), "must not contain NUL characters")
		}
		if dec.StackDepth() == 0 {
			break // the top-level value is complete
		}
	}
	end := dec.InputOffset()
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		// jsontext reads a stream of values; a request body is exactly one.
		off := end + int64(len(body[end:])-len(bytes.TrimLeft(body[end:], " \t\r\n")))
		line, col := position(body, off)
		return gatehouse.Errorf(gatehouse.EInvalid,
			"unexpected data after the JSON value at line %d, column %d (byte offset %d)", line, col, off)
	}
	return nil
}

// syntaxProblem describes a jsontext error in terms a client can act on.
func syntaxProblem(body []byte, err error) error {
	se, ok := errors.AsType[*jsontext.SyntacticError](err)
	if !ok {
		return gatehouse.Wrap(gatehouse.EInvalid, err, "request body is not valid JSON")
	}
	if errors.Is(se.Err, jsontext.ErrDuplicateName) {
		// Go would silently keep the last value; a client sending two is confused or probing
		// for a parser difference between us and a proxy.
		return fieldProblem(se.JSONPointer, "duplicate key")
	}
	line, col := position(body, se.ByteOffset)
	if invalidUTF8At(body, se.ByteOffset) {
		// Checked on the raw bytes: decoding would otherwise turn them into U+FFFD silently.
		if se.JSONPointer == "" {
			return gatehouse.Errorf(gatehouse.EInvalid, "request body is not valid UTF-8 at line %d, column %d", line, col)
		}
		return fieldProblem(se.JSONPointer, "must be valid UTF-8")
	}
	reason := "invalid JSON"
	switch {
	case errors.Is(se.Err, io.ErrUnexpectedEOF):
		reason = "unexpected end of input"
	case se.Err != nil:
		reason = se.Err.Error()
	}
	return gatehouse.Errorf(gatehouse.EInvalid,
		"malformed JSON at line %d, column %d (byte offset %d): %s", line, col, se.ByteOffset, reason)
}

// unmarshalProblem describes a json.Unmarshal error, naming the field it concerns.
func unmarshalProblem(err error) error {
	se, ok := errors.AsType[*json.SemanticError](err)
	if !ok {
		return gatehouse.Wrap(gatehouse.EInvalid, err, "request body could not be decoded")
	}
	if ge, ok := errors.AsType[*gatehouse.Error](se.Err); ok {
		// A wire type's own UnmarshalJSON said what is wrong; keep its words.
		return fieldProblem(se.JSONPointer, ge.Message)
	}
	if errors.Is(se.Err, json.ErrUnknownName) {
		return fieldProblem(se.JSONPointer, "unknown field")
	}
	return fieldProblem(se.JSONPointer, typeProblem(se))
}

var (
	timeType            = reflect.TypeFor[time.Time]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	jsonUnmarshalerFrom = reflect.TypeFor[json.UnmarshalerFrom]()
)

// typeProblem says what a value should have been, in JSON terms rather than Go type names.
func typeProblem(se *json.SemanticError) string {
	if errors.Is(se.Err, strconv.ErrRange) {
		return "is out of range"
	}
	t := se.GoType
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nil:
		return "has an invalid value"
	case t == timeType:
		return "must be an RFC 3339 date-time string"
	case reflect.PointerTo(t).Implements(jsonUnmarshalerType), reflect.PointerTo(t).Implements(jsonUnmarshalerFrom),
		reflect.PointerTo(t).Implements(textUnmarshalerType):
		return "has an invalid value"
	}
	switch t.Kind() {
	case reflect.String:
		return "must be a string"
	case reflect.Bool:
		return "must be a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "must be an integer"
	case reflect.Float32, reflect.Float64:
		return "must be a number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "must be a base64 string"
		}
		return "must be an array"
	case reflect.Array:
		return "must be an array"
	case reflect.Map, reflect.Struct:
		return "must be an object"
	}
	return "has an invalid value"
}

// fieldProblem builds the 400 for a problem at a JSON Pointer location. The root has no field
// name, so its problem goes in the message only.
func fieldProblem(ptr jsontext.Pointer, problem string) error {
	field := fieldPath(ptr)
	if field == "" {
		return gatehouse.Errorf(gatehouse.EInvalid, "request body %s", problem)
	}
	return gatehouse.FieldError(field, problem)
}

// fieldPath turns a JSON Pointer (/members/2/email) into the dotted form used in field errors
// (members.2.email), the same form handlers use when they validate nested input.
func fieldPath(ptr jsontext.Pointer) string {
	var parts []string
	for tok := range ptr.Tokens() {
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

// position converts a byte offset into a 1-based line and column (in characters) for messages.
func position(body []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(body)))
	before := body[:off]
	line = 1 + bytes.Count(before, []byte{'\n'})
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return line, 1 + utf8.RuneCount(before[lineStart:])
}

// invalidUTF8At reports whether the bytes at off do not start a valid UTF-8 sequence.
func invalidUTF8At(body []byte, off int64) bool {
	if off < 0 || off >= int64(len(body)) {
		return false
	}
	r, size := utf8.DecodeRune(body[off:])
	return r == utf8.RuneError && size <= 1
}
