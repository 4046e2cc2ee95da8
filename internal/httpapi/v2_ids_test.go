package httpapi

import (
	"bytes"
	"encoding/json/jsontext"
	json "encoding/json/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/transport"
)

func TestStringifyIDs(t *testing.T) {
	tests := map[string]string{
		`{"id":42,"name":"x"}`: `{"id":"42","name":"x"}`,
		`{"status":"success","data":{"id":7,"team_id":-3,"created_at":"2026-12-08T01:02:03Z","n":5,"f_id":1.5,"e_id":1e3},"meta":{"version":2,"request_id":"AB12"}}`: `{"status":"success","data":{"id":"7","team_id":"-3","created_at":"2026-12-08T01:02:03Z","n":5,"f_id":1.5,"e_id":1e3},"meta":{"version":2,"request_id":"AB12"}}`,
		`[{"id":1},{"id":2,"ids":[3,4]},5]`:             `[{"id":"1"},{"id":"2","ids":[3,4]},5]`,
		`{"a\"id":1,"x":"\"id\":1","\u0069d":2}`:        `{"a\"id":1,"x":"\"id\":1","\u0069d":"2"}`,
		`{"parent_key_id":null,"id":"abc","user_id":0}`: `{"parent_key_id":null,"id":"abc","user_id":"0"}`,
		`{"x":{"y":[{"z":{"id":9}}]},"id":10}`:          `{"x":{"y":[{"z":{"id":"9"}}]},"id":"10"}`,
		`{"s":"a\\","id":1}`:                            `{"s":"a\\","id":"1"}`,
		`{}`:                                            `{}`,
		`{"id": 12 , "k":true}`:                         `{"id": "12" , "k":true}`,
	}
	for in, want := range tests {
		if got := string(stringifyIDs(nil, []byte(in))); got != want {
			t.Errorf("stringifyIDs(%s)\n got %s\nwant %s", in, got, want)
		}
	}
}

// FuzzStringifyIDs checks the byte scanner against a rewrite by the json package's own tokenizer:
// for any valid JSON document, the two agree, and the scanner's output is valid JSON.
func FuzzStringifyIDs(f *testing.F) {
	for _, s := range []string{
		`{"id":42,"name":"x"}`, `[{"id":1},{"ids":[3,4]}]`, `{"a\"id":1,"x":"\"id\":1","\u0069d":2}`,
		`{"s":"a\\","id":-1.5e3,"team_id":0}`, `{"x":{"y":[{"z":{"user_id":9}}]},"id":10}`, ` { "id" : 12 } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !jsontext.Value(in).IsValid() {
			return
		}
		got := stringifyIDs(nil, in)
		if !jsontext.Value(got).IsValid() {
			t.Fatalf("stringifyIDs(%s) = %s: not valid JSON", in, got)
		}
		want, err := rewriteIDsWithTokens(in)
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if json.Unmarshal(got, &g) != nil || json.Unmarshal(want, &w) != nil || !reflect.DeepEqual(g, w) {
			t.Fatalf("stringifyIDs(%s)\n got %s\nwant %s", in, got, want)
		}
	})
}

// rewriteIDsWithTokens is the identifier rule applied through jsontext, for comparison.
func rewriteIDsWithTokens(in []byte) ([]byte, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(in))
	var out bytes.Buffer
	enc := jsontext.NewEncoder(&out)
	if err := rewriteValue(dec, enc, "", false); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// rewriteValue copies one value; member says whether it is an object member's, named name.
func rewriteValue(dec *jsontext.Decoder, enc *jsontext.Encoder, name string, member bool) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case '{', '[':
		obj := tok.Kind() == '{'
		if err := enc.WriteToken(tok); err != nil {
			return err
		}
		for dec.PeekKind() != '}' && dec.PeekKind() != ']' {
			child := ""
			if obj {
				nt, err := dec.ReadToken()
				if err != nil {
					return err
				}
				child = nt.String()
				if err := enc.WriteToken(nt); err != nil {
					return err
				}
			}
			if err := rewriteValue(dec, enc, child, obj); err != nil {
				return err
			}
		}
		end, err := dec.ReadToken()
		if err != nil {
			return err
		}
		return enc.WriteToken(end)
	case '0':
		if member && transport.IDMember(name) && !strings.ContainsAny(tok.String(), ".eE") {
			tok = jsontext.String(tok.String())
		}
	}
	return enc.WriteToken(tok)
}
