package templates

import (
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/report"
)

// TestFuncs runs every function of the map through a text template, as a
// user's template calls it.
func TestFuncs(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	summer := at("2024-07-01T12:00:00Z")
	offenders := []report.Offender{{IP: "a"}, {IP: "b"}, {IP: "c"}}
	tests := []struct {
		name    string
		loc     *time.Location
		src     string
		data    any
		want    string
		wantErr string
	}{
		{"wrap", time.UTC, `{{wrap 10 "  " .}}`, "one two three four", "one two\n  three four", ""},
		{"wrap long word", time.UTC, `{{wrap 4 "> " .}}`, "a verylongword b", "a\n> verylongword\n> b", ""},
		{"wrap keeps other spaces", time.UTC, `{{wrap 8 "" .}}`, "a  b\tc d e", "a  b\tc d\ne", ""},
		{"wrap fits", time.UTC, `{{wrap 80 "  " .}}`, "short line", "short line", ""},
		{"date utc", time.UTC, `{{date "2006-01-02 15:04 MST" .}}`, summer, "2024-07-01 12:00 UTC", ""},
		{"date paris", paris, `{{date "2006-01-02 15:04 MST" .}}`, summer, "2024-07-01 14:00 CEST", ""},
		{"date paris winter", paris, `{{date "15:04 MST" .}}`, at("2024-01-01T12:00:00Z"), "13:00 CET", ""},
		{"date pipeline", time.UTC, `{{. | date "Jan 02"}}`, summer, "Jul 01", ""},
		{"date zero", paris, `{{date "2006-01-02" .}}`, time.Time{}, "-", ""},
		{"date not a time", time.UTC, `{{date "2006" .}}`, "2024", "", "date: want a time, got string"},
		{"inZone", time.UTC, `{{inZone "Europe/Paris" . | date "15:04 MST"}}`, summer, "14:00 CEST", ""},
		{"inZone method", time.UTC, `{{(inZone "America/New_York" .).Format "15:04"}}`, summer, "08:00", ""},
		{"inZone chained", paris, `{{inZone "UTC" (inZone "Asia/Tokyo" .) | date "15:04"}}`, summer, "12:00", ""},
		{"inZone zero", time.UTC, `{{inZone "Europe/Paris" . | date "15:04"}}`, time.Time{}, "-", ""},
		{"inZone unknown", time.UTC, `{{inZone "Mars/Olympus_Mons" .}}`, summer, "", `inZone: unknown time zone Mars/Olympus_Mons`},
		{"inZone path", time.UTC, `{{inZone "../../etc/passwd" .}}`, summer, "", `inZone: `},
		{"inZone not a time", time.UTC, `{{inZone "UTC" 3}}`, nil, "", "inZone: want a time, got int"},
		{"duration seconds", nil, `{{duration 0}} {{duration 45}} {{duration 600}} {{duration 5400}} {{duration 90061}} {{duration 3601}}`, nil, "0s 45s 10m 1h30m 1d1h 1h", ""},
		{"duration int64", nil, `{{duration .Bantime}}`, report.Offender{Bantime: 86400 * 7}, "7d", ""},
		{"duration Duration", nil, `{{duration (.To.Sub .From)}}`, report.Digest{From: summer, To: summer.Add(150 * time.Minute)}, "2h30m", ""},
		{"duration negative", nil, `{{duration -90}}`, nil, "-1m30s", ""},
		{"duration not a number", nil, `{{duration "1h"}}`, nil, "", "duration: want an integer, got string"},
		{"truncate short", nil, `{{truncate 5 "abcde"}}`, nil, "abcde", ""},
		{"truncate cut", nil, `{{truncate 5 "abcdef"}}`, nil, "abcd…", ""},
		{"truncate runes", nil, `{{truncate 4 "héllo wörld"}}|{{truncate 3 "日本語です"}}`, nil, "hél…|日本…", ""},
		{"truncate zero", nil, `[{{truncate 0 "abc"}}][{{truncate 1 "abc"}}][{{truncate -1 "abc"}}]`, nil, "[][…][]", ""},
		{"join strings", nil, `{{join ", " .}}`, []string{"root", "admin"}, "root, admin", ""},
		{"join ints", nil, `{{join "+" .}}`, []int{1, 2, 3}, "1+2+3", ""},
		{"join nil", nil, `[{{join ", " .}}]`, []string(nil), "[]", ""},
		{"join not a list", nil, `{{join ", " 3}}`, nil, "", "join: want a list, got int"},
		{"plural", nil, `{{plural 0 "ban" "bans"}} {{plural 1 "ban" "bans"}} {{plural 2 "ban" "bans"}}`, nil, "bans ban bans", ""},
		{"plural field", nil, `{{plural .Bans "ban" "bans"}}`, report.JailStat{Bans: 1}, "ban", ""},
		{"plural not a number", nil, `{{plural "1" "a" "b"}}`, nil, "", "plural: want an integer"},
		{"padRight", nil, `[{{padRight 6 "ab"}}][{{padRight 2 "abcd"}}][{{padRight 4 "日本"}}]`, nil, "[ab    ][abcd][日本  ]", ""},
		{"padLeft", nil, `[{{padLeft 6 42}}][{{padLeft 1 "abc"}}][{{padLeft 3 "é"}}]`, nil, "[    42][abc][  é]", ""},
		{"first offenders", nil, `{{range first 2 .}}{{.IP}}{{end}}`, offenders, "ab", ""},
		{"first more than len", nil, `{{range first 10 .}}{{.IP}}{{end}}`, offenders, "abc", ""},
		{"first strings", nil, `{{join "," (first 1 .)}}`, []string{"x", "y"}, "x", ""},
		{"first negative", nil, `[{{range first -1 .}}{{.}}{{end}}]`, []string{"x"}, "[]", ""},
		{"first nil", nil, `[{{range first 2 .}}{{.}}{{end}}]`, nil, "[]", ""},
		{"first not a list", nil, `{{first 1 "abc"}}`, nil, "", "first: want a list, got string"},
		{"count", nil, `{{count .Offenders}} {{count .Jails}} {{count .Host}}`, report.Digest{Offenders: offenders, Host: "abc"}, "3 0 3", ""},
		{"count not a list", nil, `{{count 3}}`, nil, "", "count: want a list, got int"},
		{"add sub", nil, `{{add 2 3}} {{sub (count .) 2}} {{add (index . 0).Bantime 1}}`, offenders, "5 1 1", ""},
		{"add not a number", nil, `{{add 1 "2"}}`, nil, "", "add: want an integer, got string"},
		{"upper lower", nil, `{{upper "sshd"}} {{lower "SSHD"}}`, nil, "SSHD sshd", ""},
		{"md inline", nil, `{{md .}}`, "`*bold*` _x_ [a](b) <b> #1 a|b ~s~ \\ &amp; 1. - ok", "\\`\\*bold\\*\\` \\_x\\_ \\[a\\](b) \\<b\\> #1 a\\|b \\~s\\~ \\\\ \\&amp; 1. - ok", ""},
		{"md line start", nil, `{{md "# h"}}|{{md "- x"}}|{{md "+ x"}}|{{md "> q"}}|{{md "=="}}|{{md "![i](u)"}}|{{md "12. x"}}|{{md "3) x"}}`, nil,
			`\# h|\- x|\+ x|\> q|\==|\!\[i\](u)|12\. x|3\) x`, ""},
		{"md plain", nil, `{{md "203.0.113.7"}} {{md "2001:db8::1"}} {{md "web-1.example.org"}} {{md "{{.Host}}"}}`, nil, "203.0.113.7 2001:db8::1 web-1.example.org {{.Host}}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := New(tt.name, Text, tt.src, Options{Location: tt.loc})
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			err = tmpl.text.Execute(&b, tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v; want an error containing %q", b.String(), err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got  %q\nwant %q", b.String(), tt.want)
			}
		})
	}
}

// TestDateDefaultsToLocal checks that a nil Options.Location means time.Local.
func TestDateDefaultsToLocal(t *testing.T) {
	tm := at("2024-07-01T12:00:00Z")
	tmpl, err := New("local", Text, `{{date "2006-01-02 15:04 MST" .}}`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tmpl.text.Execute(&b, tm); err != nil {
		t.Fatal(err)
	}
	if want := tm.In(time.Local).Format("2006-01-02 15:04 MST"); b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// TestFuncsInHTML checks that function results are escaped like any value.
func TestFuncsInHTML(t *testing.T) {
	tmpl, err := New("f.html", HTML, `<p>{{join ", " .}}|{{truncate 10 (index . 0)}}|{{padRight 3 (index . 1)}}</p>`, utc)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tmpl.html.Execute(&b, []string{"<i>x</i>", "&"}); err != nil {
		t.Fatal(err)
	}
	if want := "<p>&lt;i&gt;x&lt;/i&gt;, &amp;|&lt;i&gt;x&lt;/i&gt;|&amp;  </p>"; b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}
