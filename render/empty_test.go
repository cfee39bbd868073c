package render_test

import (
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/history"
	"github.com/f2b-notify/f2b-notify/render"
	"github.com/f2b-notify/f2b-notify/report"
)

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
	for _, k := range channels.Kinds {
		t.Run(k.Name, func(t *testing.T) {
			ch := &fakeChannel{name: k.Name, formats: k.Formats, limit: k.Limit}
			target, err := render.NewTarget(ch, config.Channel{}, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			m, err := target.Render(d)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Pages) > 1 {
				t.Errorf("%d messages, want 1", len(m.Pages))
			}
			body := m.Bodies[k.Formats[0]]
			if k.Limit > 0 && len(body) > k.Limit {
				t.Errorf("%d bytes, over the limit of %d:\n%s", len(body), k.Limit, body)
			}
			if k.Formats[0] != channels.JSONFormat && !strings.Contains(body, "No bans since 2026-11-30 00:17 UTC") {
				t.Errorf("the report does not say since when there were no bans:\n%s", body)
			}
		})
	}
}
