package hostile

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCorpus(t *testing.T) {
	c := Corpus()
	if len(c) < 50 {
		t.Fatalf("corpus has %d strings, want at least 50", len(c))
	}
	var invalid, nul, long bool
	for _, s := range c {
		invalid = invalid || !utf8.ValidString(s)
		nul = nul || strings.Contains(s, "\x00")
		long = long || len(s) >= 4096
	}
	if !invalid || !nul || !long {
		t.Errorf("corpus lacks invalid UTF-8 (%v), a NUL (%v) or a long line (%v)", invalid, nul, long)
	}
}
