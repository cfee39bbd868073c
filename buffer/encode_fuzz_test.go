package buffer

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"unicode/utf8"
)

// FuzzEncodeRecord holds the hand-written encoder byte for byte equal to
// encoding/json, which the buffer's format was defined by.
func FuzzEncodeRecord(f *testing.F) {
	f.Add(1, "ban", "sshd", "192.0.2.1", 1795628212.5, int64(1795628213), 3, int64(-1), true, "root", "a\nb \"q\" \\ é 😀 <b>&amp;</b>\u2028\u2029\x00\x1f\x7f\xff\xfe", 2, "/etc/f2b-notify/typo.yaml")
	f.Add(0, "", "", "", 0.0, int64(0), 0, int64(0), false, "", "", 0, "")
	f.Add(-7, "unban", "j\tx", "::1", 1e-7, int64(-5), -2, int64(600), false, "\b\f\r", "\xed\xa0\x80", 1, "")
	f.Add(1, "ban", "x", "y", 1e21, int64(1), 1, int64(1), false, "u", "", 0, "")
	f.Add(1, "ban", "x", "y", 123456789012345678901234.0, int64(1), 1, int64(1), false, "u", "m", 3, "")
	f.Add(1, "ban", "x", "y", 5e-324, int64(math.MaxInt64), math.MinInt32, int64(math.MinInt64), true, "u", "m", 1, "")
	f.Add(1, "ban", "x", "y", 1.0, int64(1), 1, int64(1), false, "\xff\uFFFD", "a\xaab", 3, "\xaa") // invalid UTF-8, and a real U+FFFD
	f.Fuzz(func(t *testing.T, v int, action, jail, ip string, tm float64, at int64, failures int, bantime int64, restored bool, user, match string, nMatches int, config string) {
		r := &Record{V: v, Action: action, Jail: jail, IP: ip, Time: tm, At: at, Failures: failures, Bantime: bantime, Restored: restored, User: user, Config: config}
		for i := range nMatches % 4 {
			r.Matches = append(r.Matches, match[:len(match)*i/3])
		}
		if nMatches%4 == 1 {
			r.Matches = []string{} // empty, not nil: omitted all the same
		}
		want, jerr := json.Marshal(r)
		got, err := appendRecord(nil, r)
		if (jerr != nil) != (err != nil) {
			t.Fatalf("errors differ: encoding/json %v, appendRecord %v", jerr, err)
		}
		// Invalid UTF-8 is written as U+FFFD: by appendRecord, as go1.26's
		// encoding/json, as the escape \ufffd (ASCII, whatever Go builds
		// f2b-notify); by go1.27's as the character itself. Both decode alike.
		fffd := []byte("\uFFFD")
		if !bytes.Equal(bytes.ReplaceAll(got, fffd, []byte(`\ufffd`)), bytes.ReplaceAll(want, fffd, []byte(`\ufffd`))) {
			t.Fatalf("record %#v:\nappendRecord  %s\nencoding/json %s", r, got, want)
		}
		if jerr == nil && math.Abs(tm) < 1e300 {
			var back Record
			if err := decodeRecord(got, &back); err != nil {
				t.Fatalf("decode %s: %v", got, err)
			}
			if back.Config != r.Config && utf8.ValidString(config) {
				t.Fatalf("decode %s: config %q, want %q", got, back.Config, r.Config)
			}
		}
	})
}
