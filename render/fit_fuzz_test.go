package render_test

import (
	"fmt"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/render"
	"github.com/f2b-notify/f2b-notify/report"
)

var fitFormats = []channels.Format{channels.Text, channels.Markdown, channels.HTML,
	channels.SlackFormat, channels.DiscordFormat, channels.TeamsFormat, channels.TelegramHTML, channels.MatrixFormat, channels.JSONFormat}

// FuzzFit renders digests of every size and content for channels of every
// format, limit and split mode through Target.Render: it never panics, and
// every message it returns fits the limit; if nothing fits, it says so with
// an error and returns nothing.
func FuzzFit(f *testing.F) {
	f.Add(uint16(4096), uint8(50), uint8(3), uint8(2), "root", "Failed password", false, uint8(0))
	f.Add(uint16(300), uint8(200), uint8(40), uint8(9), "<b>x</b>", "\x1b[31m*x*", true, uint8(4))
	f.Add(uint16(2000), uint8(1), uint8(120), uint8(0), "é漢字😀", "`code` @everyone", true, uint8(6))
	f.Add(uint16(10), uint8(3), uint8(1), uint8(1), "", "", false, uint8(2))
	f.Add(uint16(0), uint8(5), uint8(2), uint8(3), "u", "m", true, uint8(8))
	f.Fuzz(func(t *testing.T, limit uint16, offenders, jails, unbans uint8, user, match string, split bool, format uint8) {
		// jails/40 (0 to 6) picks the cap of a split report's messages.
		ch := &fakeChannel{name: "fit", formats: []channels.Format{fitFormats[int(format)%len(fitFormats)]}, limit: int(limit % 12000), split: split, maxPages: int(jails/40) % 4}
		tg, err := render.NewTarget(ch, config.Channel{Type: "fit"}, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		b := report.NewBuilder(report.Options{Host: "fuzz.example"})
		nj := int(jails%40) + 1
		for i := range int(offenders % 60) {
			b.Add(&buffer.Record{V: 1, Action: buffer.ActionBan, Jail: fmt.Sprintf("jail-%d", i%nj), IP: fmt.Sprintf("10.0.%d.%d", i>>8, i&255),
				Time: float64(1000 + i), Failures: i, User: user, Matches: []string{match}})
		}
		for i := range int(unbans % 20) {
			b.Add(&buffer.Record{V: 1, Action: buffer.ActionUnban, Jail: "sshd", IP: fmt.Sprintf("10.1.0.%d", i), Time: float64(5000 + i)})
		}
		m, err := tg.Render(b.Digest())
		if err != nil {
			if !channels.IsPermanent(err) {
				t.Fatalf("a report that does not fit gave a retryable error: %v", err)
			}
			return
		}
		pages := m.Messages(ch.formats[0])
		if ch.maxPages > 0 && len(pages) > ch.maxPages {
			t.Fatalf("%s, limit %d: %d messages, cap %d", ch.formats[0], ch.limit, len(pages), ch.maxPages)
		}
		if ch.limit > 0 {
			for i, p := range pages {
				if n := utf8.RuneCountInString(p); n > ch.limit {
					t.Fatalf("%s, limit %d, split %v: message %d of %d is %d characters", ch.formats[0], ch.limit, split, i+1, len(pages), n)
				}
			}
		}
	})
}
