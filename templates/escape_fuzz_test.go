package templates_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/report"
	"github.com/f2b-notify/f2b-notify/templates"
)

// dialects lists every format.
func dialects(tb testing.TB) []*templates.Dialect {
	tb.Helper()
	var out []*templates.Dialect
	for _, f := range templates.Formats() {
		d, err := templates.Lookup(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, d)
	}
	for _, want := range []templates.Format{templates.Text, templates.HTML, templates.Markdown} {
		found := false
		for _, d := range out {
			found = found || d.Format == want
		}
		if !found {
			tb.Fatalf("format %s missing from %v", want, templates.Formats())
		}
	}
	return out
}

// controls lists the characters no output may hold: C0 and C1 controls but
// newline and tab, DEL, and bidirectional controls.
func controls(s string) []rune {
	var out []rune
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0),
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			out = append(out, r)
		}
	}
	return out
}

// backslashUnescape undoes backslash escapes of ASCII punctuation, as
// CommonMark and Discord read them.
func backslashUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] < utf8.RuneSelf && unicode.IsPunct(rune(s[i+1])) || s[i] == '\\' && i+1 < len(s) && strings.IndexByte("`^|~<>+=$", s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isPlain(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// FuzzDialectEscape runs every dialect's escaper, and a template
// of every dialect printing the value, on arbitrary text. Nothing may panic;
// no control or bidi character may reach the output; an HTML dialect's
// output holds no tag but the template's; and each escaper keeps its own
// promise: markdown and discord escape with backslashes that undo to the
// input, slack leaves no < or >, json stays a valid JSON string, teams
// leaves no * and no {{.
func FuzzDialectEscape(f *testing.F) {
	for _, s := range []string{"plain", "*bold* _it_ `c` ~s~ [l](https://evil.example/)", "<!channel> <@U1> &amp;", "\x1b[31m\u202e\xff", "{{.Host}}", "\"quote\\\n", "1. list", "> quote", "@everyone", "||sp||"} {
		f.Add(s)
	}
	ds := dialects(f)
	type rendered struct {
		d    *templates.Dialect
		tmpl *templates.Template
	}
	var tmpls []rendered
	for _, d := range ds {
		src := "A{{.Host}}B"
		if d.HTML {
			src = "<i>{{.Host}}</i>"
		}
		if d.Format == "json" {
			src = `{"h":"{{.Host}}"}`
		}
		tmpl, err := templates.New("fuzz "+string(d.Format), d.Format, src, templates.Options{})
		if err != nil {
			f.Fatal(err)
		}
		tmpls = append(tmpls, rendered{d, tmpl})
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range tmpls {
			name := string(r.d.Format)
			out, err := r.tmpl.Render(&report.Digest{Host: s})
			if err != nil {
				t.Fatalf("%s: render: %v", name, err)
			}
			if c := controls(out); len(c) > 0 {
				t.Fatalf("%s: output %q holds %U", name, out, c)
			}
			if r.d.HTML && strings.Count(out, "<") != 2 {
				t.Fatalf("%s: %q became markup: %q", name, s, out)
			}
			if name == "json" && !json.Valid([]byte(out)) {
				t.Fatalf("json: %q gave invalid JSON %q", s, out)
			}
			esc := r.d.Escape
			if esc == nil {
				continue
			}
			e := esc(s)
			if utf8.ValidString(s) && !utf8.ValidString(e) {
				t.Fatalf("%s: escaping made invalid UTF-8 of %q: %q", name, s, e)
			}
			if isPlain(s) && len(controls(e)) > 0 {
				t.Fatalf("%s: escaping added control characters to %q: %q", name, s, e)
			}
			switch name {
			case "markdown", "discord":
				if got := backslashUnescape(e); utf8.ValidString(s) && got != s {
					t.Fatalf("%s: escaped %q as %q, which reads back as %q", name, s, e, got)
				}
			case "slack":
				if strings.ContainsAny(e, "<>") {
					t.Fatalf("slack: %q escaped as %q still holds < or >", s, e)
				}
				for i := strings.IndexByte(e, '&'); i >= 0; i = strings.IndexByte(e[i+1:], '&') + i + 1 {
					if !strings.HasPrefix(e[i:], "&amp;") && !strings.HasPrefix(e[i:], "&lt;") && !strings.HasPrefix(e[i:], "&gt;") {
						t.Fatalf("slack: %q escaped as %q has a bare &", s, e)
					}
					if strings.IndexByte(e[i+1:], '&') < 0 {
						break
					}
				}
			case "json":
				var back string
				if err := json.Unmarshal([]byte(`"`+e+`"`), &back); err != nil {
					t.Fatalf("json: %q escaped as %q is not a JSON string body: %v", s, e, err)
				}
				if isPlain(s) && back != s {
					t.Fatalf("json: %q escaped as %q reads back as %q", s, e, back)
				}
			case "teams":
				if strings.Contains(e, "*") || strings.Contains(e, "{{") || strings.Contains(e, "://") {
					t.Fatalf("teams: %q escaped as %q", s, e)
				}
			}
		}
	})
}

// FuzzDefaultTemplatesOutputFilter renders the default report template of
// every dialect with arbitrary, un-neutralised strings where a digest holds
// attacker text (the digest neutralises them, but the output filter must
// hold on its own): no control or bidi character reaches the output.
func FuzzDefaultTemplatesOutputFilter(f *testing.F) {
	f.Add("web1", "sshd", "root", "Failed password for root")
	f.Add("\x1b[31mred", "jail\x07", "us\x00er", "line\r\n\x9b2J\u202e")
	f.Add("<script>", "{{.Host}}", "`*x*`", "\xff\xfe")
	ds := dialects(f)
	var tmpls []*templates.Template
	for _, d := range ds {
		tmpl, err := templates.New("default "+string(d.Format), d.Format, d.Default, templates.Options{})
		if err != nil {
			f.Fatal(err)
		}
		tmpls = append(tmpls, tmpl)
	}
	f.Fuzz(func(t *testing.T, host, jail, user, match string) {
		d := &report.Digest{Host: host, Totals: report.Totals{Bans: 1, IPs: 1, Jails: 1, Failures: 3}}
		d.Jails = []report.JailStat{{Name: jail, Bans: 1, IPs: 1, Failures: 3}}
		d.Offenders = []report.Offender{{IP: "192.0.2.1", Jails: []string{jail}, Bans: 1, Failures: 3, Users: []string{user}, Matches: []string{match}}}
		d.Unbans = []report.Unban{{IP: "192.0.2.2", Jails: []string{jail}, Count: 1}}
		d.Notes.Records = 2
		for _, tmpl := range tmpls {
			out, err := tmpl.Render(d)
			if err != nil {
				t.Fatalf("%s: %v", tmpl.Name(), err)
			}
			if c := controls(out); len(c) > 0 {
				t.Fatalf("%s: output holds %U", tmpl.Name(), c)
			}
			if !utf8.ValidString(out) {
				t.Fatalf("%s: output is not valid UTF-8", tmpl.Name())
			}
		}
	})
}
