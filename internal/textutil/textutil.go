// Package textutil holds the few text predicates and clean-ups that the
// configuration, the templates, the channels and the ban path share: what a
// control character is, how an error is put on one line, and how a count
// agrees with its noun. It imports
// only the standard library's strings and unicode, so the lean ban path may
// use it.
package textutil

import (
	"strconv"
	"strings"
	"unicode"
)

// OneLine puts s on one trimmed line: every run of white space, line breaks
// included, becomes one space. fail2ban logs each line of a command's output
// on its own, and a terminal shows an error best on one line.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Plural is one when n is 1, else many: the word that agrees with a count.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Count says n things, in the singular for one: Count(1, "batch",
// "batches") is "1 batch", Count(3, ...) "3 batches".
func Count(n int, one, many string) string {
	return strconv.Itoa(n) + " " + Plural(n, one, many)
}

// IsControl reports whether r is a C0 or C1 control character or DEL.
func IsControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)
}

// IsASCIIControl reports whether r is a C0 control character or DEL: what
// breaks a header, a command line or a configuration value.
func IsASCIIControl(r rune) bool { return r < 0x20 || r == 0x7f }

// IsBlankOrControl reports whether r is white space of any kind or a
// control character: what a token or a URL never holds, and where a pasted
// one was cut or joined.
func IsBlankOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// IsBidi reports whether r changes the direction of text around it, which can
// make a console show something other than what was written.
func IsBidi(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
