package buffer

import (
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeRecord decodes one line into r: fast for the lines this package
// writes, encoding/json for anything else. A fast decode must give exactly
// what encoding/json gives (FuzzDecodeRecord checks it); whenever the line
// is not plainly in the expected shape, it defers to encoding/json.
func decodeRecord(line []byte, r *Record) error {
	return decodeRecordSkip(line, r, false)
}

// decodeRecordSkip decodes like decodeRecord; with skip, log lines are
// counted in r.Lines rather than kept, which spares a reader that keeps
// them by reference the garbage of their text.
func decodeRecordSkip(line []byte, r *Record, skip bool) error {
	d := decoder{b: line, skipMatches: skip}
	if d.record(r) {
		return nil
	}
	*r = Record{}
	if err := json.Unmarshal(line, r); err != nil {
		return err
	}
	if skip {
		r.Lines, r.Matches = len(r.Matches), nil
	}
	return nil
}

// decoder is a cursor over one JSON line.
type decoder struct {
	b           []byte
	i           int
	skipMatches bool
}

func (d *decoder) skipSpace() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) consume(c byte) bool {
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// decodeFast handles an object of the known keys, each at most once, with
// values of the right JSON type. It returns false, leaving r in any state,
// when encoding/json must decide.
func decodeFast(line []byte, r *Record) bool {
	d := decoder{b: line}
	return d.record(r)
}

func (d *decoder) record(r *Record) bool {
	*r = Record{}
	if !d.consume('{') {
		return false
	}
	if d.consume('}') {
		return d.end()
	}
	var seen uint16
	for {
		key, ok := d.rawString()
		if !ok || !d.consume(':') {
			return false
		}
		var bit uint16
		switch string(key) {
		case "v":
			bit, ok = 1<<0, d.int(&r.V)
		case "action":
			bit, ok = 1<<1, d.str(&r.Action)
		case "jail":
			bit, ok = 1<<2, d.str(&r.Jail)
		case "ip":
			bit, ok = 1<<3, d.str(&r.IP)
		case "time":
			bit, ok = 1<<4, d.float(&r.Time)
		case "at":
			bit, ok = 1<<5, d.int64(&r.At)
		case "failures":
			bit, ok = 1<<6, d.int(&r.Failures)
		case "bantime":
			bit, ok = 1<<7, d.int64(&r.Bantime)
		case "restored":
			bit, ok = 1<<8, d.bool(&r.Restored)
		case "user":
			bit, ok = 1<<9, d.str(&r.User)
		case "matches":
			if d.skipMatches {
				bit, ok = 1<<10, d.countStrings(&r.Lines)
			} else {
				bit, ok = 1<<10, d.strings(&r.Matches)
			}
		case "config":
			bit, ok = 1<<11, d.str(&r.Config)
		default:
			return false // unknown or differently cased key: encoding/json's rules
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return d.end()
		}
		return false
	}
}

func (d *decoder) end() bool {
	d.skipSpace()
	return d.i == len(d.b)
}

// rawString returns the bytes of a string without escapes or control
// characters, for keys.
func (d *decoder) rawString() ([]byte, bool) {
	d.skipSpace()
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, false
	}
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			return d.b[start:j], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// str decodes a JSON string, escapes included. Invalid UTF-8 is left to
// encoding/json, which replaces it.
func (d *decoder) str(out *string) bool {
	d.skipSpace()
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return false
	}
	j := d.i + 1
	ascii := true
	for ; j < len(d.b); j++ {
		c := d.b[j]
		if c == '"' {
			s := d.b[d.i+1 : j]
			if !ascii && !utf8.Valid(s) {
				return false
			}
			*out = string(s)
			d.i = j + 1
			return true
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	// Slow path: unescape.
	buf := append([]byte(nil), d.b[d.i+1:j]...)
	for j < len(d.b) {
		c := d.b[j]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return false
			}
			*out = string(buf)
			d.i = j + 1
			return true
		case c < 0x20:
			return false
		case c != '\\':
			buf = append(buf, c)
			j++
			continue
		}
		if j+1 >= len(d.b) {
			return false
		}
		e := d.b[j+1]
		j += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(d.b, j)
			if !ok {
				return false
			}
			j += 4
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(-1), false
				if j+6 <= len(d.b) && d.b[j] == '\\' && d.b[j+1] == 'u' {
					r2, ok2 = hex4(d.b, j+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
					r = dec
					j += 6
				} else {
					return false // lone surrogate: encoding/json's replacement rules
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return false
		}
	}
	return false
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// number returns the bytes of a JSON number.
func (d *decoder) number() ([]byte, bool) {
	d.skipSpace()
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			d.i++
			continue
		}
		break
	}
	n := d.b[start:d.i]
	return n, len(n) > 0 && validNumber(n)
}

// validNumber checks JSON's number grammar, stricter than strconv's.
func validNumber(n []byte) bool {
	i := 0
	if n[i] == '-' {
		i++
	}
	if i >= len(n) {
		return false
	}
	if n[i] == '0' {
		i++
	} else if n[i] >= '1' && n[i] <= '9' {
		for i < len(n) && n[i] >= '0' && n[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(n) && n[i] == '.' {
		i++
		if i >= len(n) || n[i] < '0' || n[i] > '9' {
			return false
		}
		for i < len(n) && n[i] >= '0' && n[i] <= '9' {
			i++
		}
	}
	if i < len(n) && (n[i] == 'e' || n[i] == 'E') {
		i++
		if i < len(n) && (n[i] == '+' || n[i] == '-') {
			i++
		}
		if i >= len(n) || n[i] < '0' || n[i] > '9' {
			return false
		}
		for i < len(n) && n[i] >= '0' && n[i] <= '9' {
			i++
		}
	}
	return i == len(n)
}

func (d *decoder) int(out *int) bool {
	n, ok := d.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseInt(string(n), 10, strconv.IntSize)
	*out = int(v)
	return err == nil
}

func (d *decoder) int64(out *int64) bool {
	n, ok := d.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	*out = v
	return err == nil
}

func (d *decoder) float(out *float64) bool {
	n, ok := d.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(string(n), 64)
	*out = v
	return err == nil
}

func (d *decoder) bool(out *bool) bool {
	d.skipSpace()
	switch {
	case len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "true":
		*out, d.i = true, d.i+4
		return true
	case len(d.b)-d.i >= 5 && string(d.b[d.i:d.i+5]) == "false":
		*out, d.i = false, d.i+5
		return true
	}
	return false
}

// countStrings checks an array of strings as strings does, and counts it.
func (d *decoder) countStrings(n *int) bool {
	if !d.consume('[') {
		return false
	}
	if d.consume(']') {
		return true
	}
	for {
		if !d.skipString() {
			return false
		}
		*n++
		if d.consume(',') {
			continue
		}
		return d.consume(']')
	}
}

// skipString passes over a string, checking what str would, without
// building it: plain strings cost no allocation.
func (d *decoder) skipString() bool {
	d.skipSpace()
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return false
	}
	ascii := true
	for j := d.i + 1; j < len(d.b); j++ {
		c := d.b[j]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(d.b[d.i+1:j]) {
				return false
			}
			d.i = j + 1
			return true
		case c == '\\':
			var s string
			return d.str(&s) // escapes: the full check
		case c < 0x20:
			return false
		case c >= 0x80:
			ascii = false
		}
	}
	return false
}

func (d *decoder) strings(out *[]string) bool {
	if !d.consume('[') {
		return false
	}
	*out = []string{}
	if d.consume(']') {
		return true
	}
	for {
		var s string
		if !d.str(&s) {
			return false
		}
		*out = append(*out, s)
		if d.consume(',') {
			continue
		}
		return d.consume(']')
	}
}
