package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Neutralise makes attacker-controlled text safe to show anywhere as plain
// text: invalid UTF-8 becomes U+FFFD; control characters (C0, C1, DEL) become
// visible escapes such as \n or \x1b; bidirectional overrides and invisible
// format characters (zero-width spaces, joiners, BOM) become <U+202E>-style
// tags. Printable text, markup characters included, is left as it is: markup
// is escaped per format by the renderer.
func Neutralise(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(unicode.ReplacementChar)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII, the common case.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}
