package report

import (
	"strings"
	"unicode/utf8"
)

// Bounds on the text an attacker chooses. fail2ban hands over user names and
// log lines as they came, each up to the kernel's 128 KiB per argument: a
// thousand offenders with long names would make a report of hundreds of
// megabytes that no mail server takes, sent again at every flush. The digest
// cuts each such field while it is built, so memory and every report stay
// bounded whatever the input, and Notes say how much was cut.
//
// Jail names are not cut: the ban path refuses any longer than 256 bytes,
// and they come from fail2ban's configuration, not from the attacker.
const (
	MaxUserLen = 64   // characters of a user name shown; longer ones are cut
	MaxLineLen = 1000 // characters of a log line shown; longer ones are cut
	// MaxOffenderText bounds the characters of user names and log lines
	// shown for one offender, whatever report.max_users and
	// report.max_matches allow; the names and lines beyond it are counted as
	// more, like those beyond the caps.
	MaxOffenderText = 4000
)

// maxUserBytes bounds the table of distinct user names; names beyond it are
// only counted, as beyond maxUserNames.
const maxUserBytes = 16 << 20

// headLen is the length in bytes of the first n characters of s, or len(s)
// when s is shorter.
func headLen(s string, n int) int {
	if len(s) <= n {
		return len(s) // n bytes hold at most n characters
	}
	i := 0
	for k := 0; k < n && i < len(s); k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

// keep is the part of an attacker's field the builder stores: the first
// n+1 characters, a copy of them when that is not the whole of s (a
// substring would keep the whole decoded line alive). One character more
// than is shown, so that clip still sees that the field was longer.
func keep(s string, n int) string {
	if k := headLen(s, n+1); k < len(s) {
		return strings.Clone(s[:k])
	}
	return s
}

// clip cuts s to n characters, the last of them an ellipsis, and reports
// whether it did.
func clip(s string, n int) (string, bool) {
	k := headLen(s, n)
	if k == len(s) {
		return s, false
	}
	return s[:headLen(s, n-1)] + "…", true
}

// shown neutralises an attacker's field and cuts it to n characters.
func shown(s string, n int) (string, bool) {
	return clip(Neutralise(keep(s, n)), n)
}

// ShowUser is what a digest shows of a user name: neutralised and cut to
// MaxUserLen characters.
func ShowUser(s string) string { u, _ := shown(s, MaxUserLen); return u }

// ShowLine is what a digest shows of a log line: neutralised and cut to
// MaxLineLen characters.
func ShowLine(s string) string { l, _ := shown(s, MaxLineLen); return l }
