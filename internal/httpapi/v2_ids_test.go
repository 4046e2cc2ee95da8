package httpapi

import "testing"

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
