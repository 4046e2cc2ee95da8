package apidoc

import (
	"encoding"
	"encoding/json/jsontext"
	json "encoding/json/v2"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/gatehousehq/gatehouse/internal/transport"
)

// idPattern is what a v2 identifier (a decimal string) matches.
const idPattern = "^[0-9]+$"

// direction says whether a schema describes what a client sends or what it receives: requests
// are decoded strictly (unknown members refused, every member optional), responses list every
// member the encoder always writes as required.
type direction int

const (
	response direction = iota
	request
)

// schemas turns Go types into JSON Schemas by reflection over their JSON names, as
// encoding/json/v2 (the envelope's encoder and rest.Decode) sees them. Named struct types become
// components, so that a client generator names them.
type schemas struct {
	major      int
	components openapi3.Schemas
	names      map[key]string // the component of each type already described
	taken      map[string]key
}

type key struct {
	t   reflect.Type
	dir direction
}

func newSchemas(major int) *schemas {
	return &schemas{major: major, components: openapi3.Schemas{}, names: map[key]string{}, taken: map[string]key{}}
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	jsontextValue   = reflect.TypeFor[jsontext.Value]()
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
	jsonMarshalerTo = reflect.TypeFor[json.MarshalerTo]()
	textMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	v1Marshaler     = reflect.TypeFor[interface{ MarshalJSON() ([]byte, error) }]()
)

// of describes the type of v (nil: JSON null).
func (g *schemas) of(v any, dir direction) *openapi3.SchemaRef {
	if v == nil {
		return typed("null")
	}
	if s, ok := v.(*openapi3.Schema); ok {
		return s.NewRef()
	}
	return g.typ(reflect.TypeOf(v), dir, false)
}

func typed(types ...string) *openapi3.SchemaRef {
	t := openapi3.Types(types)
	return (&openapi3.Schema{Type: &t}).NewRef()
}

// nullable lets s also be null.
func nullable(s *openapi3.SchemaRef) *openapi3.SchemaRef {
	if s.Ref == "" && s.Value != nil && s.Value.Type != nil && len(s.Value.Type.Slice()) > 0 {
		t := append(openapi3.Types{}, s.Value.Type.Slice()...)
		if !t.Includes("null") {
			t = append(t, "null")
		}
		c := *s.Value
		c.Type = &t
		return c.NewRef()
	}
	if s.Ref == "" && s.Value != nil && s.Value.Type == nil && len(s.Value.OneOf) == 0 && len(s.Value.AnyOf) == 0 && len(s.Value.AllOf) == 0 {
		return s // any value, null included
	}
	return (&openapi3.Schema{AnyOf: openapi3.SchemaRefs{s, typed("null")}}).NewRef()
}

// typ describes t; id says the value is an object member whose name is an identifier (v2
// writes its integers as strings).
func (g *schemas) typ(t reflect.Type, dir direction, id bool) *openapi3.SchemaRef {
	if t.Kind() == reflect.Pointer {
		return nullable(g.typ(t.Elem(), dir, id))
	}
	switch {
	case t == timeType:
		s := typed("string")
		s.Value.Format = "date-time"
		return s
	case t == jsontextValue:
		return (&openapi3.Schema{}).NewRef()
	case implements(t, jsonMarshaler, jsonMarshalerTo, v1Marshaler):
		// Its own encoding: any JSON value.
		return (&openapi3.Schema{}).NewRef()
	case implements(t, textMarshaler):
		return typed("string")
	}
	switch t.Kind() {
	case reflect.Bool:
		return typed("boolean")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if id && g.major >= 2 {
			if dir == request {
				// v2 takes an identifier as a string or, like v1, as a number.
				s := typed("string", "integer")
				s.Value.Pattern = idPattern
				return s
			}
			s := typed("string")
			s.Value.Pattern = idPattern
			return s
		}
		s := typed("integer")
		if t.Kind() == reflect.Int64 || t.Kind() == reflect.Uint64 {
			s.Value.Format = "int64"
		}
		return s
	case reflect.Float32, reflect.Float64:
		return typed("number")
	case reflect.String:
		return typed("string")
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			s := typed("string")
			s.Value.ContentEncoding = "base64"
			return s
		}
		s := typed("array")
		s.Value.Items = g.typ(t.Elem(), dir, id)
		return s
	case reflect.Map:
		s := typed("object")
		s.Value.AdditionalProperties = openapi3.AdditionalProperties{Schema: g.typ(t.Elem(), dir, false)}
		return s
	case reflect.Struct:
		return g.structType(t, dir)
	}
	// Interfaces (any) and whatever else: any JSON value.
	return (&openapi3.Schema{}).NewRef()
}

func implements(t reflect.Type, ifaces ...reflect.Type) bool {
	for _, i := range ifaces {
		if t.Implements(i) || reflect.PointerTo(t).Implements(i) {
			return true
		}
	}
	return false
}

// structType describes a struct: a component for a named one, inline for an anonymous one.
func (g *schemas) structType(t reflect.Type, dir direction) *openapi3.SchemaRef {
	if t.Name() == "" {
		return g.object(t, dir).NewRef()
	}
	k := key{t, dir}
	if name, ok := g.names[k]; ok {
		return openapi3.NewSchemaRef("#/components/schemas/"+name, g.components[name].Value)
	}
	name := g.componentName(k)
	g.names[k] = name
	g.taken[name] = k
	// Reserve the name before describing the members, which may refer back to the type.
	ref := openapi3.NewSchemaRef("", &openapi3.Schema{})
	g.components[name] = ref
	ref.Value = g.object(t, dir)
	return openapi3.NewSchemaRef("#/components/schemas/"+name, ref.Value)
}

// componentName names t's component after the Go type, exported, and unique: a request type
// also described as a response (or two types of one name in different packages) get a suffix.
func (g *schemas) componentName(k key) string {
	base := exported(k.t.Name())
	if k.dir == request && !strings.HasSuffix(base, "Request") && !strings.HasSuffix(base, "Input") {
		if _, used := g.names[key{k.t, response}]; used {
			base += "Input"
		}
	}
	name := base
	for i := 2; ; i++ {
		if _, used := g.taken[name]; !used {
			return name
		}
		name = base + strconv.Itoa(i)
	}
}

func exported(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// object describes a struct's JSON object.
func (g *schemas) object(t reflect.Type, dir direction) *openapi3.Schema {
	s := &openapi3.Schema{Type: &openapi3.Types{"object"}, Properties: openapi3.Schemas{}}
	open := false
	g.members(t, dir, s, &open, map[string]bool{})
	if !open {
		s.AdditionalProperties = openapi3.AdditionalProperties{Has: new(false)}
	}
	return s
}

// members adds t's JSON members to s, descending into embedded structs (shallower names win,
// as the encoder has it: the callers walk the outer struct first).
func (g *schemas) members(t reflect.Type, dir direction, s *openapi3.Schema, open *bool, seen map[string]bool) {
	var embedded []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		inline := hasOpt(opts, "inline") || hasOpt(opts, "embed") || (f.Anonymous && name == "")
		if inline {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != timeType {
				embedded = append(embedded, f)
			} else {
				*open = true // an embedded fallback takes any other member
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" || !hasTag {
			name = f.Name
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		ms := g.typ(f.Type, dir, transport.IDMember(name))
		if hasOpt(opts, "string") {
			ms = typed("string")
		}
		s.Properties[name] = ms
		if dir == response && !hasOpt(opts, "omitempty") && !hasOpt(opts, "omitzero") {
			s.Required = append(s.Required, name)
		}
	}
	for _, f := range embedded {
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		g.members(ft, dir, s, open, seen)
	}
}

func hasOpt(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}
