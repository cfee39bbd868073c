package textutil

import "testing"

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "",
		"  key x:\n\tbad value \r\n ": "key x: bad value",
		"a\u00a0\u2028b":              "a b",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPredicates(t *testing.T) {
	for _, c := range []struct {
		r                           rune
		control, ascii, blank, bidi bool
	}{
		{'a', false, false, false, false},
		{' ', false, false, true, false},
		{'\t', true, true, true, false},
		{'\x1b', true, true, true, false},
		{0x7f, true, true, true, false},
		{0x85, true, false, true, false},
		{0x9b, true, false, true, false},
		{0xa0, false, false, true, false},
		{0x202e, false, false, false, true},
		{0x2067, false, false, false, true},
		{0x200f, false, false, false, true},
	} {
		if IsControl(c.r) != c.control || IsASCIIControl(c.r) != c.ascii || IsBlankOrControl(c.r) != c.blank || IsBidi(c.r) != c.bidi {
			t.Errorf("%U: IsControl %v, IsASCIIControl %v, IsBlankOrControl %v, IsBidi %v; want %v %v %v %v", c.r,
				IsControl(c.r), IsASCIIControl(c.r), IsBlankOrControl(c.r), IsBidi(c.r), c.control, c.ascii, c.blank, c.bidi)
		}
	}
}
