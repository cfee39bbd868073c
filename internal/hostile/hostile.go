// Package hostile holds the corpus of attacker-controlled strings that every
// channel's tests run through: markup of every format, mentions, links,
// header injection, terminal escapes, template syntax, bidirectional and
// zero-width characters, invalid UTF-8, NUL bytes and very long lines. A new
// channel gets the same test by ranging over Corpus.
package hostile

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed testdata/corpus.jsonl
var corpus []byte

// Corpus returns the hostile strings. Entries written as \u00XX escapes in
// the 0x80-0xff range stand for those raw bytes, so the corpus can hold
// invalid UTF-8.
func Corpus() []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(corpus))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var s string
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			panic(fmt.Sprintf("hostile: bad corpus line %q: %v", line, err))
		}
		out = append(out, latin1Bytes(s))
	}
	return out
}

// latin1Bytes turns runes U+0080..U+00FF that stand alone in a string of the
// corpus marked with the "bad" prefix into raw bytes: JSON cannot hold
// invalid UTF-8, the corpus must.
func latin1Bytes(s string) string {
	if !strings.HasPrefix(s, "bad") {
		return s
	}
	var b []byte
	for _, r := range s {
		if r >= 0x80 && r <= 0xff {
			b = append(b, byte(r))
			continue
		}
		b = append(b, string(r)...)
	}
	return string(b)
}

// User returns a hostile user name built from the corpus entry i, and
// Match a hostile log line: the shapes a filter would capture.
func User(i int) string { c := Corpus(); return c[i%len(c)] }

// Match is a log line holding the corpus entry i, as sshd would write it.
func Match(i int) string {
	return "Nov 25 17:36:52 vm sshd[1001]: Invalid user " + User(i) + " from 203.0.113.9 port 22"
}
