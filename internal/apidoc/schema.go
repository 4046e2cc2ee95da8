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
	components map[string]*Schema
	names      map[key]string // the component of each type already described
	taken      map[string]key
}

type key struct {
	t   reflect.Type
	dir direction
}

func newSchemas(major int) *schemas {
	return &schemas{major: major, components: map[string]*Schema{}, names: map[key]string{}, taken: map[string]key{}}
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
func (g *schemas) of(v any, dir direction) *Schema {
	if v == nil {
		return typed("null")
	}
	if s, ok := v.(*Schema); ok {
		return s
	}
	return g.typ(reflect.TypeOf(v), dir, false)
}

func typed(types ...string) *Schema { return &Schema{Type: Types(types)} }

// nullable lets s also be null.
func nullable(s *Schema) *Schema {
	if s.Ref == "" && len(s.Type) > 0 {
		c := *s
		c.Type = append(Types{}, s.Type...)
		if !c.Type.Includes("null") {
			c.Type = append(c.Type, "null")
		}
		return &c
	}
	if s.Ref == "" && len(s.OneOf) == 0 && len(s.AnyOf) == 0 {
		return s // any value, null included
	}
	return &Schema{AnyOf: []*Schema{s, typed("null")}}
}

// typ describes t; id says the value is an object member whose name is an identifier (v2
// writes its integers as strings).
func (g *schemas) typ(t reflect.Type, dir direction, id bool) *Schema {
	if t.Kind() == reflect.Pointer {
		return nullable(g.typ(t.Elem(), dir, id))
	}
	switch {
	case t == timeType:
		s := typed("string")
		s.Format = "date-time"
		return s
	case t == jsontextValue:
		return &Schema{}
	case implements(t, jsonMarshaler, jsonMarshalerTo, v1Marshaler):
		// Its own encoding: any JSON value.
		return &Schema{}
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
				s.Pattern = idPattern
				return s
			}
			s := typed("string")
			s.Pattern = idPattern
			return s
		}
		s := typed("integer")
		if t.Kind() == reflect.Int64 || t.Kind() == reflect.Uint64 {
			s.Format = "int64"
		}
		return s
	case reflect.Float32, reflect.Float64:
		return typed("number")
	case reflect.String:
		return typed("string")
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			s := typed("string")
			s.ContentEncoding = "base64"
			return s
		}
		s := typed("array")
		s.Items = g.typ(t.Elem(), dir, id)
		return s
	case reflect.Map:
		s := typed("object")
		s.AdditionalProperties = AdditionalProperties{Schema: g.typ(t.Elem(), dir, false)}
		return s
	case reflect.Struct:
		return g.structType(t, dir)
	}
	// Interfaces (any) and whatever else: any JSON value.
	return &Schema{}
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
func (g *schemas) structType(t reflect.Type, dir direction) *Schema {
	if t.Name() == "" {
		return g.object(t, dir)
	}
	k := key{t, dir}
	if name, ok := g.names[k]; ok {
		return ref(name)
	}
	name := g.componentName(k)
	// Reserve the name before describing the members, which may refer back to the type.
	g.names[k] = name
	g.taken[name] = k
	g.components[name] = g.object(t, dir)
	return ref(name)
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
func (g *schemas) object(t reflect.Type, dir direction) *Schema {
	s := &Schema{Type: Types{"object"}, Properties: map[string]*Schema{}}
	open := false
	g.members(t, dir, s, &open, map[string]bool{})
	if !open {
		s.AdditionalProperties = AdditionalProperties{Has: new(false)}
	}
	return s
}

// members adds t's JSON members to s, descending into embedded structs (shallower names win,
// as the encoder has it: the callers walk the outer struct first).
func (g *schemas) members(t reflect.Type, dir direction, s *Schema, open *bool, seen map[string]bool) {
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
