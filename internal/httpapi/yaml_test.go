package httpapi

import (
	"encoding/json"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/gatehousehq/gatehouse/internal/transport"
)

// The YAML the server writes says what its JSON says, as a YAML library reads it: each
// version's document, and strings YAML would read as something else if written plain.
func TestJSONToYAML(t *testing.T) {
	var docs [][]byte
	for _, major := range []int{1, 2} {
		doc, err := Document(major, "test", transport.Routes(), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	docs = append(docs,
		[]byte(`{"a":["true","no","Null","~","1","1.5","-1","0x1F","2XX","#x","a: b","a #b","- x","x-y","","'q'","\"d\"","\\","tab\tnl\nend","…<&>","{}","[]","*a","&a","!t","%d","@x","\u0007\u0000\u2028é\ud83d\ude00","`+"`x`"+`"]}`),
		[]byte(`{"n":null,"t":true,"f":false,"i":12,"x":-1.5e3,"e":{},"l":[],"nested":[[1,[]],{"k":{}},[{"a":1,"b":[2]}]],"200":"OK"}`),
		[]byte(`[{"a":1},"b"]`), []byte(`"plain"`), []byte(`{}`), []byte(`7`))
	for _, data := range docs {
		y, err := jsonToYAML(data)
		if err != nil {
			t.Fatal(err)
		}
		var fromYAML any
		if err := yaml.Unmarshal(y, &fromYAML); err != nil {
			t.Fatalf("%v\n%s", err, y)
		}
		// Both through JSON, so that numbers compare as numbers.
		again, err := json.Marshal(fromYAML)
		if err != nil {
			t.Fatal(err)
		}
		var want, got any
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(again, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			if len(data) < 1000 {
				t.Errorf("%s\nYAML:\n%s\nreads as %s", data, y, again)
			} else {
				t.Errorf("a document's YAML reads as something else than its JSON")
			}
		}
	}
}
