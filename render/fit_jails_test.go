package render_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/report"
)

// manyJails is a digest of one ban in each of n jails with long names: its
// jails table alone is larger than a chat message.
func manyJails(n int) *report.Digest {
	b := report.NewBuilder(report.Options{Host: "vm"})
	for i := range n {
		b.Add(&buffer.Record{V: 1, Action: buffer.ActionBan, Jail: fmt.Sprintf("jail-%02d-%s", i, strings.Repeat("x", 40)),
			IP: fmt.Sprintf("10.0.%d.%d", i>>8, i&255), Time: float64(1000 + i), Failures: 1})
	}
	return b.Digest()
}

// A report whose jails table alone does not fit the channel is still sent:
// cut to the jails that fit, with the totals, never dropped. (It was refused
// as "does not fit even without offender rows", so that channel never got
// those bans.)
func TestFitCutsJailRowsWhenTheyAloneDoNotFit(t *testing.T) {
	for _, split := range []bool{false, true} {
		ch := &fakeChannel{name: "small", limit: 2000, split: split}
		tg := target(t, ch)
		d := manyJails(80)
		m, err := tg.Render(d)
		if err != nil {
			t.Fatalf("split %v: %v", split, err)
		}
		pages := m.Messages(channels.Text)
		for i, p := range pages {
			if n := utf8.RuneCountInString(p); n > 2000 {
				t.Errorf("split %v: page %d is %d characters, limit 2000", split, i+1, n)
			}
			if !strings.Contains(p, "80") {
				t.Errorf("split %v: page %d lost the totals:\n%s", split, i+1, p)
			}
			// The reader is told how many jail rows are missing.
			shown := strings.Count(p, "jail-")
			if shown == 0 || shown >= 80 {
				t.Fatalf("split %v: page %d shows %d of 80 jails", split, i+1, shown)
			}
			want := fmt.Sprintf("%d more jails were left out", 80-shown)
			if !strings.Contains(p, want) {
				t.Errorf("split %v: page %d shows %d jails and lacks %q:\n%s", split, i+1, shown, want, p)
			}
		}
	}
}
