package templates

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // stable zone data for the Europe/Paris cases
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var utc = Options{Location: time.UTC}

var formats = []Format{Text, HTML, Markdown}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func mustDefault(t *testing.T, f Format, opt Options) *Template {
	t.Helper()
	src, err := Default(f)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := New("default/report."+string(f)+".tmpl", f, src, opt)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestDefaultTemplatesGolden(t *testing.T) {
	digests := []struct {
		name string
		d    *report.Digest
	}{
		{"sample", sampleDigest()},
		{"empty", emptyDigest()},
		{"hostile", hostileDigest()},
	}
	for _, f := range formats {
		tmpl := mustDefault(t, f, utc)
		if tmpl.Format() != f {
			t.Errorf("Format() = %q, want %q", tmpl.Format(), f)
		}
		for _, d := range digests {
			t.Run(string(f)+"/"+d.name, func(t *testing.T) {
				got, err := tmpl.Render(d.d)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, d.name+"."+string(f)+".golden", got)
			})
		}
	}
}

// TestQuietReportGolden: the report that report.send_empty sends when there
// is no ban, in every format, says since when and the last bans known, and
// stays short.
func TestQuietReportGolden(t *testing.T) {
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			got, err := mustDefault(t, f, utc).Render(quietDigest())
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "quiet."+string(f)+".golden", got)
			flat := strings.ReplaceAll(got, "\n  ", " ") // the text report wraps its first lines at 80 columns
			for _, want := range []string{"No bans since 2024-05-02 06:00 UTC", "4 jails running: nginx-http-auth, postfix-sasl, recidive and 1 more jail", "Last bans reported 2024-04-30 06:00 UTC: 14 in sshd, postfix-sasl, nginx-http-auth and 1 more jail"} {
				if f == SMS {
					want = "no bans since May 02 06:00, 4 jails running" // the summary: no room for the last bans
				}
				if f != JSON && !strings.Contains(flat, want) {
					t.Errorf("the report does not say %q:\n%s", want, got)
				}
			}
			if f == JSON && !strings.Contains(got, `"empty": true`) {
				t.Errorf("the JSON report is not marked empty:\n%s", got)
			}
			if f == JSON {
				var v struct {
					Running *bool    `json:"fail2ban_running"`
					Jails   *int     `json:"jails_running"`
					Names   []string `json:"running_jails"`
				}
				if err := json.Unmarshal([]byte(got), &v); err != nil || v.Running == nil || !*v.Running || v.Jails == nil || *v.Jails != 4 || len(v.Names) != 4 {
					t.Errorf("JSON fail2ban_running %v, jails_running %v, running_jails %v (%v), want true, 4 and 4 names:\n%s", v.Running, v.Jails, v.Names, err, got)
				}
			}
		})
	}
	// Without a previous report or a history: no time is made up.
	d := emptyDigest()
	d.Empty = true
	got, err := mustDefault(t, Text, utc).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(got, "\n"); first != "No bans to report" {
		t.Errorf("first line %q, want %q", first, "No bans to report")
	}
	subject, err := Subject(DefaultSubject(), quietDigest(), utc)
	if want := "[Fail2Ban] web1.example.org: no bans since 2024-05-02 06:00 UTC"; err != nil || subject != want {
		t.Errorf("subject %q (%v), want %q", subject, err, want)
	}
}

// TestStoppedReportGolden: the report of no bans when fail2ban is not
// running says so first, in every format and in the subject, and counts
// no jail as running.
func TestStoppedReportGolden(t *testing.T) {
	const want = "fail2ban is not running (no process 4242 for pid file /var/run/fail2ban/fail2ban.pid)"
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			got, err := mustDefault(t, f, utc).Render(stoppedDigest())
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "stopped."+string(f)+".golden", got)
			switch f {
			case JSON:
				var v struct {
					Running *bool  `json:"fail2ban_running"`
					Why     string `json:"fail2ban_why"`
					Jails   *int   `json:"jails_running"`
				}
				if err := json.Unmarshal([]byte(got), &v); err != nil || v.Running == nil || *v.Running || v.Jails == nil || *v.Jails != 0 || !strings.Contains(want, v.Why) || v.Why == "" {
					t.Errorf("JSON fail2ban_running %v, fail2ban_why %q, jails_running %v (%v), want false, why, 0:\n%s", v.Running, v.Why, v.Jails, err, got)
				}
			case SMS:
				if !strings.HasPrefix(got, "f2b web1.example.org: fail2ban NOT RUNNING, no bans since May 02 06:00") {
					t.Errorf("SMS %q does not begin with fail2ban NOT RUNNING", got)
				}
			default:
				// The first words a reader sees, whatever markup wraps them.
				flat := strings.ReplaceAll(got, "\n  ", " ")
				i, j := strings.Index(flat, "fail2ban is not running"), strings.Index(flat, "No bans since")
				if i < 0 || j < i {
					t.Errorf("the report does not say %q before the rest:\n%s", want, got)
				}
				if strings.Contains(got, "jails running") {
					t.Errorf("the report counts jails running:\n%s", got)
				}
			}
		})
	}
	subject, err := Subject(DefaultSubject(), stoppedDigest(), utc)
	if want := "[Fail2Ban] web1.example.org: fail2ban is not running, no bans since 2024-05-02 06:00 UTC"; err != nil || subject != want {
		t.Errorf("subject %q (%v), want %q", subject, err, want)
	}
}

// TestOriginLine: an offender's row says its provider, country and earlier
// reports in one line, in every format, when the digest knows them; a row
// whose offender nothing is known of has no such line.
func TestOriginLine(t *testing.T) {
	known := sampleDigest()
	known.Offenders = known.Offenders[:1]
	unknown := sampleDigest()
	unknown.Offenders = unknown.Offenders[2:3]
	for _, f := range Formats() {
		if f == JSON || f == SMS {
			continue // the fields themselves; a summary of one message
		}
		tmpl := mustDefault(t, f, utc)
		got, err := tmpl.Render(known)
		if err != nil {
			t.Fatal(err)
		}
		flat := strings.ReplaceAll(got, "\n              ", " ") // the text report wraps the line at 80 columns
		if want := "AS64496 Example Hosting · NL Netherlands · returning, 4 reports since Apr 02"; !strings.Contains(flat, want) {
			t.Errorf("%s: the row does not say %q:\n%s", f, want, got)
		}
		if got, err = tmpl.Render(unknown); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(got, "rom: ") || strings.Contains(got, " · returning") {
			t.Errorf("%s: a line of origin for an offender nothing is known of:\n%s", f, got)
		}
	}
}

// TestTextFitsIn80Columns: every line of the default text report holds in
// 80 columns, but for the attacker's words, shown whole as they are: user
// names and log lines.
func TestTextFitsIn80Columns(t *testing.T) {
	d := sampleDigest()
	d.Notes.Warnings = append(d.Notes.Warnings, "The ASN database /var/lib/GeoIP/GeoLite2-ASN.mmdb could not be read (open /var/lib/GeoIP/GeoLite2-ASN.mmdb: permission denied); the report has no providers.")
	d.Notes.MoreUnbans, d.Notes.MoreJails, d.Notes.CutUsers, d.Notes.CutMatches, d.Notes.CappedOffenders = 2, 1, 3, 4, 1
	d.Offenders[0].Jails = []string{"nginx-http-auth", "nginx-botsearch", "postfix-sasl", "recidive", "sshd", "dovecot"}
	d.Unbans[0].Jails = d.Offenders[0].Jails
	got, err := mustDefault(t, Text, utc).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	inLog := false
	for _, line := range strings.Split(got, "\n") {
		switch {
		case strings.HasPrefix(line, "      log:    "), strings.HasPrefix(line, "      users:  "):
			inLog = strings.HasPrefix(line, "      log:")
			continue
		case inLog && strings.HasPrefix(line, "              ") && !strings.HasPrefix(line, "              … and"):
			continue
		}
		inLog = false
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("line of %d columns: %q", n, line)
		}
	}
	if t.Failed() {
		t.Logf("the report:\n%s", got)
	}
}

func TestEmptyDigest(t *testing.T) {
	for _, f := range formats {
		got, err := mustDefault(t, f, utc).Render(emptyDigest())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, "No bans in this period.") {
			t.Errorf("%s: empty digest does not say so:\n%s", f, got)
		}
		for _, section := range []string{"Offenders", "OFFENDERS", "Jails", "JAILS", "Notes", "NOTES"} {
			if strings.Contains(got, section) {
				t.Errorf("%s: empty digest shows section %q:\n%s", f, section, got)
			}
		}
	}
	// A nil digest renders as an empty one.
	if _, err := mustDefault(t, Text, utc).Render(nil); err != nil {
		t.Errorf("Render(nil): %v", err)
	}
}

func TestHostileDigest(t *testing.T) {
	d := hostileDigest()

	html, err := mustDefault(t, HTML, utc).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(html, "<script") != 0 || strings.Contains(html, "<img") || strings.Contains(html, "<b>") {
		t.Errorf("HTML output carries raw markup from the digest:\n%s", html)
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		"&amp;amp;&#34;&#39;",
		"{{.Host}}",
		`\x1b[31m`, // neutralised by the report, shown as text
		"&lt;img src=x onerror=alert(1)&gt;",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML output lacks %q", want)
		}
	}
	if i := strings.IndexFunc(html, func(r rune) bool { return textutil.IsControl(r) && r != '\n' && r != '\t' }); i >= 0 {
		t.Errorf("HTML output has control character %q at %d", html[i], i)
	}

	for _, f := range []Format{Text, Markdown} {
		out, err := mustDefault(t, f, utc).Render(d)
		if err != nil {
			t.Fatal(err)
		}
		assertNoControls(t, out)
		if !strings.Contains(out, "<script>alert(1)</script>") && f == Text {
			t.Errorf("text output should show markup as typed:\n%s", out)
		}
		want := `raw\x1b[31mred\r\x9b1m<U+202E>` + "\uFFFD"
		if f == Markdown {
			want = `raw\x1b\[31mred\r\x9b1m<U+202E>` + "\uFFFD"
		}
		if !strings.Contains(out, want) {
			t.Errorf("%s output does not show the raw escape sequence as visible text:\n%s", f, out)
		}
	}

	md, err := mustDefault(t, Markdown, utc).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md, `\<script\>alert(1)\</script\>`) || !strings.Contains(md, "\\`\\*bold\\*\\`") {
		t.Errorf("Markdown output does not escape markup from the digest:\n%s", md)
	}
}

// assertNoControls fails unless s is valid UTF-8 free of control characters
// other than newline and tab, and of bidirectional controls.
func assertNoControls(t testing.TB, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("output is not valid UTF-8: %q", s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			t.Fatalf("output has control byte %#x at %d: %q", c, i, s)
		}
	}
	for i, r := range s {
		if (r >= 0x80 && r < 0xa0) || textutil.IsBidi(r) {
			t.Fatalf("output has control %U at %d: %q", r, i, s)
		}
	}
}

func TestTextFilterOnUserTemplate(t *testing.T) {
	// A user's template that prints controls itself, through printf.
	src := `{{printf "%c[31m%s%c" 27 .Host 7}}` + "\r\n" + `{{printf "%c%c" 0x9b 0x202e}}` + "\n\tok"
	// Markdown escapes the printed value too: "[" becomes "\[".
	for f, want := range map[Format]string{
		Text:     `\x1b[31mh\x07` + "\n" + `\x9b<U+202E>` + "\n\tok",
		Markdown: `\x1b\[31mh\x07` + "\n" + `\x9b<U+202E>` + "\n\tok",
	} {
		tmpl, err := New("user.tmpl", f, src, utc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tmpl.Render(&report.Digest{Host: "h"})
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", f, got, want)
		}
	}
	tmpl, err := New("user.html.tmpl", HTML, src, utc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Render(&report.Digest{Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "\uFFFD[31mh\uFFFD\n\uFFFD\uFFFD\n\tok"; got != want {
		t.Errorf("html: got %q, want %q", got, want)
	}
}

func TestParseErrorNamesTemplate(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		src  string
		want []string
	}{
		{"/etc/f2b-notify/report.html.tmpl", HTML, "line 1\nline 2\n{{foo .Host}}", []string{
			"parse template /etc/f2b-notify/report.html.tmpl: ",
			"/etc/f2b-notify/report.html.tmpl:3:",
			`function "foo" not defined`,
		}},
		{"/etc/f2b-notify/report.text.tmpl", Text, "a\r\nb\r\n{{if .Host}}", []string{
			"parse template /etc/f2b-notify/report.text.tmpl: ",
			"/etc/f2b-notify/report.text.tmpl:3:",
			"unexpected EOF",
		}},
		{"x.md.tmpl", Markdown, "{{.Host", []string{"parse template x.md.tmpl: ", "x.md.tmpl:1:"}},
		// html/template escaping errors are found at parse time too.
		{"ambiguous.html.tmpl", HTML, "\n<a href=\"{{if .Host}}x{{else}}{{.Host}}\">", []string{
			"parse template ambiguous.html.tmpl: ", "ambiguous.html.tmpl:",
		}},
		{"bad-format.tmpl", Format("pdf"), "x", []string{"parse template bad-format.tmpl: ", `unknown format "pdf"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.name, tt.f, tt.src, utc)
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestExecuteErrorNamesTemplate(t *testing.T) {
	for _, f := range formats {
		src := "ok\n{{.Host}}\n{{inZone \"Mars/Olympus_Mons\" .From}}"
		tmpl, err := New("/etc/f2b-notify/custom.tmpl", f, src, utc)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		err = tmpl.Execute(&buf, sampleDigest())
		if err == nil {
			t.Fatalf("%s: Execute succeeded, want an error", f)
		}
		for _, w := range []string{"execute template /etc/f2b-notify/custom.tmpl: ", "/etc/f2b-notify/custom.tmpl:3:", "Mars/Olympus_Mons"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", f, err, w)
			}
		}
		if buf.Len() != 0 {
			t.Errorf("%s: a failed Execute wrote %q", f, buf.String())
		}
	}
}

func TestExecuteWrites(t *testing.T) {
	tmpl := mustDefault(t, Text, utc)
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, sampleDigest()); err != nil {
		t.Fatal(err)
	}
	want, err := tmpl.Render(sampleDigest())
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != want {
		t.Error("Execute and Render disagree")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "report.text.tmpl")
	if err := os.WriteFile(good, []byte("Host {{.Host}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(good, Text, utc)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Name() != good || tmpl.Format() != Text {
		t.Errorf("Load gave name %q, format %q", tmpl.Name(), tmpl.Format())
	}
	if got, _ := tmpl.Render(&report.Digest{Host: "h"}); got != "Host h\n" {
		t.Errorf("got %q", got)
	}

	bad := filepath.Join(dir, "bad.tmpl")
	if err := os.WriteFile(bad, []byte("\n{{nope}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.tmpl")
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), MaxTemplateSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.tmpl"), "load template: open " + filepath.Join(dir, "missing.tmpl")},
		{bad, "parse template " + bad + ": template: " + bad + ":2:"},
		{big, "load template: read " + big + ": larger than"},
	} {
		_, err := Load(tt.path, Text, utc)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%s) = %v, want an error containing %q", tt.path, err, tt.want)
		}
	}
}

func TestDefault(t *testing.T) {
	for _, f := range formats {
		src, err := Default(f)
		if err != nil || src == "" {
			t.Errorf("Default(%q) = %d bytes, %v", f, len(src), err)
		}
	}
	if _, err := Default("pdf"); err == nil {
		t.Error(`Default("pdf") succeeded`)
	}
}

func TestSubject(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		name string
		src  string
		d    *report.Digest
		want string
	}{
		{"default", DefaultSubject(), sampleDigest(),
			"[Fail2Ban] web1.example.org: 9 bans, 5 addresses, 3 jails (2024-05-01 08:12 – 2024-05-02 21:40 UTC) [2 missed reports]"},
		{"default empty", DefaultSubject(), emptyDigest(), "[Fail2Ban] web1.example.org: no bans"},
		{"default singular", DefaultSubject(), &report.Digest{Host: "h", Totals: report.Totals{Bans: 1, IPs: 1, Jails: 1}},
			"[Fail2Ban] h: 1 ban, 1 address, 1 jail"},
		{"lines and controls", "  a\r\nb\t\tc\x1b[31m\n{{.Host}}  \n", &report.Digest{Host: "x\u202ey\u0085z"}, "a b c [31m x y z"},
		{"header injection", "{{.Host}}", &report.Digest{Host: "h\r\nBcc: victim@example.org"}, "h Bcc: victim@example.org"},
		{"capped", "{{.Host}}", &report.Digest{Host: long}, strings.Repeat("é", MaxSubjectRunes-1) + "…"},
		{"nil digest", "x{{.Host}}y", nil, "xy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Subject(tt.src, tt.d, utc)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	if _, err := Subject("{{.Nope}}", emptyDigest(), utc); err == nil || !strings.Contains(err.Error(), "execute template subject: ") {
		t.Errorf("bad field: err = %v", err)
	}
	if _, err := Subject("{{", emptyDigest(), utc); err == nil || !strings.Contains(err.Error(), "parse template subject: ") {
		t.Errorf("bad syntax: err = %v", err)
	}
}

func TestConcurrentRender(t *testing.T) {
	for _, f := range formats {
		tmpl := mustDefault(t, f, utc)
		want, err := tmpl.Render(sampleDigest())
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				got, err := tmpl.Render(sampleDigest())
				if err != nil || got != want {
					t.Errorf("%s: concurrent render differs (err %v)", f, err)
				}
			})
		}
		wg.Wait()
	}
}

func FuzzTextOutputHasNoControls(f *testing.F) {
	f.Add("web1", "sshd", "root", "Failed password for root", "203.0.113.7")
	f.Add("\x1b[31mred", "jail\x07", "us\x00er", "line\r\n\x9b2J", "::1\u202e")
	f.Add("<script>", "{{.Host}}", "`*x*`", "&amp;", "\xff\xfe")
	var tmpls []*Template
	for _, format := range []Format{Text, Markdown} {
		tmpl, err := New("default", format, mustSource(f, format), utc)
		if err != nil {
			f.Fatal(err)
		}
		tmpls = append(tmpls, tmpl)
	}
	f.Fuzz(func(t *testing.T, host, jail, user, match, ip string) {
		d := sampleDigest()
		d.Host = host
		d.Jails[0].Name = jail
		d.Offenders[0].IP = ip
		d.Offenders[0].Jails = []string{jail, report.Neutralise(jail)}
		d.Offenders[0].Users = []string{user, report.Neutralise(user)}
		d.Offenders[0].Matches = []string{match, report.Neutralise(match)}
		d.Unbans[0].IP = ip
		for _, tmpl := range tmpls {
			out, err := tmpl.Render(d)
			if err != nil {
				t.Fatal(err)
			}
			assertNoControls(t, out)
		}
		subject, err := Subject(DefaultSubject(), d, utc)
		if err != nil {
			t.Fatal(err)
		}
		assertNoControls(t, subject)
		if strings.ContainsAny(subject, "\n\t") {
			t.Fatalf("subject is not one line: %q", subject)
		}
	})
}

func mustSource(tb testing.TB, f Format) string {
	tb.Helper()
	src, err := Default(f)
	if err != nil {
		tb.Fatal(err)
	}
	return src
}

// The notes say how much attacker text the digest cut, in every format.
func TestNotesSayWhatWasCut(t *testing.T) {
	cases := []struct {
		notes report.Notes
		want  string
	}{
		{report.Notes{CutUsers: 12, CutMatches: 40}, "12 user names and 40 log lines were cut, to 64 and 1000 characters."},
		{report.Notes{CutUsers: 1}, "1 user name was cut to 64 characters."},
		{report.Notes{CutMatches: 3}, "3 log lines were cut to 1000 characters."},
		{report.Notes{CappedOffenders: 2}, "2 offenders had more user names and log lines than 4000 characters hold; the rest are counted as more."},
	}
	for _, f := range formats {
		for _, c := range cases {
			d := sampleDigest()
			d.Notes = c.notes
			got, err := mustDefault(t, f, utc).Render(d)
			if err != nil {
				t.Fatal(err)
			}
			if f == Text { // its notes are wrapped at 80 columns
				got = strings.ReplaceAll(got, "\n    ", " ")
			}
			if !strings.Contains(got, c.want) {
				t.Errorf("%s: notes %+v: no %q in\n%s", f, c.notes, c.want, got)
			}
		}
	}
}

// TestStandOutLine: the at-a-glance line of what stands out says it in
// words: jails banning for the first time, a spike with its bucket (the
// day too when the report spans more than a day) and how far above the
// average, an address several jails banned.
func TestStandOutLine(t *testing.T) {
	day := sampleDigest() // from 2024-05-01 08:12 to 2024-05-02 21:40: more than a day
	for _, tt := range []struct {
		so   *report.StandOut
		to   time.Time
		want string
	}{
		{&report.StandOut{NewJails: []string{"dovecot"}}, day.To, "First bans ever by jail dovecot"},
		{&report.StandOut{NewJails: []string{"dovecot", "nginx", "sshd"}}, day.To, "First bans ever by jails dovecot, nginx and sshd"},
		{&report.StandOut{Spike: &report.Spike{At: at("2024-05-02T14:00:00Z"), Step: time.Hour, Bans: 42, Times: 9.4}}, day.To,
			"Spike: 42 bans in the hour from May 2 14:00, 9× the average"},
		{&report.StandOut{Spike: &report.Spike{At: at("2024-05-01T14:00:00Z"), Step: time.Hour, Bans: 42, Times: 9.4}}, at("2024-05-01T23:00:00Z"),
			"Spike: 42 bans in the hour from 14:00, 9× the average"},
		{&report.StandOut{Spike: &report.Spike{At: at("2024-05-01T00:00:00Z"), Step: 24 * time.Hour, Bans: 400, Times: 5}}, day.To,
			"Spike: 400 bans in the day from May 1, 5× the average"},
		{&report.StandOut{Address: "203.0.113.7", Jails: []string{"dovecot", "postfix-sasl", "sshd"}}, day.To,
			"203.0.113.7 was banned by 3 jails: dovecot, postfix-sasl and sshd"},
	} {
		d := sampleDigest()
		d.StandsOut, d.To = tt.so, tt.to
		got, err := mustDefault(t, Text, utc).Render(d)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("the report does not say %q:\n%s", tt.want, got)
		}
	}
}
