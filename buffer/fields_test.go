package buffer

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// The buffer's encoder (encode.go) and fast decoder (decode.go) name
// Record's fields by hand, for speed. The tests here find the fields by
// reflection instead, so that a field added to Record without teaching the
// encoder and the decoder about it fails a test that names the field and
// the file to change.

// codecField is a field of Record that the buffer's format holds: exported,
// with a json name.
type codecField struct {
	index int
	name  string // Go name
	key   string // JSON key
}

func codecFields(t testing.TB) []codecField {
	t.Helper()
	var out []codecField
	rt := reflect.TypeFor[Record]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		tag, ok := f.Tag.Lookup("json")
		if !f.IsExported() || !ok || tag == "-" {
			continue
		}
		key, _, _ := strings.Cut(tag, ",")
		if key == "" {
			key = f.Name
		}
		out = append(out, codecField{index: i, name: f.Name, key: key})
	}
	if len(out) == 0 {
		t.Fatal("Record has no field with a json tag")
	}
	return out
}

// edgeValues are values of type t worth encoding: zero, signs, limits,
// number forms encoding/json switches between, escapes, invalid UTF-8.
// A type it does not know fails the test: say here what values it takes.
func edgeValues(t testing.TB, f codecField, rt reflect.Type) []reflect.Value {
	t.Helper()
	var vals []any
	switch rt.Kind() {
	case reflect.Bool:
		vals = []any{false, true}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := rt.Bits()
		vals = []any{int64(0), int64(1), int64(-1), int64(3), int64(1795628212), int64(-1) << (bits - 1), int64(uint64(1)<<(bits-1) - 1)}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		vals = []any{uint64(0), uint64(1), uint64(600), uint64(math.MaxUint64) >> (64 - rt.Bits())}
	case reflect.Float32, reflect.Float64:
		vals = []any{0.0, math.Copysign(0, -1), 1, -2.5, 1795628212.5, 1e-7, 1e-6, 999999999999999999999.0, 1e21, 123456789012345678901234.0, 5e-324, math.MaxFloat64}
		if rt.Kind() == reflect.Float32 {
			vals = []any{0.0, 1.0, -2.5, 1e-7, 1e21, float64(math.MaxFloat32)}
		}
	case reflect.String:
		vals = []any{"", "sshd", "192.0.2.1", "<b>&amp;</b>", "a\nb \"q\" \\ é 😀 \u2028\u2029\x00\x1f\x7f", "\xff\xfe", "\xed\xa0\x80", "\b\f\r\t/"}
	case reflect.Slice:
		if rt.Elem().Kind() == reflect.Uint8 {
			break
		}
		elems := edgeValues(t, f, rt.Elem())
		vals = []any{nil, 0, 1, 2, len(elems)} // nil, then lengths
		out := make([]reflect.Value, len(vals))
		for i, n := range vals {
			out[i] = reflect.Zero(rt)
			if n != nil {
				s := reflect.MakeSlice(rt, n.(int), n.(int))
				for j := range n.(int) {
					s.Index(j).Set(elems[(j+i)%len(elems)])
				}
				out[i] = s
			}
		}
		return out
	}
	if vals == nil {
		t.Fatalf("Record.%s is a %s: teach edgeValues (buffer/fields_test.go) its values, and appendRecord (buffer/encode.go) and decoder.record (buffer/decode.go) to write and read it", f.name, rt)
	}
	out := make([]reflect.Value, len(vals))
	for i, v := range vals {
		out[i] = reflect.New(rt).Elem()
		switch x := v.(type) {
		case bool:
			out[i].SetBool(x)
		case int64:
			out[i].SetInt(x)
		case uint64:
			out[i].SetUint(x)
		case float64:
			out[i].SetFloat(x)
		case string:
			out[i].SetString(x)
		}
	}
	return out
}

// checkCodec holds appendRecord to json.Marshal and the fast decoder to
// json.Unmarshal for r, blaming field f when they differ.
func checkCodec(t *testing.T, r *Record, f codecField) {
	t.Helper()
	want, jerr := json.Marshal(r)
	got, err := appendRecord(nil, r)
	if (jerr != nil) != (err != nil) {
		t.Fatalf("Record.%s (%q): errors differ: encoding/json %v, appendRecord %v: update appendRecord in buffer/encode.go", f.name, f.key, jerr, err)
	}
	if jerr != nil {
		return
	}
	if !sameAsJSON(got, want) {
		t.Fatalf("Record.%s (%q): appendRecord (buffer/encode.go) does not write it as encoding/json does: update appendRecord.\nrecord        %#v\nappendRecord  %s\nencoding/json %s", f.name, f.key, r, got, want)
	}
	var std, fast Record
	if err := json.Unmarshal(want, &std); err != nil {
		t.Fatalf("encoding/json cannot read back %s: %v", want, err)
	}
	if !decodeFast(want, &fast) {
		t.Fatalf("Record.%s (%q): the fast decoder (decoder.record in buffer/decode.go) refuses a line the buffer writes, so every flush would fall back to encoding/json: add a case for %q.\nline %s", f.name, f.key, f.key, want)
	}
	if !reflect.DeepEqual(fast, std) {
		t.Fatalf("Record.%s (%q): the fast decoder (decoder.record in buffer/decode.go) reads it otherwise than encoding/json: update it.\nline %s\nfast %#v\njson %#v", f.name, f.key, want, fast, std)
	}
}

// TestCodecCoversEveryField sets each field of Record in turn to each of
// its edge values, alone and among other fields set, and checks that the
// buffer's encoder writes what encoding/json writes and that its decoder
// reads what encoding/json reads.
func TestCodecCoversEveryField(t *testing.T) {
	fields := codecFields(t)
	values := make([][]reflect.Value, len(fields))
	for i, f := range fields {
		values[i] = edgeValues(t, f, reflect.TypeFor[Record]().Field(f.index).Type)
	}
	full := func() *Record {
		r := &Record{}
		rv := reflect.ValueOf(r).Elem()
		for i, f := range fields {
			rv.Field(f.index).Set(values[i][len(values[i])/2])
		}
		return r
	}
	// Alone first, so that a field the codec does not know is the one named.
	for i, f := range fields {
		for _, v := range values[i] {
			alone := &Record{}
			reflect.ValueOf(alone).Elem().Field(f.index).Set(v)
			checkCodec(t, alone, f)
		}
	}
	for i, f := range fields {
		for _, v := range values[i] {
			among := full()
			reflect.ValueOf(among).Elem().Field(f.index).Set(v)
			checkCodec(t, among, f)
		}
	}
	// Random mixes of every field's values.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		r := &Record{}
		rv := reflect.ValueOf(r).Elem()
		for i, f := range fields {
			rv.Field(f.index).Set(values[i][rng.IntN(len(values[i]))])
		}
		checkCodec(t, r, codecField{name: "*", key: "*"})
	}
}

// recordFromBytes fills every JSON field of Record from data, in field
// order, for fuzzing: an integer or float takes 8 bytes (its bits, little
// endian), a bool one, a string a length byte and that many bytes, a slice
// a count byte (0-3 elements, 4 for an empty non-nil slice) and its
// elements. Missing bytes read as zeros.
func recordFromBytes(t testing.TB, data []byte) *Record {
	r := &Record{}
	rv := reflect.ValueOf(r).Elem()
	take := func(n int) []byte {
		b := make([]byte, n)
		data = data[copy(b, data):]
		return b
	}
	var fill func(f codecField, v reflect.Value)
	fill = func(f codecField, v reflect.Value) {
		switch v.Kind() {
		case reflect.Bool:
			v.SetBool(take(1)[0]&1 == 1)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			n := int64(binary.LittleEndian.Uint64(take(8)))
			v.SetInt(n << (64 - v.Type().Bits()) >> (64 - v.Type().Bits()))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			v.SetUint(binary.LittleEndian.Uint64(take(8)) >> (64 - v.Type().Bits()))
		case reflect.Float32, reflect.Float64:
			v.SetFloat(math.Float64frombits(binary.LittleEndian.Uint64(take(8))))
		case reflect.String:
			v.SetString(string(take(int(take(1)[0]))))
		case reflect.Slice:
			n := int(take(1)[0] % 5)
			if n == 4 {
				v.Set(reflect.MakeSlice(v.Type(), 0, 0))
				return
			}
			if n > 0 {
				v.Set(reflect.MakeSlice(v.Type(), n, n))
			}
			for j := range n {
				fill(f, v.Index(j))
			}
		default:
			t.Fatalf("Record.%s is a %s: teach recordFromBytes and bytesFromRecord (buffer/fields_test.go) to fill it", f.name, v.Type())
		}
	}
	for _, f := range codecFields(t) {
		fill(f, rv.Field(f.index))
	}
	return r
}

// bytesFromRecord is the inverse of recordFromBytes, for seeds. Strings are
// cut to 255 bytes.
func bytesFromRecord(t testing.TB, r *Record) []byte {
	var b []byte
	var put func(f codecField, v reflect.Value)
	put = func(f codecField, v reflect.Value) {
		switch v.Kind() {
		case reflect.Bool:
			if v.Bool() {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			b = binary.LittleEndian.AppendUint64(b, uint64(v.Int()))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			b = binary.LittleEndian.AppendUint64(b, v.Uint()<<(64-v.Type().Bits()))
		case reflect.Float32, reflect.Float64:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Float()))
		case reflect.String:
			s := v.String()[:min(v.Len(), 255)]
			b = append(b, byte(len(s)))
			b = append(b, s...)
		case reflect.Slice:
			switch {
			case v.IsNil():
				b = append(b, 0)
			case v.Len() == 0:
				b = append(b, 4)
			default:
				n := min(v.Len(), 3)
				b = append(b, byte(n))
				for j := range n {
					put(f, v.Index(j))
				}
			}
		default:
			t.Fatalf("Record.%s is a %s: teach recordFromBytes and bytesFromRecord (buffer/fields_test.go) to fill it", f.name, v.Type())
		}
	}
	rv := reflect.ValueOf(r).Elem()
	for _, f := range codecFields(t) {
		put(f, rv.Field(f.index))
	}
	return b
}

func TestRecordFromBytesRoundTrips(t *testing.T) {
	r := &Record{V: 1, Action: "ban", Jail: "sshd", IP: "192.0.2.1", Time: 1795628212.5, At: 1795628213, Failures: 3, Bantime: -1, Restored: true, User: "root", Matches: []string{"a", "b"}, Config: "/etc/x.yaml"}
	if back := recordFromBytes(t, bytesFromRecord(t, r)); !reflect.DeepEqual(back, r) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", back, r)
	}
	if r := recordFromBytes(t, nil); !reflect.DeepEqual(r, &Record{}) {
		t.Fatalf("no bytes: %#v, want a zero record", r)
	}
}
