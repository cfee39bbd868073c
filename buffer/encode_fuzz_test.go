package buffer

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzEncodeRecord holds the hand-written encoder byte for byte equal to
// encoding/json, which the buffer's format was defined by, and its decoder
// to reading back what encoding/json reads. The record is built from the
// fuzzer's bytes by reflection (recordFromBytes), field by field, so that
// a field added to Record is fuzzed too.
func FuzzEncodeRecord(f *testing.F) {
	for _, r := range []*Record{
		{V: 1, Action: "ban", Jail: "sshd", IP: "192.0.2.1", Time: 1795628212.5, At: 1795628213, Failures: 3, Bantime: -1, Restored: true, User: "root",
			Matches: []string{"", "a\nb \"q\" \\ é 😀 <b>&amp;</b>\u2028\u2029\x00\x1f\x7f\xff\xfe"}, Config: "/etc/f2b-notify/typo.yaml"},
		{},
		{V: -7, Action: "unban", Jail: "j\tx", IP: "::1", Time: 1e-7, At: -5, Failures: -2, Bantime: 600, User: "\b\f\r", Matches: []string{}},
		{V: 1, Action: "ban", Jail: "x", IP: "y", Time: 1e21, At: 1, Failures: 1, Bantime: 1, User: "u"},
		{V: 1, Action: "ban", Jail: "x", IP: "y", Time: 123456789012345678901234.0, At: 1, Failures: 1, Bantime: 1, User: "u", Matches: []string{"", "m", "\xed\xa0\x80"}},
		{V: 1, Action: "ban", Jail: "x", IP: "y", Time: 5e-324, At: math.MaxInt64, Failures: math.MinInt32, Bantime: math.MinInt64, Restored: true, User: "u", Matches: []string{""}},
		{Time: math.NaN()}, {Time: math.Inf(-1)},
		{V: 1, Action: "ban", Jail: "x", IP: "y", Time: 1.0, At: 1, Failures: 1, Bantime: 1, User: "\xff\uFFFD", Matches: []string{"a\xaab"}, Config: "\xaa"}, // invalid UTF-8, and a real U+FFFD
	} {
		f.Add(bytesFromRecord(f, r))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := recordFromBytes(t, data)
		want, jerr := json.Marshal(r)
		got, err := appendRecord(nil, r)
		if (jerr != nil) != (err != nil) {
			t.Fatalf("errors differ: encoding/json %v, appendRecord %v", jerr, err)
		}
		if !sameAsJSON(got, want) {
			t.Fatalf("record %#v:\nappendRecord  %s\nencoding/json %s", r, got, want)
		}
		if jerr != nil {
			return
		}
		var std, back Record
		if err := json.Unmarshal(got, &std); err != nil {
			t.Fatalf("encoding/json cannot read back %s: %v", got, err)
		}
		if !decodeFast(got, &back) {
			t.Fatalf("the fast decoder refuses a line the buffer writes: %s", got)
		}
		if !reflect.DeepEqual(back, std) {
			t.Fatalf("decode %s:\nfast %#v\njson %#v", got, back, std)
		}
		// Strings of valid UTF-8 come back as they went in.
		rv, bv := reflect.ValueOf(r).Elem(), reflect.ValueOf(&back).Elem()
		for _, fl := range codecFields(t) {
			if s := rv.Field(fl.index); s.Kind() == reflect.String && utf8.ValidString(s.String()) && s.String() != bv.Field(fl.index).String() {
				t.Fatalf("decode %s: %s %q, want %q", got, fl.name, bv.Field(fl.index).String(), s.String())
			}
		}
	})
}

// sameAsJSON reports whether the buffer's encoding of a record is what
// encoding/json wrote. Invalid UTF-8 is written as U+FFFD: by appendRecord,
// as go1.26's encoding/json did, as the escape \ufffd (ASCII, whatever Go
// builds f2b-notify); by go1.27's as the character itself. Both decode alike.
func sameAsJSON(got, want []byte) bool {
	fffd, esc := []byte("\uFFFD"), []byte(`\ufffd`)
	return bytes.Equal(bytes.ReplaceAll(got, fffd, esc), bytes.ReplaceAll(want, fffd, esc))
}
