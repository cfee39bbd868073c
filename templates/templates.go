package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"os"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/report"
)

//go:embed default/*.tmpl
var defaults embed.FS

// MaxTemplateSize is the largest template file Load reads.
const MaxTemplateSize = 1 << 20

// MaxSubjectRunes is the longest subject Subject returns, in runes.
const MaxSubjectRunes = 200

// Options tune rendering.
type Options struct {
	// Location is the zone the date function shows times in.
	// Nil means time.Local, the zone of the machine.
	Location *time.Location
}

func (o Options) location() *time.Location {
	if o.Location == nil {
		return time.Local
	}
	return o.Location
}

// Default returns the source of the default report template for f.
func Default(f Format) (string, error) {
	d, err := Lookup(f)
	if err != nil {
		return "", err
	}
	return d.Default, nil
}

// DefaultSubject returns the default e-mail subject template, a text template
// for Subject.
func DefaultSubject() string {
	return `[Fail2Ban] {{.Host}}: ` +
		`{{if .Totals.Bans}}{{.Totals.Bans}} {{plural .Totals.Bans "ban" "bans"}}, ` +
		`{{.Totals.IPs}} {{plural .Totals.IPs "address" "addresses"}}, ` +
		`{{.Totals.Jails}} {{plural .Totals.Jails "jail" "jails"}}` +
		`{{else}}{{with .Fail2ban}}{{if not .Running}}fail2ban is not running, {{end}}{{end}}no bans{{if and .Empty (not .Since.IsZero)}} since {{date "2006-01-02 15:04 MST" .Since}}{{end}}{{end}}` +
		`{{if not .From.IsZero}} ({{date "2006-01-02 15:04" .From}} – {{date "2006-01-02 15:04 MST" .To}}){{end}}` +
		`{{if .Notes.MissedReports}} [{{.Notes.MissedReports}} missed {{plural .Notes.MissedReports "report" "reports"}}]{{end}}`
}

// Template is a parsed report template for one format. It is safe for
// concurrent use.
type Template struct {
	name   string
	format Format
	isHTML bool
	text   *texttemplate.Template
	html   *htmltemplate.Template
}

// New parses src as a report template named name (usually the file it came
// from, so that errors point at it) for format f. Text and Markdown templates
// are parsed with text/template, HTML templates with html/template, which
// escapes every value for its context. CRLF line endings in src are read as
// LF.
func New(name string, f Format, src string, opt Options) (*Template, error) {
	d, err := Lookup(f)
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", name, err)
	}
	return newTemplate(name, d, src, opt)
}

// newTemplate parses src as a template of dialect d.
func newTemplate(name string, d *Dialect, src string, opt Options) (*Template, error) {
	var err error
	src = strings.ReplaceAll(src, "\r\n", "\n")
	t := &Template{name: name, format: d.Format, isHTML: d.HTML}
	funcs := newFuncs(opt)
	code := d.Code
	if code == nil {
		code = backtickFree
	}
	if d.HTML {
		funcs["safe"] = func(v any) htmltemplate.HTML { return htmltemplate.HTML(fmt.Sprint(v)) }
		funcs["code"] = func(v any) string { return code(fmt.Sprint(v)) }
		t.html, err = htmltemplate.New(name).Option("missingkey=error").Funcs(htmltemplate.FuncMap(funcs)).Parse(src)
		if err == nil {
			err = t.escapeHTML()
		}
	} else {
		funcs["safe"] = func(v any) Safe { return Safe(fmt.Sprint(v)) }
		funcs["code"] = func(v any) Safe { return Safe(code(fmt.Sprint(v))) }
		escape := d.Escape
		if escape == nil {
			escape = func(s string) string { return s }
		}
		funcs[escapeFunc] = escaper(escape)
		t.text, err = texttemplate.New(name).Option("missingkey=error").Funcs(texttemplate.FuncMap(funcs)).Parse(src)
		if err == nil && d.Escape != nil {
			autoEscape(t.text)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", name, err)
	}
	return t, nil
}

// escapeHTML makes html/template escape the template now rather than at the
// first Execute, so that an escaping error (a value in an ambiguous context)
// is reported as a parse error. Errors of the execution itself are left for
// Execute to report with real data.
func (t *Template) escapeHTML() error {
	err := t.html.Execute(io.Discard, &report.Digest{})
	var herr *htmltemplate.Error
	if errors.As(err, &herr) {
		return err
	}
	return nil
}

// Load reads the template file at path and parses it for format f. The path
// names the template in error messages.
func Load(path string, f Format, opt Options) (*Template, error) {
	src, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	return New(path, f, src, opt)
}

func readFile(path string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer file.Close()
	b, err := io.ReadAll(io.LimitReader(file, MaxTemplateSize+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > MaxTemplateSize {
		return "", fmt.Errorf("read %s: larger than %d bytes", path, MaxTemplateSize)
	}
	return string(b), nil
}

// Name returns the template's name, as given to New or Load.
func (t *Template) Name() string { return t.name }

// Format returns the format the template renders.
func (t *Template) Format() Format { return t.format }

// Execute renders d and writes the result to w. Nothing is written when the
// template fails. Control characters other than newline and tab never reach
// w, nor do bidirectional controls: in Text and Markdown output they become
// visible escapes such as \x1b, in HTML output U+FFFD.
func (t *Template) Execute(w io.Writer, d *report.Digest) error {
	out, err := t.Render(d)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, out); err != nil {
		return fmt.Errorf("write output of template %s: %w", t.name, err)
	}
	return nil
}

// Render renders d and returns the result, filtered as for Execute.
func (t *Template) Render(d *report.Digest) (string, error) {
	if d == nil {
		d = &report.Digest{}
	}
	var buf bytes.Buffer
	var err error
	if t.html != nil {
		err = t.html.Execute(&buf, d)
	} else {
		err = t.text.Execute(&buf, d)
	}
	if err != nil {
		return "", fmt.Errorf("execute template %s: %w", t.name, err)
	}
	if t.isHTML {
		return filterHTML(buf.String()), nil
	}
	return filterText(buf.String()), nil
}

// Subject renders src, a text template, against d and returns one line fit
// for an e-mail subject: control characters, line breaks included, become
// spaces, runs of spaces become one, and the line is trimmed and cut to
// MaxSubjectRunes runes.
func Subject(src string, d *report.Digest, opt Options) (string, error) {
	t, err := New("subject", Text, src, opt)
	if err != nil {
		return "", err
	}
	if d == nil {
		d = &report.Digest{}
	}
	var buf bytes.Buffer
	if err := t.text.Execute(&buf, d); err != nil {
		return "", fmt.Errorf("execute template %s: %w", t.name, err)
	}
	return oneLine(buf.String(), MaxSubjectRunes), nil
}

// filterText replaces, in text meant for a console or a chat, every control
// character but newline and tab, and every bidirectional control, by the
// visible escape report.Neutralise gives it. Invalid UTF-8 becomes U+FFFD.
func filterText(s string) string { return filterRunes(s, report.Neutralise) }

// filterHTML replaces every control character but newline and tab, every
// bidirectional control, and invalid UTF-8 by U+FFFD, which needs no escaping
// in any HTML context.
func filterHTML(s string) string {
	return filterRunes(s, func(string) string { return string(utf8.RuneError) })
}

// filterRunes replaces in s every control character but newline and tab,
// and every bidirectional control, by what replace gives for it, and each
// byte of invalid UTF-8 by U+FFFD.
func filterRunes(s string, replace func(char string) string) string {
	if isSafeASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case textutil.IsControl(r) || textutil.IsBidi(r):
			b.WriteString(replace(s[i : i+size]))
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// oneLine turns s into a single trimmed line of at most max runes: control
// and bidirectional characters count as spaces, and invalid UTF-8 becomes
// U+FFFD.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if textutil.IsControl(r) || textutil.IsBidi(r) {
			return ' '
		}
		return r
	}, s)
	return truncate(max, textutil.OneLine(s))
}

// isSafeASCII reports whether s holds only printable ASCII, newlines and tabs.
func isSafeASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f {
			return false
		}
	}
	return true
}
