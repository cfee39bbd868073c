package channels

import (
	"unicode/utf16"
	"unicode/utf8"
)

// cutBytes cuts s to at most n bytes, at a character boundary, marking the cut.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// cutRunes cuts s to at most n characters, "…" being the last one when cut.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// cutUTF16 cuts s to at most n UTF-16 code units (as Telegram and Discord
// count), "…" being the last one when cut.
func cutUTF16(s string, n int) string {
	if utf16Len(s) <= n {
		return s
	}
	return s[:utf16Prefix(s, n-1)] + "…"
}

// utf16Prefix is the length in bytes of the longest prefix of s that holds
// at most n UTF-16 code units, whole characters only.
func utf16Prefix(s string, n int) int {
	used := 0
	for i, r := range s {
		if used+max(utf16.RuneLen(r), 1) > n {
			return i
		}
		used += max(utf16.RuneLen(r), 1)
	}
	return len(s)
}

// utf16Len is the length of s in UTF-16 code units, as Slack, Discord,
// Telegram and SMS count it (an invalid byte counts one).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}
