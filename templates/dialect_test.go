package templates

import (
	"slices"
	"strings"
	"testing"

	"github.com/f2b-notify/f2b-notify/report"
)

func TestAutoEscapeReachesEveryPrintingAction(t *testing.T) {
	bang := &Dialect{Format: "test-bang", Escape: func(s string) string { return strings.ReplaceAll(s, "*", "!") }}
	// A user's template: values in actions, ranges, ifs, withs, sub-templates
	// and pipelines are escaped; template text, variables' declarations and
	// safe values are not.
	src := `*{{.Host}}*{{$h := .Host}}{{$h}}{{range .Jails}}[{{.Name}}]{{end}}` +
		`{{if .Host}}{{printf "%s" .Host}}{{end}}{{with .Host}}{{.}}{{end}}` +
		`{{define "x"}}<{{.}}>{{end}}{{template "x" .Host}}{{safe "*ok*"}}{{code "a` + "`" + `b"}}{{.Host | safe}}`
	tmpl, err := newTemplate("user.tmpl", bang, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Render(&report.Digest{Host: "*h*", Jails: []report.JailStat{{Name: "*j*"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "*!h!*!h![!j!]!h!!h!<!h!>*ok*a\u02cbb*h*"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := New("x", "nope", "", Options{}); err == nil || !strings.Contains(err.Error(), "markdown") {
		t.Errorf("error %v should list the known formats", err)
	}
}

// TestEveryFormatIsBuiltIn: the chat dialects are known to this package
// alone, each with its default report from default/.
func TestEveryFormatIsBuiltIn(t *testing.T) {
	want := []Format{Discord, HTML, JSON, Markdown, Matrix, Slack, SMS, Teams, Telegram, Text}
	if got := Formats(); !slices.Equal(got, want) {
		t.Errorf("Formats() = %v, want %v", got, want)
	}
	files, err := defaults.ReadDir("default")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Errorf("default/ holds %d templates for %d formats", len(files), len(want))
	}
	for _, f := range want {
		src, err := Default(f)
		if err != nil || !strings.HasPrefix(src, "{{- /* ") {
			t.Errorf("format %s: default %.80q, %v", f, src, err)
		}
		if _, err := New("default", f, src, Options{}); err != nil {
			t.Errorf("format %s: %v", f, err)
		}
	}
	if got := Escape(Slack, "<!channel> *x*"); got != "&lt;!channel&gt; \u2217x\u2217" {
		t.Errorf("Escape(slack) = %q", got)
	}
	if got := Escape(Text, "<b>"); got != "<b>" {
		t.Errorf("Escape(text) = %q", got)
	}
}
