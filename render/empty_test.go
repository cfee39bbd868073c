package render_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/geoip"
	"github.com/f2b-notify/f2b-notify/internal/history"
	"github.com/f2b-notify/f2b-notify/internal/sample"
	"github.com/f2b-notify/f2b-notify/render"
	"github.com/f2b-notify/f2b-notify/report"
)

// renderAsKind renders d as a channel of kind k with its default formats,
// templates and limit would.
func renderAsKind(t *testing.T, k channels.Kind, d *report.Digest) channels.Message {
	t.Helper()
	ch := &fakeChannel{name: k.Name, formats: k.Formats, limit: k.Limit}
	target, err := render.NewTarget(ch, config.Channel{}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	m, err := target.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEmptyReportFitsEveryKind: the report that report.send_empty sends when
// there is no ban goes whole, in one message, through the default template
// of every channel kind's format, within the kind's limit (counted in bytes,
// which no kind's measure exceeds), long host and jail names included.
func TestEmptyReportFitsEveryKind(t *testing.T) {
	long := strings.Repeat("j", 200)
	d := &report.Digest{
		Host: strings.Repeat("h", 250) + ".example.org", Generated: time.Date(2026, 12, 1, 0, 17, 0, 0, time.UTC),
		Empty: true, Since: time.Date(2026, 11, 30, 0, 17, 0, 0, time.UTC),
		LastBans: &report.Previous{Time: time.Date(2026, 11, 28, 0, 17, 0, 0, time.UTC), Bans: 14, Jails: []history.JailTotal{
			{Jail: long + "1", Bans: 5}, {Jail: long + "2", Bans: 4}, {Jail: long + "3", Bans: 3}, {Jail: long + "4", Bans: 2},
		}},
	}
	running := *d
	running.Fail2ban = &report.Fail2ban{Running: true, JailsKnown: true, Jails: []string{long + "1", long + "2", long + "3", long + "4", long + "5"}}
	stopped := *d
	stopped.Fail2ban = &report.Fail2ban{Why: "no process 4242 for pid file /" + strings.Repeat("p", 200) + "/fail2ban.pid"}
	for _, c := range []struct {
		name string
		d    *report.Digest
		says string // in the report (the SMS summary: in lower case)
	}{
		{"unknown", d, ""},
		{"running", &running, "5 jails running"},
		{"stopped", &stopped, "fail2ban is not running"},
	} {
		for _, k := range channels.Kinds {
			t.Run(c.name+"/"+k.Name, func(t *testing.T) {
				m := renderAsKind(t, k, c.d)
				if len(m.Pages) > 1 {
					t.Errorf("%d messages, want 1", len(m.Pages))
				}
				body := m.Bodies[k.Formats[0]]
				if k.Limit > 0 && len(body) > k.Limit {
					t.Errorf("%d bytes, over the limit of %d:\n%s", len(body), k.Limit, body)
				}
				if k.Formats[0] == channels.SMSFormat {
					if !strings.Contains(body, "no bans since Nov 30 00:17") || !strings.Contains(strings.ToLower(body), strings.TrimPrefix(c.says, "fail2ban is ")) {
						t.Errorf("the summary does not say since when there were no bans, or %q:\n%s", c.says, body)
					}
				} else if k.Formats[0] != channels.JSONFormat && (!strings.Contains(body, "No bans since 2026-11-30 00:17 UTC") || !strings.Contains(body, c.says)) {
					t.Errorf("the report does not say since when there were no bans, or %q:\n%s", c.says, body)
				}
			})
		}
	}
}

// TestSampleReportFitsEveryKind: the demo's report, with providers,
// countries and history on each offender's row, fits every kind's limit with
// its default template (fewer rows where the limit is small), and the
// busiest offender's row says where it comes from (the JSON has the fields).
func TestSampleReportFitsEveryKind(t *testing.T) {
	end := time.Date(2024, 11, 25, 18, 0, 0, 0, time.UTC)
	b := report.NewBuilder(report.Options{Host: "web1.example.org", Generated: end, Geo: geoip.Demo(), History: sample.History(end)})
	for _, r := range sample.Records(end) {
		b.Add(r)
	}
	d := b.Digest()
	for _, k := range channels.Kinds {
		t.Run(k.Name, func(t *testing.T) {
			m := renderAsKind(t, k, d)
			body := m.Bodies[k.Formats[0]]
			if k.Limit > 0 && utf8.RuneCountInString(body) > k.Limit {
				t.Errorf("%d characters, over the limit of %d", utf8.RuneCountInString(body), k.Limit)
			}
			if !strings.Contains(body, "203.0.113.45") {
				// 1,024 characters (Pushover) hold the summary alone.
				if k.Limit == 0 || k.Limit >= 2000 {
					t.Errorf("the busiest offender is left out:\n%s", body)
				}
				return
			}
			if want := "AS64499 Test-Net Telecom (demo data) · BR Brazil · returning, 2 reports since Nov 18"; k.Formats[0] != channels.JSONFormat && k.Formats[0] != channels.SMSFormat && !strings.Contains(strings.ReplaceAll(body, "\n              ", " "), want) {
				t.Errorf("the busiest offender's row does not say %q:\n%s", want, body)
			}
		})
	}
}
