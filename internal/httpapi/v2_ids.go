package httpapi

import (
	"encoding/json/jsontext"

	"github.com/gatehousehq/gatehouse/internal/transport"
)

// stringifyIDs appends to dst the JSON document src with the integer value of every identifier
// member (transport.IDMember: "id" and names ending in "_id") quoted, at any depth: "id":42
// becomes "id":"42". Everything else is copied byte for byte, so v1 and v2 differ in exactly
// those members. src is one valid JSON document (an encoded envelope); the scan keeps only
// what it needs (where it is in objects and arrays, the last member name), copies runs of
// bytes it leaves alone in one append each, and returns src itself when nothing changes.
//
// Integers in arrays ("ids": [1, 2]) are not members and stay numbers, as the rule says.
func stringifyIDs(dst, src []byte) []byte {
	var (
		stack     = make([]byte, 0, 32) // '{' or '[' per open container
		expectKey bool
		key       []byte // the last member name read, raw (between its quotes)
		keyEsc    bool   // key contains an escape sequence
		copied    int    // src[:copied] has been appended to dst
		changed   bool
	)
	inObject := func() bool { return len(stack) > 0 && stack[len(stack)-1] == '{' }
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '"':
			end, esc := stringEnd(src, i)
			if expectKey && inObject() {
				key, keyEsc = src[i+1:end-1], esc
			}
			i = end
		case '{', '[':
			stack = append(stack, c)
			expectKey = c == '{'
			i++
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			expectKey = false
			i++
		case ',':
			expectKey = inObject()
			i++
		case ':':
			expectKey = false
			i++
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			end, integer := numberEnd(src, i)
			if integer && inObject() && isIDKey(key, keyEsc) {
				if !changed {
					dst, changed = append(dst[:0], src[:i]...), true
				} else {
					dst = append(dst, src[copied:i]...)
				}
				dst = append(dst, '"')
				dst = append(dst, src[i:end]...)
				dst = append(dst, '"')
				copied = end
			}
			i = end
		default:
			i++
		}
	}
	if !changed {
		return src
	}
	return append(dst, src[copied:]...)
}

// stringEnd returns the index just past the string starting at src[i] (a quote), and whether
// the string holds an escape sequence. Strings of an envelope are short (member names, dates),
// for which a plain loop beats bytes.IndexByte's call.
func stringEnd(src []byte, i int) (int, bool) {
	esc := false
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			esc = true
			j++ // the escaped character cannot end the string
		case '"':
			return j + 1, esc
		}
	}
	return len(src), esc
}

// numberEnd returns the index just past the number starting at src[i], and whether it is an
// integer (no fraction, no exponent).
func numberEnd(src []byte, i int) (int, bool) {
	integer := true
	j := i + 1
	for ; j < len(src); j++ {
		switch src[j] {
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		case '.', 'e', 'E', '+', '-':
			integer = false
		default:
			return j, integer
		}
	}
	return j, integer
}

// isIDKey applies transport.IDMember to a raw member name, unescaping it first if needed.
func isIDKey(raw []byte, escaped bool) bool {
	if !escaped {
		// Every identifier member ends in "id"; checking that first spares the conversion for
		// the other members.
		if n := len(raw); n < 2 || raw[n-2] != 'i' || raw[n-1] != 'd' {
			return false
		}
		return transport.IDMember(string(raw)) // no allocation: the conversion is only compared
	}
	name, err := jsontext.AppendUnquote(nil, append(append([]byte{'"'}, raw...), '"'))
	return err == nil && transport.IDMember(string(name))
}
