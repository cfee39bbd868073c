package templates

import (
	"strings"
	"testing"

	"github.com/f2b-notify/f2b-notify/report"
)

func TestAutoEscapeReachesEveryPrintingAction(t *testing.T) {
	Register(Dialect{Format: "test-bang", Escape: func(s string) string { return strings.ReplaceAll(s, "*", "!") }})
	// A user's template: values in actions, ranges, ifs, withs, sub-templates
	// and pipelines are escaped; template text, variables' declarations and
	// safe values are not.
	src := `*{{.Host}}*{{$h := .Host}}{{$h}}{{range .Jails}}[{{.Name}}]{{end}}` +
		`{{if .Host}}{{printf "%s" .Host}}{{end}}{{with .Host}}{{.}}{{end}}` +
		`{{define "x"}}<{{.}}>{{end}}{{template "x" .Host}}{{safe "*ok*"}}{{code "a` + "`" + `b"}}{{.Host | safe}}`
	tmpl, err := New("user.tmpl", "test-bang", src, Options{})
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
