package httpapi

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// jsonToYAML writes the JSON value in data as a YAML 1.2 document in block style: mapping keys
// sorted, numbers as the JSON wrote them, strings plain when no YAML reading could take them
// for anything else and double-quoted otherwise. It
// serves the OpenAPI document as YAML without linking a YAML library into the server for it.
func jsonToYAML(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	switch v := v.(type) {
	case map[string]any:
		if len(v) > 0 {
			yamlMapping(&b, v, 0, false)
			return b.Bytes(), nil
		}
	case []any:
		if len(v) > 0 {
			yamlSequence(&b, v, 0)
			return b.Bytes(), nil
		}
	}
	yamlScalar(&b, v)
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// yamlValue writes v as the value of a mapping member or a sequence item whose line is begun
// (after "key:" or "-"); a nested block is indented by indent.
func yamlValue(b *bytes.Buffer, v any, indent int) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			break
		}
		b.WriteByte('\n')
		yamlMapping(b, v, indent, false)
		return
	case []any:
		if len(v) == 0 {
			break
		}
		b.WriteByte('\n')
		yamlSequence(b, v, indent)
		return
	}
	b.WriteByte(' ')
	yamlScalar(b, v)
	b.WriteByte('\n')
}

// yamlMapping writes a non-empty mapping at indent; begun says its first line is begun already
// (a sequence item's "- ").
func yamlMapping(b *bytes.Buffer, m map[string]any, indent int, begun bool) {
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 || !begun {
			b.WriteString(strings.Repeat(" ", indent))
		}
		yamlString(b, k)
		b.WriteByte(':')
		yamlValue(b, m[k], indent+2)
	}
}

// yamlSequence writes a non-empty sequence at indent; an item that is a non-empty mapping
// begins on the item's line.
func yamlSequence(b *bytes.Buffer, s []any, indent int) {
	for _, item := range s {
		b.WriteString(strings.Repeat(" ", indent))
		b.WriteByte('-')
		if m, ok := item.(map[string]any); ok && len(m) > 0 {
			b.WriteByte(' ')
			yamlMapping(b, m, indent+2, true)
			continue
		}
		yamlValue(b, item, indent+2)
	}
}

func yamlScalar(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case json.Number:
		b.WriteString(v.String())
	case string:
		yamlString(b, v)
	case map[string]any:
		b.WriteString("{}") // empty: the others are blocks
	case []any:
		b.WriteString("[]")
	}
}

// yamlString writes s plain when it is safe (it starts with a letter, '_', '/' or '$', holds
// no character that means something to YAML, and is no word YAML reads as a boolean or null),
// double-quoted otherwise.
func yamlString(b *bytes.Buffer, s string) {
	if plainSafe(s) {
		b.WriteString(s)
		return
	}
	// Go's escapes (\a \b \f \n \r \t \v \\ \" \xXX \uXXXX \UXXXXXXXX) are all YAML's too, and
	// s is valid UTF-8 (decoded from JSON), so \xXX never stands for a lone byte.
	b.WriteString(strconv.Quote(s))
}

func plainSafe(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_', r == '/', r == '$':
		case i > 0 && (r >= '0' && r <= '9' || r == '.' || r == '-' || r == '+' || r == '{' || r == '}'):
		default:
			return false
		}
	}
	switch strings.ToLower(s) {
	case "true", "false", "null", "yes", "no", "on", "off", "y", "n":
		return false
	}
	return true
}
