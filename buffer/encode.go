package buffer

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
)

// appendRecord appends r as encoding/json's Marshal writes it (same key
// order, omitempty, number forms and string escapes, HTML characters
// included), so that the ban path need not run reflection-driven encoding
// once per ban; FuzzEncodeRecord holds the two byte for byte equal. The one
// difference: invalid UTF-8 is written as the escape \ufffd, as go1.26's
// encoding/json did, where go1.27's writes the character U+FFFD.
func appendRecord(b []byte, r *Record) ([]byte, error) {
	if math.IsNaN(r.Time) || math.IsInf(r.Time, 0) {
		return nil, errors.New("time is not a finite number")
	}
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(r.V), 10)
	b = append(b, `,"action":`...)
	b = appendString(b, r.Action)
	b = append(b, `,"jail":`...)
	b = appendString(b, r.Jail)
	b = append(b, `,"ip":`...)
	b = appendString(b, r.IP)
	b = append(b, `,"time":`...)
	b = appendFloat(b, r.Time)
	b = append(b, `,"at":`...)
	b = strconv.AppendInt(b, r.At, 10)
	if r.Failures != 0 {
		b = append(b, `,"failures":`...)
		b = strconv.AppendInt(b, int64(r.Failures), 10)
	}
	if r.Bantime != 0 {
		b = append(b, `,"bantime":`...)
		b = strconv.AppendInt(b, r.Bantime, 10)
	}
	if r.Restored {
		b = append(b, `,"restored":true`...)
	}
	if r.User != "" {
		b = append(b, `,"user":`...)
		b = appendString(b, r.User)
	}
	if len(r.Matches) > 0 {
		b = append(b, `,"matches":[`...)
		for i, m := range r.Matches {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m)
		}
		b = append(b, ']')
	}
	if r.Config != "" {
		b = append(b, `,"config":`...)
		b = appendString(b, r.Config)
	}
	return append(b, '}'), nil
}

// appendFloat writes a float64 as encoding/json does: the shortest form
// that reads back the same, in exponent form only below 1e-6 or from 1e21.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 is written 1e-7.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string the way encoding/json does with
// its default HTML escaping: <, > and & as \u003c, \u003e, \u0026, U+2028
// and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
