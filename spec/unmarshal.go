package spec

import (
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Unmarshal decodes JSON data into v as encoding/json.Unmarshal does, with
// the same result and the same errors, only cheaper for the runtime spec's
// types in a process that decodes once.
//
// encoding/json prepares, the first time it meets a struct type, its
// fields and an encoder for every type the struct can hold: for the
// runtime spec, 63 struct types (Windows', Solaris' and VMs' too), most
// of a millisecond in every berth process, which is longer than the rest
// of the decoding. This decoder looks only at the fields the document
// names. It handles structs (embedded ones too), pointers, slices,
// string-keyed maps, strings, booleans and numbers; on anything else
// (interfaces, arrays, types with their own UnmarshalJSON or
// UnmarshalText, tag options such as ",string", a key repeated in an
// object) and on any error it leaves the work to encoding/json, from the
// start.
func Unmarshal(data []byte, v any) error {
	// A target that holds something already would be merged into, and a
	// half-done decoding would show in what encoding/json makes of it.
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().IsZero() && json.Valid(data) {
		d := decoder{data: data}
		fresh := reflect.New(rv.Elem().Type())
		if d.value(fresh.Elem()) == nil {
			rv.Elem().Set(fresh.Elem())
			return nil
		}
	}
	return json.Unmarshal(data, v)
}

// errSlow says that encoding/json must do the decoding.
var errSlow = errors.New("left to encoding/json")

// decoder walks a document that json.Valid accepted.
type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	ownDecoding     sync.Map // reflect.Type → bool
)

// decodesItself reports whether values of t (or pointers to them) decode
// themselves, with UnmarshalJSON or UnmarshalText.
func decodesItself(t reflect.Type) bool {
	if own, ok := ownDecoding.Load(t); ok {
		return own.(bool)
	}
	pt := reflect.PointerTo(t)
	own := t.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler) ||
		pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler)
	ownDecoding.Store(t, own)
	return own
}

// value decodes the next value into v.
func (d *decoder) value(v reflect.Value) error {
	d.skipSpace()
	t := v.Type()
	if decodesItself(t) {
		return errSlow
	}
	c := d.data[d.pos]
	if c == 'n' { // null
		d.pos += len("null")
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			v.SetZero()
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return d.value(v.Elem())
	case reflect.Struct:
		if c != '{' {
			return errSlow
		}
		return d.object(v)
	case reflect.Map:
		if c != '{' || t.Key().Kind() != reflect.String || decodesItself(t.Key()) {
			return errSlow
		}
		return d.mapObject(v)
	case reflect.Slice:
		if c != '[' || t.Elem().Kind() == reflect.Uint8 { // []byte is base64
			return errSlow
		}
		return d.array(v)
	case reflect.String:
		if c != '"' {
			return errSlow
		}
		s, err := d.str()
		if err != nil {
			return err
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		switch c {
		case 't':
			d.pos += len("true")
			v.SetBool(true)
		case 'f':
			d.pos += len("false")
			v.SetBool(false)
		default:
			return errSlow
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(d.number(), 10, 64)
		if err != nil || v.OverflowInt(n) {
			return errSlow
		}
		v.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(d.number(), 10, 64)
		if err != nil || v.OverflowUint(n) {
			return errSlow
		}
		v.SetUint(n)
		return nil
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(d.number(), t.Bits())
		if err != nil || v.OverflowFloat(f) {
			return errSlow
		}
		v.SetFloat(f)
		return nil
	}
	return errSlow
}

// number returns the number at pos, or "" (which no parser accepts) when
// the value there is not one.
func (d *decoder) number() string {
	start := d.pos
	for d.pos < len(d.data) && strings.IndexByte("+-.0123456789eE", d.data[d.pos]) >= 0 {
		d.pos++
	}
	return string(d.data[start:d.pos])
}

// str decodes the string at pos. One with escapes or other than ASCII goes
// through encoding/json, whose handling of bad UTF-8 and lone surrogates it
// must match; for a string that costs no type preparation.
func (d *decoder) str() (string, error) {
	start := d.pos
	d.pos++
	plain := true
	for {
		c := d.data[d.pos]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			d.pos++ // the escaped byte cannot end the string
		} else if c >= utf8.RuneSelf {
			plain = false
		}
		d.pos++
	}
	d.pos++
	if plain {
		return string(d.data[start+1 : d.pos-1]), nil
	}
	var s string
	if err := json.Unmarshal(d.data[start:d.pos], &s); err != nil {
		return "", errSlow
	}
	return s, nil
}

// members calls member for each key of the object at pos, which decodes
// or skips the key's value.
func (d *decoder) members(member func(key string) error) error {
	d.pos++ // {
	for {
		d.skipSpace()
		if d.data[d.pos] == '}' {
			d.pos++
			return nil
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		d.skipSpace()
		d.pos++ // :
		if err := member(key); err != nil {
			return err
		}
		d.skipSpace()
		if d.data[d.pos] == ',' {
			d.pos++
		}
	}
}

func (d *decoder) object(v reflect.Value) error {
	fields := fieldsOf(v.Type())
	if fields == nil {
		return errSlow
	}
	var seen []int
	return d.members(func(key string) error {
		i := fields.lookup(key)
		if i < 0 {
			return d.skip()
		}
		// encoding/json would merge a repeated field into the first.
		for _, s := range seen {
			if s == i {
				return errSlow
			}
		}
		seen = append(seen, i)
		return d.value(v.FieldByIndex(fields.list[i].index))
	})
}

func (d *decoder) mapObject(v reflect.Value) error {
	t := v.Type()
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	return d.members(func(key string) error {
		elem := reflect.New(t.Elem()).Elem()
		if err := d.value(elem); err != nil {
			return err
		}
		v.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), elem)
		return nil
	})
}

// array decodes into a slice as encoding/json does: into the elements it
// has, growing it, and cutting it to the array's length; an empty array
// makes an empty slice, not nil.
func (d *decoder) array(v reflect.Value) error {
	d.pos++ // [
	i := 0
	for {
		d.skipSpace()
		if d.data[d.pos] == ']' {
			d.pos++
			break
		}
		if i >= v.Cap() {
			v.Grow(1)
		}
		if i >= v.Len() {
			v.SetLen(i + 1)
		}
		if err := d.value(v.Index(i)); err != nil {
			return err
		}
		i++
		d.skipSpace()
		if d.data[d.pos] == ',' {
			d.pos++
		}
	}
	if i < v.Len() {
		v.SetLen(i)
	}
	if i == 0 {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
	}
	return nil
}

// skip passes over the value at pos.
func (d *decoder) skip() error {
	d.skipSpace()
	depth := 0
	for {
		switch d.data[d.pos] {
		case '"':
			if _, err := d.str(); err != nil {
				return err
			}
		case '{', '[':
			depth++
			d.pos++
		case '}', ']':
			depth--
			d.pos++
		default:
			// A number or literal: up to the next delimiter.
			for d.pos < len(d.data) && strings.IndexByte(",:]} \t\r\n", d.data[d.pos]) < 0 {
				d.pos++
			}
		}
		d.skipSpace()
		if depth == 0 {
			return nil
		}
		if d.data[d.pos] == ',' || d.data[d.pos] == ':' {
			d.pos++
		}
	}
}

// structFields are the JSON fields of a struct type, in encoding/json's
// order; nil for a struct this decoder leaves to encoding/json.
type structFields struct {
	list   []field
	byName map[string]int
}

type field struct {
	name  string
	index []int
}

// lookup finds the field for key as encoding/json does: by exact name,
// else the first that matches ignoring case; -1 if none.
func (f *structFields) lookup(key string) int {
	if i, ok := f.byName[key]; ok {
		return i
	}
	for i := range f.list {
		if strings.EqualFold(f.list[i].name, key) {
			return i
		}
	}
	return -1
}

var fieldCache sync.Map // reflect.Type → *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{byName: map[string]int{}}
	if !f.add(t, nil) {
		f = nil
	}
	fieldCache.Store(t, f)
	return f
}

// add adds the fields of t, reached through index, and reports whether
// this decoder can handle them: a name that two fields claim, which
// encoding/json settles by depth and tags, is left to it.
func (f *structFields) add(t reflect.Type, index []int) bool {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts != "" && opts != "omitempty" && opts != "omitzero" {
			return false
		}
		at := append(append([]int(nil), index...), i)
		if sf.Anonymous && name == "" {
			if sf.Type.Kind() != reflect.Struct {
				return false // embedded pointers and non-structs
			}
			if !f.add(sf.Type, at) {
				return false
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if _, dup := f.byName[name]; dup {
			return false
		}
		f.byName[name] = len(f.list)
		f.list = append(f.list, field{name: name, index: at})
	}
	return true
}
